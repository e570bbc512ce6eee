"""A sync in a process of its own, for the fault tests: `python -m tests.snapshots.child_sync URL HOUR [--lease S]`.

Runs `snapshot_sync` against the replay at URL into the batch of HOUR (ISO 8601) on the database of DATABASE_URL,
with the test settings, core sources only and the lease given, then prints one JSON line: the batch's id and
status, and the peak RSS growth of this process over its idle state around the sync (Linux's VmHWM after
resetting it, as bench/snapshots.py measures it) next to `ru_maxrss`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
from pathlib import Path


def rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("hour", type=dt.datetime.fromisoformat)
    parser.add_argument("--lease", type=float, default=60.0, help="SNAPSHOTS_LEASE_SECONDS")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "modelgraph.settings.test")
    import django

    django.setup()
    from django.conf import settings

    settings.SNAPSHOTS_LEASE_SECONDS = args.lease
    settings.SNAPSHOTS_EXTRAS = ()
    settings.SNAPSHOTS_TIMEOUT = 120.0  # a request the replay holds is waited for, not timed out
    settings.SNAPSHOTS_BACKOFF = 0.01

    from snapshots.models import Batch
    from snapshots.services import snapshot_sync

    Batch.objects.exists()  # connected before the idle figure is taken
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    idle = rss_kib("VmRSS")
    batch = snapshot_sync(base_url=args.base_url, now=args.hour + dt.timedelta(minutes=5))
    growth = rss_kib("VmHWM") - idle
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"batch": batch.pk, "status": batch.status, "rss_growth_kib": growth, "ru_maxrss_kib": maxrss}))


if __name__ == "__main__":
    main()
