"""Cache invalidation is coalesced: one bump per transaction, whatever the number of rows it writes."""

from __future__ import annotations

import pytest
from django.db import transaction

from catalog.models import Model, Provider
from modelgraph.api import cache as api_cache


def _bumps() -> int:
    return api_cache.bump_count


@pytest.mark.django_db(transaction=True)
class TestCoalescedInvalidation:
    def test_many_rows_in_one_transaction_bump_once_after_commit(self):
        before = _bumps()
        with transaction.atomic():
            creator = Provider.objects.create(slug="lab", name="Lab")
            for i in range(20):
                Model.objects.create(slug=f"m-{i}", name=f"M {i}", creator=creator)
            assert _bumps() == before, "nothing is bumped before the commit"
        assert _bumps() == before + 1

    def test_a_rolled_back_transaction_bumps_nothing_and_the_next_one_still_bumps(self):
        before = _bumps()
        with pytest.raises(RuntimeError), transaction.atomic():
            Provider.objects.create(slug="gone", name="Gone")
            raise RuntimeError("roll back")
        assert _bumps() == before
        with transaction.atomic():
            Provider.objects.create(slug="kept", name="Kept")
        assert _bumps() == before + 1

    def test_rows_written_on_both_sides_of_a_rolled_back_savepoint_are_all_invalidated(self):
        before = _bumps()
        with transaction.atomic():
            Provider.objects.create(slug="outer-a", name="A")
            try:
                with transaction.atomic():
                    Provider.objects.create(slug="inner", name="Inner")
                    raise RuntimeError("savepoint rolled back")
            except RuntimeError:
                pass
            Provider.objects.create(slug="outer-b", name="B")
        assert _bumps() == before + 1

    def test_a_write_outside_a_transaction_bumps_at_once(self):
        before = _bumps()
        Provider.objects.create(slug="autocommit", name="Autocommit")
        assert _bumps() == before + 1
