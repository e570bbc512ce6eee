"""Every bench/ script still runs: its smoke mode (tiny sizes, seconds) end to end, in a subprocess, on its own
PostgreSQL database; it must exit 0 and print its figures. A benchmark that cannot run fails here, not on the day
someone needs its numbers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
# Each script and a line its report always prints (its figures follow it).
SCRIPTS = {
    "api": "/api/resolve",
    "catalog_download": "cached p50/p95",
    "gateway": "request log:",
    "ingest": "first cycle:",
    "key_limits": "key limits:",
    "pages": "p50 < 100 ms",
    "prices": "second, unchanged cycle:",
    "registry_load": "targets:",
    "resolution": "targets:",
    "snapshots": "sync wall time:",
    "snapshot_coverage": "extras archive cost:",
    "telemetry": "targets:",
}


def test_every_bench_script_is_covered():
    # Not benchmarks: shared helpers, and the script that builds the resolution corpus.
    helpers = {"common", "registry_gen", "settings", "urls", "static_body", "price_files", "resolution_corpus"}
    helpers.add("snapshot_series")  # the real series of bench/snapshots.py --real
    assert {path.stem for path in (ROOT / "bench").glob("*.py")} - helpers == set(SCRIPTS)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_smoke_run(name):
    db = settings.DATABASES["default"]  # the test run's server and user; a database of the script's own
    database = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/mg_bench_{name}"
    redis = "redis://127.0.0.1:6379/7"  # flushed by some scripts: a database of its own
    env = {
        **os.environ,
        "BENCH_SMOKE": "1",
        "DATABASE_URL": database,
        "BENCH_DATABASE_URL": database,  # what bench/common.py's setup_django uses
        "BENCH_API_DATABASE_URL": database,  # bench/api.py's own
        "REDIS_URL": redis,
        "BENCH_REDIS_URL": redis,
        "BENCH_API_REDIS_URL": redis,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the scripts choose theirs (the test settings are not what they measure)
    result = subprocess.run(
        [sys.executable, f"bench/{name}.py", "--smoke"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert SCRIPTS[name] in result.stdout, output[-4000:]
    assert any(char.isdigit() for line in result.stdout.splitlines() for char in line), result.stdout
