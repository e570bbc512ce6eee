"""Recovery on a schedule: the task django-q2 runs every minute probes cooled-down offers and providers with no traffic
at all; what answers comes back, what still fails stays out for twice as long, what still cools down is left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task, result

from modelgraph.schedules import PREFIX, schedules_sync
from routing.models import EventKind, RouteState, RouteStateValue
from routing.services import route_state_deactivate
from routing.tasks import probe_due

# The task's router reads the database from its own thread: rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)
NAME = PREFIX + "routing-probe-due"


def deactivate(*, ago: float, cooldown: float = 60, **subject) -> None:
    route_state_deactivate(
        reason="test", cooldown_seconds=cooldown, now=timezone.now() - timedelta(seconds=ago), **subject
    )


class TestScheduledProbe:
    def test_an_offer_whose_cooldown_passed_recovers_when_its_upstream_answers(self, catalogue, upstreams):
        deactivate(mapping_id=catalogue.mappings["chat-model@c"].pk, ago=120)
        assert probe_due() == {"probed": 1, "recovered": 1}
        state = RouteState.objects.get()
        assert state.state == RouteStateValue.ACTIVE and state.deactivated_until is None
        assert list(state.events.values_list("kind", flat=True).order_by("at", "pk")) == [
            EventKind.MODEL_DEACTIVATED,
            EventKind.MODEL_RECOVERED,
        ]
        (probe,) = upstreams.c.requests
        assert probe["json"]["model"] == "chat-model-c" and probe["json"]["max_tokens"] == 1

    def test_one_still_failing_stays_deactivated_with_a_doubled_cooldown(self, catalogue, upstreams):
        upstreams.c.configure(status=500)
        deactivate(mapping_id=catalogue.mappings["chat-model@c"].pk, ago=120, cooldown=60)
        started = timezone.now()
        assert probe_due() == {"probed": 1, "recovered": 0}
        state = RouteState.objects.get()
        assert state.state == RouteStateValue.DEACTIVATED and state.failed_probes == 1
        remaining = (state.deactivated_until - started).total_seconds()
        assert 120 <= remaining < 130  # twice the 60 s cooldown, from the probe
        assert state.events.filter(kind=EventKind.MODEL_PROBE_FAILED).count() == 1
        assert "500" in state.last_error

    def test_a_provider_recovers_through_its_model_list(self, catalogue, upstreams):
        deactivate(provider_id=catalogue.providers["b"].pk, ago=300, cooldown=60)
        assert probe_due() == {"probed": 1, "recovered": 1}
        assert RouteState.objects.get().state == RouteStateValue.ACTIVE
        assert [r["path"] for r in upstreams.b.requests] == ["/v1/models"]

    def test_members_still_cooling_down_are_not_probed(self, catalogue, upstreams):
        deactivate(mapping_id=catalogue.mappings["chat-model@a"].pk, ago=10, cooldown=60)
        assert probe_due() == {"probed": 0, "recovered": 0}
        assert upstreams.a.requests == []
        assert RouteState.objects.get().state == RouteStateValue.DEACTIVATED


class TestSchedule:
    def test_the_schedule_is_synced_every_minute_and_runs_the_probe_task(self, catalogue, upstreams):
        schedules_sync()
        schedule = Schedule.objects.get(name=NAME)
        assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1)
        deactivate(mapping_id=catalogue.mappings["coder-model@a"].pk, ago=120)
        task_id = async_task(schedule.func)  # the test cluster runs tasks synchronously, as a worker would
        assert result(task_id) == {"probed": 1, "recovered": 1}
        assert RouteState.objects.get().state == RouteStateValue.ACTIVE
