"""`manage.py probe` with progress output, and telemetry's django-q2 schedules synced by name."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_q.models import Schedule

from telemetry.models import HealthCheck, LatencySample
from telemetry.schedules import SCHEDULES, sync_schedules

pytestmark = pytest.mark.django_db


class TestProbeCommand:
    def test_both_rounds_run_with_progress_and_a_summary(self, fake_provider, make_provider, make_mapping):
        provider = make_provider("acme")
        make_mapping(provider, provider_model_id="fake-model")
        make_mapping(provider, provider_model_id="other")
        fake_provider.configure(models=["fake-model", "other"])
        fake_provider.configure("other", status=500)
        out = StringIO()
        call_command("probe", "--timeout", "2", stdout=out)
        lines = out.getvalue().splitlines()
        assert [line.split()[:2] for line in lines if line.startswith("[")] == [
            ["[1/3]", "health"],
            ["[2/3]", "health"],
            ["[3/3]", "health"],
            ["[1/2]", "latency"],
            ["[2/2]", "latency"],
        ]
        assert any("acme/other" in line and "failure" in line and "server_error" in line for line in lines)
        assert lines[3].startswith("health: 3 probes in") and lines[3].endswith("(1 failure, 2 success)")
        assert lines[6].startswith("latency: 2 probes in") and lines[6].endswith("(1 failure, 1 success)")
        assert HealthCheck.objects.count() == 3 and LatencySample.objects.count() == 2

    def test_only_one_kind_for_one_provider(self, fake_provider, make_provider, make_mapping):
        make_mapping(make_provider("acme"))
        make_mapping(make_provider("other"))
        call_command("probe", "--latency", "--provider", "other", stdout=StringIO())
        assert HealthCheck.objects.count() == 0
        assert list(LatencySample.objects.values_list("provider__slug", flat=True)) == ["other"]

    def test_unknown_provider_is_an_error(self):
        with pytest.raises(CommandError):
            call_command("probe", "--provider", "nobody", stdout=StringIO())


class TestSchedules:
    def test_sync_creates_each_schedule_once_by_name(self):
        sync_schedules()
        names = sync_schedules()
        assert Schedule.objects.filter(name__in=names).count() == len(SCHEDULES) == 4
        health = Schedule.objects.get(func="telemetry.tasks.probe_health")
        assert (health.schedule_type, health.minutes) == (Schedule.MINUTES, 5)
        assert Schedule.objects.get(func="telemetry.tasks.probe_latency").minutes == 15
        assert Schedule.objects.get(func="telemetry.tasks.purge").schedule_type == Schedule.DAILY
        assert Schedule.objects.get(func="telemetry.tasks.refresh_summaries").minutes == 1
