"""Benchmark: name resolution scored on the resolution corpus, on SQLite and on PostgreSQL.

Loads the bundled registry into a fresh SQLite database and a fresh PostgreSQL database (each in a subprocess of its
own, since Django is set up once per process), resolves every name of tests/fixtures/resolution/corpus.yaml with
catalog.resolution.model_resolve_name (what /api/resolve answers with), then prints per database and per source:
answers given, right and wrong answers (the first 15 wrong ones), precision (right ÷ answers), recall (right ÷ names
whose model the registry has), and whether both databases gave the same answers. An answer to a name whose expected
model is null is a wrong answer.

Then, per database, the time a name answered by an exact, alias or normalised match takes on the in-memory path
(catalog/resolution_index.py: with the catalogue version given, as /api/resolve does, and with it read from the cache)
against the two indexed database look-ups that path replaced, and an uncached /api/resolve through Django (the
response cache missed, the version look-up paid); and the memory the index holds for the bundled catalogue and for
the generated 2,000-model registry (bench/registry_gen.py, loaded into SQLite; --models sets its size).

Usage: .venv/bin/python bench/resolution.py [--smoke] [--sample N] [--databases sqlite,postgresql] [--answers FILE]
       [--models N]
Uses BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/modelgraph_bench_resolution), dropped and
re-created, BENCH_REDIS_URL (default redis://127.0.0.1:6379/14) and temporary SQLite files. --smoke: a 200-name sample
on PostgreSQL only and a 100-model generated registry (seconds; figures mean little).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from common import percentile, smoke_defaults  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "resolution" / "corpus.yaml"
PRECISION_TARGET, RECALL_TARGET = 0.995, 0.97
SHOWN_WRONG, SHOWN_DIFFERENT = 15, 10


def load_corpus(sample: int | None) -> list[dict]:
    import yaml

    corpus = yaml.safe_load(CORPUS.read_text())
    if sample and sample < len(corpus):
        corpus = random.Random(15).sample(corpus, sample)
    return corpus


def worker(database: str, names_file: Path) -> None:
    """In a subprocess: set Django up on `database`, load the bundled registry, print {name: slug or null} as JSON."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "modelgraph.settings.base")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if database == "sqlite":
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
    else:
        from common import recreate_database, setup_django

        setup_django("modelgraph_bench_resolution")
        recreate_database()
    from catalog.resolution import model_resolve_name
    from registry.loading import registry_load

    started = time.perf_counter()
    registry_load()
    loaded = time.perf_counter() - started
    names = json.loads(names_file.read_text())
    answers: dict[str, str | None] = {}
    started = time.perf_counter()
    for name in names:
        resolution = model_resolve_name(name)
        answers[name] = resolution.model.slug if resolution.model else None
    elapsed = time.perf_counter() - started
    timings = time_paths(names)
    memory = index_memory()
    print(json.dumps({"answers": answers, "seconds": elapsed, "load_seconds": loaded, "timings": timings, **memory}))


def _per_name_ms(names: list[str], resolve) -> list[float]:
    times = []
    for name in names:
        started = time.perf_counter()
        resolve(name)
        times.append(1000 * (time.perf_counter() - started))
    return times


