"""Benchmark: name resolution scored on the resolution corpus, on SQLite and on PostgreSQL.

Loads the bundled registry into a fresh SQLite database and a fresh PostgreSQL database (each in a subprocess of its
own, since Django is set up once per process), resolves every name of tests/fixtures/resolution/corpus.yaml with
catalog.resolution.model_resolve_name (what /api/resolve answers with), then prints per database and per source:
answers given, right and wrong answers (the first 15 wrong ones), precision (right ÷ answers), recall (right ÷ names
whose model the registry has), and whether both databases gave the same answers. An answer to a name whose expected
model is null is a wrong answer.

Usage: .venv/bin/python bench/resolution.py [--smoke] [--sample N] [--databases sqlite,postgresql] [--answers FILE]
Uses BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/modelgraph_bench_resolution), dropped and
re-created, and a temporary SQLite file. --smoke: a 200-name sample on PostgreSQL only (seconds; figures mean little).
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
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from common import smoke_defaults  # noqa: E402

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
    print(json.dumps({"answers": answers, "seconds": elapsed, "load_seconds": loaded}))


def run_worker(database: str, names: list[str], tmp: Path) -> dict:
    names_file = tmp / "names.json"
    names_file.write_text(json.dumps(names))
    env = dict(os.environ)
    if database == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'resolution.sqlite3'}"
    env.setdefault("REDIS_URL", os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    result = subprocess.run(
        [sys.executable, __file__, "--worker", database, str(names_file)],
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
    return rows["all"]


def main() -> int:
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2], Path(sys.argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=None, help="score a seeded sample of this many names")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--answers", type=Path, help="also write every database's answers here (JSON)")
    smoke_defaults(parser, sample=200, databases="postgresql")
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
