"""Probe every offer and provider whose cooldown is over now (a schedule does it every minute; traffic does too)."""

from django.core.management.base import BaseCommand

from routing.recovery import routing_probe_due


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        done = routing_probe_due()
        self.stdout.write(f"probed {done.probed}, recovered {done.recovered}")