def time_paths(names: list[str]) -> dict[str, list[float]]:
    """Milliseconds a name, for the names an exact, alias or normalised match answers, on each path."""
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client
    from django.test.utils import setup_test_environment

    from catalog import cache_tags
    from catalog.resolution import (
        EXACT_ALIAS,
        EXACT_SLUG,
        NORMALISED,
        _exact_aliases,
        _models_by_slug,
        model_resolve_name,
    )
    from catalog.spellings import name_variants
    from modelgraph.api import cache as api_cache

    quick = [name for name in names if model_resolve_name(name).match in (EXACT_SLUG, EXACT_ALIAS, NORMALISED)]
    version = (api_cache.versions([cache_tags.CATALOGUE]) or {}).get(cache_tags.CATALOGUE)

    def database(name: str) -> None:  # what the resolver asked the database before any of these answers
        spellings = {name.lower(), *(value for value, _ in name_variants(name))}
        _models_by_slug({name, *spellings})
        _exact_aliases(spellings)

    setup_test_environment()
    settings.API_THROTTLE_RATE = "100000000/min"
    client = Client()

    answered_by: dict[str, int] = defaultdict(int)

    def endpoint(name: str) -> None:
        response = client.get("/api/resolve", {"name": name})
        answered_by[response.get("X-Cache", "none")] += 1  # MISS; BYPASS while the cache's breaker is open

    def uncached(name: str) -> None:  # the stored answer dropped first (outside the timed part)
        key = api_cache.response_key(["GET", "http", "testserver", "/api/resolve", repr([("name", name)])])
        api_cache.guarded_call(lambda: cache.delete(key))

    timings: dict[str, list[float]] = {}
    timings["in memory, version given (/api/resolve)"] = _per_name_ms(
        quick, lambda name: model_resolve_name(name, catalogue_version=version)
    )
    timings["in memory, version read from the cache"] = _per_name_ms(quick, model_resolve_name)
    timings["database look-ups (before)"] = _per_name_ms(quick, database)
    for name in quick:
        uncached(name)
    endpoint_times = _per_name_ms(quick, endpoint)
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(answered_by.items()))
    timings[f"uncached /api/resolve (Django; {kinds})"] = endpoint_times
    return timings


def index_memory() -> dict:
    """The catalogue's size and the bytes its resolution index holds (traced while it is built, still held)."""
    from catalog.models import Alias, Mapping, Model
    from catalog.resolution_index import resolution_index_build

    resolution_index_build()  # imports and first-use allocations outside the measurements
    started = time.perf_counter()
    resolution_index_build()
    seconds = time.perf_counter() - started
    tracemalloc.start()  # slows the build down: timed above, untraced
    index = resolution_index_build()
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    counts = {"models": Model.objects.count(), "aliases": Alias.objects.count(), "offers": Mapping.objects.count()}
    assert len(index.slugs) == counts["models"]
    return {"index_bytes": held, "index_build_seconds": seconds, "catalogue": counts}


