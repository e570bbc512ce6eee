"""What every bench script needs: Django set up on its own PostgreSQL database, re-created empty and migrated."""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(database: str) -> None:
    """Point Django at postgres://…/<database> (BENCH_DATABASE_URL overrides) and set it up.

    Once per process: a second call (one bench script importing another) would re-point DATABASE_URL under a Django
    already set up, and every subprocess the first script starts would use the other database (bench/api.py's
    gunicorn answered 503 that way). Shared helpers belong here, in common."""
    from django.apps import apps

    if apps.ready:
        raise RuntimeError(f"Django is already set up: a bench script asked for {database!r} too (import from common)")
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{database}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "modelgraph.settings.base")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def recreate_database() -> None:
    """Drop and re-create the bench database, then migrate it."""
    import psycopg
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    db = settings.DATABASES["default"]
    connections.close_all()
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname="postgres", autocommit=True
    ) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{db["NAME"]}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{db["NAME"]}"')
    call_command("migrate", verbosity=0)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) of values, interpolated."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1] if 0 < q < 100 else ordered[-1]


class WriteCounter:
    """Counts INSERT/UPDATE/DELETE statements on tables with a prefix (use as a connection execute_wrapper)."""

    def __init__(self, table_prefix: str):
        self.table_prefix = table_prefix
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        head = sql.lstrip()[:6].upper()
        if head in ("INSERT", "UPDATE", "DELETE") and self.table_prefix in sql:
            self.count += 1
        return execute(sql, params, many, context)


def smoke_defaults(parser, **tiny) -> None:
    """Add `--smoke` to a bench script's parser: with it (or BENCH_SMOKE=1) the defaults become `tiny`, so the whole
    benchmark runs end to end in seconds (bin/test runs every script this way; the figures mean nothing then)."""
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds: does the benchmark still run?")
    if "--smoke" in sys.argv[1:] or os.environ.get("BENCH_SMOKE") == "1":
        parser.set_defaults(**tiny)
