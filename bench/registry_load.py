"""Benchmark: validate and load the bundled registry and a generated 2,000-model one on PostgreSQL.

Usage: .venv/bin/python bench/registry_load.py [--smoke] [--models 2000 --mappings 10000 --aliases 20000]
Uses BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/modelgraph_bench), dropped and re-created.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import recreate_database, setup_django, smoke_defaults

setup_django("modelgraph_bench")

import yaml  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from registry_gen import generate_registry  # noqa: E402

from registry.loading import registry_load  # noqa: E402
from registry.validation import YAML_SUFFIXES, validate_registry  # noqa: E402

CATALOG_TABLES = [
    "catalog_mapping",
    "catalog_alias",
    "catalog_model",
    "catalog_family",
    "catalog_provider",
    "catalog_historicalmapping",
    "catalog_historicalalias",
    "catalog_historicalmodel",
    "catalog_historicalfamily",
    "catalog_historicalprovider",
]


def empty_catalogue() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(CATALOG_TABLES)} RESTART IDENTITY CASCADE")


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def bare_parse(root: Path) -> float:
    """Read and parse every registry file with libyaml's safe loader and nothing else: the floor."""
    started = time.perf_counter()
    for path in root.rglob("*"):
        if path.suffix in YAML_SUFFIXES:
            yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
    return time.perf_counter() - started


def measure(label: str, root: Path, rounds: int) -> dict:
    """Each figure is the best of `rounds` (the parse of one more): on a shared machine the best run is the one least
    slowed by others, for the baseline and the load alike. Every round's first load starts from an empty catalogue."""
    files = sum(1 for p in root.rglob("*") if p.suffix in YAML_SUFFIXES)
    parse_s = min(bare_parse(root) for _ in range(rounds + 1))
    validate_s, report = timed(validate_registry, root)
    assert report.ok, report.problems[:5]
    loads, reloads = [], []
    for _ in range(rounds):
        empty_catalogue()
        loads.append(timed(registry_load, path=root))
        reloads.append(timed(registry_load, path=root))
    load_s, result = min(loads, key=lambda pair: pair[0])
    reload_s = min(seconds for seconds, _ in reloads)
    reload_rows = max(again.rows_written for _, again in reloads)  # a reload that wrote anything misses the target
    counts = result.counts
    return {
        "label": label,
        "files": files,
        "providers": counts["providers"].added,
        "models": counts["models"].added,
        "mappings": counts["mappings"].added,
        "aliases": counts["aliases"].added,
        "parse_s": parse_s,
        "validate_s": validate_s,
        "load_s": load_s,
        "reload_s": reload_s,
        "reload_rows": reload_rows,
        "ratio": load_s / parse_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--mappings", type=int, default=10000)
    parser.add_argument("--aliases", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=2, help="loads and reloads per registry (the best is shown)")
    smoke_defaults(parser, models=40, mappings=120, aliases=200, rounds=1)
    args = parser.parse_args()
    recreate_database()
    print(f"PostgreSQL {connection.cursor().connection.info.server_version} at {settings.DATABASES['default']['NAME']}")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    rows = [measure("bundled registry", settings.REGISTRY_DIR, args.rounds)]
    with tempfile.TemporaryDirectory() as tmp:
        generate_registry(Path(tmp), models=args.models, mappings=args.mappings, aliases=args.aliases)
        rows.append(measure(f"generated {args.models}/{args.mappings}/{args.aliases}", Path(tmp), args.rounds))
    header = (
        f"{'registry':<28} {'files':>6} {'prov':>5} {'models':>6} {'maps':>6} {'aliases':>7} "
        f"{'parse s':>8} {'valid s':>8} {'load s':>7} {'reload s':>8} {'reload rows':>11} {'load/parse':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['label']:<28} {r['files']:>6} {r['providers']:>5} {r['models']:>6} {r['mappings']:>6} "
            f"{r['aliases']:>7} {r['parse_s']:>8.2f} {r['validate_s']:>8.2f} {r['load_s']:>7.2f} "
            f"{r['reload_s']:>8.2f} {r['reload_rows']:>11} {r['ratio']:>9.1f}x"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    big = rows[-1]
    reloads_ok = all(r["reload_rows"] == 0 for r in rows)
    print(
        f"\ntargets: full load of the generated registry under 15 s: {big['load_s']:.2f} s "
        f"({'met' if big['load_s'] < 15 else 'MISSED'}); within 2x of bare parse: {big['ratio']:.1f}x "
        f"({'met' if big['ratio'] <= 2 else 'MISSED'}), reload {big['reload_s'] / big['parse_s']:.1f}x "
        f"({'met' if big['reload_s'] <= 2 * big['parse_s'] else 'MISSED'}); no-change reload writes 0 rows: "
        f"{', '.join(str(r['reload_rows']) for r in rows)} ({'met' if reloads_ok else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
