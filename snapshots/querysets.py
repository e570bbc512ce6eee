"""Query shapes of the archive: named for what the caller wants."""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, Q


def batch_reports(path: str) -> tuple[str, str]:
    """A related batch's JSON reports, never needed when only its hour is shown."""
    return f"{path}__validation", f"{path}__stats"


class BatchQuerySet(models.QuerySet):
    def complete(self):
        return self.filter(complete=True)

    def newest_complete(self):
        return self.complete().order_by("-hour").first()


class EntityVersionQuerySet(models.QuerySet):
    def alive_at(self, batch):
        """The versions valid at `batch`: first seen at or before it, last seen at or after it."""
        return self.filter(alive_at(batch.hour))

    def for_history(self):
        return (
            self.select_related("first_batch", "last_batch", "entity__last_seen")
            .defer(*batch_reports("first_batch"), *batch_reports("last_batch"), *batch_reports("entity__last_seen"))
            .order_by("first_batch__hour", "id")
        )


def alive_at(hour) -> Q:
    """Versions first seen at or before `hour` and last seen at or after it (an open version: its entity's).

    A listed entity's row is not rewritten each hour: it was seen by every complete batch since its `last_seen`
    (see `Entity.seen_until`), so its open version is alive at any hour up to the newest complete batch."""
    from snapshots.models import Batch

    complete_since = Exists(Batch.objects.filter(complete=True, hour__gte=hour))
    still_listed = ~Q(entity__state="absent") & Q(complete_since)
    return Q(first_batch__hour__lte=hour) & (
        Q(last_batch__hour__gte=hour)
        | (Q(last_batch__isnull=True) & (Q(entity__last_seen__hour__gte=hour) | still_listed))
    )


class EventQuerySet(models.QuerySet):
    def for_api(self):
        return (
            self.select_related("batch", "entity")
            .defer(*batch_reports("batch"))
            .order_by("-batch__hour", "entity__kind", "entity__key", "kind")
        )

    def of_provider(self, provider_key: str):
        return self.filter(entity__provider_key=provider_key)

    def since(self, hour):
        return self.filter(batch__hour__gte=hour)