def generated_worker(models: int) -> None:
    """In a subprocess: the generated registry of `models` models loaded into SQLite; print its index's memory."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "modelgraph.settings.base")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from registry_gen import generate_registry

    from registry.loading import registry_load

    with tempfile.TemporaryDirectory() as tmp:
        generate_registry(Path(tmp), models=models, mappings=models * 5, aliases=models * 10)
        registry_load(path=Path(tmp))
    print(json.dumps(index_memory()))


def run_worker(database: str, names: list[str], tmp: Path) -> dict:
    names_file = tmp / "names.json"
    names_file.write_text(json.dumps(names))
    return _subprocess(database, [database, str(names_file)], tmp)


def _subprocess(database: str, arguments: list[str], tmp: Path) -> dict:
    env = dict(os.environ)
    if database == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{tmp / (database + '-' + arguments[0] + '.sqlite3')}"
    env.setdefault("REDIS_URL", os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    mode = "--worker" if arguments[0] == database else "--generated-worker"
    result = subprocess.run(
        [sys.executable, __file__, mode, *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"{database} worker failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def score(corpus: list[dict], answers: dict[str, str | None]) -> dict[str, dict]:
    """Per source (and "all"): names, names we have, answers, right, wrong (name, got, expected)."""
    rows: dict[str, dict] = defaultdict(lambda: {"names": 0, "have": 0, "answers": 0, "right": 0, "wrong": []})
    for entry in corpus:
        got, expected = answers[entry["name"]], entry["expected"]
        for key in (entry["source"], "all"):
            row = rows[key]
            row["names"] += 1
            row["have"] += expected is not None
            if got is not None:
                row["answers"] += 1
                if got == expected:
                    row["right"] += 1
                else:
                    row["wrong"].append((entry["name"], got, expected))
    return dict(rows)


def ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def report(database: str, corpus: list[dict], outcome: dict) -> dict:
    rows = score(corpus, outcome["answers"])
    per_name = 1000 * outcome["seconds"] / max(1, len(corpus))
    print(
        f"\n== {database}: registry loaded in {outcome['load_seconds']:.1f} s; {len(corpus)} names resolved in "
        f"{outcome['seconds']:.1f} s ({per_name:.1f} ms a name)"
    )
    columns = ("names", "have", "answers", "right", "wrong")
    print(f"{'source':14} " + " ".join(f"{c:>7}" for c in columns) + f" {'precision':>10} {'recall':>8}")
    for source in [*sorted(key for key in rows if key != "all"), "all"]:
        row = rows[source]
        precision, recall = ratio(row["right"], row["answers"]), ratio(row["right"], row["have"])
        print(
            f"{source:14} {row['names']:7} {row['have']:7} {row['answers']:7} {row['right']:7} {len(row['wrong']):7} "
            f"{precision:10.2%} {recall:8.2%}"
        )
    wrong = rows["all"]["wrong"]
    print(f"wrong answers (first {min(SHOWN_WRONG, len(wrong))} of {len(wrong)}): name → got (expected)")
    for name, got, expected in wrong[:SHOWN_WRONG]:
        print(f"  {name} → {got} (expected {expected or 'no match'})")
    timings = outcome["timings"]
    quick = len(next(iter(timings.values())))
    print(f"per name, the {quick} names an exact, alias or normalised match answers (ms):")
    print(f"  {'path':54} {'p50':>7} {'p90':>7} {'mean':>7}")
    for path, values in timings.items():
        if values:
            mean = sum(values) / len(values)
            print(f"  {path:54} {percentile(values, 50):7.3f} {percentile(values, 90):7.3f} {mean:7.3f}")
    print_memory("bundled catalogue", outcome)
    return rows["all"]


def print_memory(label: str, outcome: dict) -> None:
    counts = outcome["catalogue"]
    print(
        f"resolution index, {label} ({counts['models']} models, {counts['aliases']} aliases, {counts['offers']} "
        f"offers): {outcome['index_bytes'] / 2**20:.1f} MiB held (traced), built in "
        f"{outcome['index_build_seconds']:.2f} s"
    )


def main() -> int:
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2], Path(sys.argv[3]))
        return 0
    if sys.argv[1:2] == ["--generated-worker"]:
        generated_worker(int(sys.argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=None, help="score a seeded sample of this many names")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--answers", type=Path, help="also write every database's answers here (JSON)")
    parser.add_argument("--models", type=int, default=2000, help="models in the generated registry (memory figure)")
    smoke_defaults(parser, sample=200, databases="postgresql", models=100)
    args = parser.parse_args()
    corpus = load_corpus(args.sample)
    names = [entry["name"] for entry in corpus]
    databases = [db.strip() for db in args.databases.split(",") if db.strip()]
    totals, answers = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for database in databases:
            outcome = run_worker(database, names, Path(tmp))
            answers[database] = outcome["answers"]
            totals[database] = report(database, corpus, outcome)
        print()
        print_memory(
            f"generated registry of {args.models} models", _subprocess("sqlite", [str(args.models)], Path(tmp))
        )
    if args.answers:
        args.answers.write_text(json.dumps(answers, indent=1, sort_keys=True))
    print()
    identical = "n/a (one database)"
    if len(databases) > 1:
        first, *others = databases
        differing = [n for n in names if any(answers[db][n] != answers[first][n] for db in others)]
        identical = "yes" if not differing else f"no, {len(differing)} names differ"
        print(f"SQLite and PostgreSQL identical: {identical}")
        for name in differing[:SHOWN_DIFFERENT]:
            print("  " + name + ": " + ", ".join(f"{db} → {answers[db][name]}" for db in databases))
    figures = ", ".join(
        f"{db} precision {ratio(t['right'], t['answers']):.2%} recall {ratio(t['right'], t['have']):.2%}"
        for db, t in totals.items()
    )
    met = all(
        ratio(t["right"], t["answers"]) >= PRECISION_TARGET and ratio(t["right"], t["have"]) >= RECALL_TARGET
        for t in totals.values()
    ) and identical in ("yes", "n/a (one database)")
    print(
        f"targets: precision ≥ {PRECISION_TARGET:.1%}, recall ≥ {RECALL_TARGET:.0%}, identical answers — "
        f"{figures}; identical: {identical} → {'met' if met else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
