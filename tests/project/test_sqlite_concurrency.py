"""The embedded default shares one SQLite file between the web server, the django-q2 workers and the ORM broker.

Transactions that read first and write later (update_or_create, a worker's heartbeat, the broker taking a task) failed
at once with "database is locked" when another process wrote meanwhile: 31 of 400 heartbeats from four processes were
lost. Here real processes share a real SQLite file, configured exactly as `DATABASE_URL=sqlite:///…` configures them
(the first one creates the database, as `bin/start` migrates first). Each reads a counter and writes it back inside a
transaction; every increment must land, none may fail.
"""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from modelgraph.env import database_from_url

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 4
INCREMENTS = 150

SETUP = """
import django
django.setup()
from django.db import connection

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    cursor.execute("INSERT INTO counter VALUES (1, 0)")
"""

CLIENT = """
import json, sys
import django
django.setup()
from django.db import DatabaseError, connection, transaction

print("ready", flush=True)
sys.stdin.readline()  # all processes start writing together
failed = 0
for _ in range(int(sys.argv[1])):
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT n FROM counter WHERE id = 1")
            (n,) = cursor.fetchone()
            cursor.execute("UPDATE counter SET n = %s WHERE id = 1", [n + 1])
    except DatabaseError as error:
        failed += 1
        print(repr(error), file=sys.stderr)
print(json.dumps({"failed": failed}))
"""


def test_settings_for_a_sqlite_url_wait_for_the_write_lock(tmp_path):
    options = database_from_url(f"sqlite:///{tmp_path}/db.sqlite3")["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 5
    assert "journal_mode=WAL" in options["init_command"]


def test_concurrent_read_then_write_transactions_all_land(tmp_path):
    path = tmp_path / "db.sqlite3"
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DATABASE_URL"}}
    env.update(
        DATABASE_URL=f"sqlite:///{path}", DJANGO_SETTINGS_MODULE="modelgraph.settings.base", PYTHONPATH=str(ROOT)
    )
    # One process first creates the database, as `bin/start` migrates before its worker and server start.
    subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=env, check=True, timeout=120)
    clients = [
        subprocess.Popen(
            [sys.executable, "-c", CLIENT, str(INCREMENTS)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    assert [client.stdout.readline() for client in clients] == ["ready\n"] * PROCESSES
    for client in clients:
        client.stdin.write("go\n")
        client.stdin.flush()
    outputs = [client.communicate(timeout=120)[0] for client in clients]
    assert all(client.returncode == 0 for client in clients)
    assert [json.loads(output)["failed"] for output in outputs] == [0] * PROCESSES
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT n FROM counter").fetchone() == (PROCESSES * INCREMENTS,)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
