"""Hostile registries: links, pipes, deep nesting, values the database cannot keep, loops and look-alike ids.

Each case gets a `FILE[:LINE]: message` from validate_registry, exit code 1 from both commands, and a database left
exactly as it was by load_registry.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from registry.validation import validate_registry
from registry.yamlsafe import MAX_DEPTH

PASSWD_LINE = "root:x:0:0:root:/root:/bin/bash"
SECRET = "sk-live-9f8e7d6c5b4a39281706"
_PIPES: list[Path] = []


def _replace(path: str, old: str, new: str):
    def mutate(root: Path):
        target = root / path
        text = target.read_text()
        assert old in text, f"fixture drifted: {old!r} not in {path}"
        target.write_text(text.replace(old, new, 1))

    return mutate


def _write(path: str, content: str):
    def mutate(root: Path):
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)

    return mutate


def _both(*mutations):
    def mutate(root: Path):
        for mutation in mutations:
            mutation(root)

    return mutate


def _link(path: str, target: str, content: str | None = None):
    """Replace `path` by a symbolic link to `target` (outside the registry, written first when content is given)."""

    def mutate(root: Path):
        destination = Path(target) if target.startswith("/") else root.parent / target
        if content is not None:
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(content)
        link = root / path
        if link.exists() or link.is_symlink():
            link.unlink()
        link.symlink_to(destination)

    return mutate


def _linked_directory(mutate_root: Path) -> None:
    outside = mutate_root.parent / "elsewhere"
    outside.mkdir()
    (outside / "gpt-5.yaml").write_text("slug: gpt-5\nname: GPT-5\ncreator: openai\n")
    (mutate_root / "models" / "openai-extra").symlink_to(outside, target_is_directory=True)


def _fifo(root: Path) -> None:
    """A FIFO named like a provider file. A writer stands by, so a reader that opens it gets EOF instead of hanging."""
    pipe = root / "providers" / "cerebras.yaml"
    os.mkfifo(pipe)
    _PIPES.append(pipe)

    def writer():
        with open(pipe, "wb"):  # blocks until a reader opens the pipe (or the test releases it)
            pass

    threading.Thread(target=writer, daemon=True).start()


def _socket(root: Path) -> None:
    here = os.getcwd()
    os.chdir(root / "providers")  # a relative name keeps the socket path under the 108-byte limit
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.bind("cerebras.yaml")
    finally:
        os.chdir(here)


@pytest.fixture(autouse=True)
def _release_pipes():
    yield
    while _PIPES:
        pipe = _PIPES.pop()
        try:  # opening the read end lets a writer still waiting in open() finish
            os.close(os.open(pipe, os.O_RDONLY | os.O_NONBLOCK))
        except OSError:
            pass


def _nested_block(depth: int) -> str:
    return "slug: groq\nname:\n" + "".join("  " * level + "-\n" for level in range(depth)) + "  " * depth + "x\n"


LONG_PROVIDER = "a" * 101
LONG_MODEL = "m" * 151
CYRILLIC_O = "\u043e"

# (case id, mutation, expected "FILE[:LINE]:" prefix, a fragment of the message)
HOSTILE = [
    (
        "symlink-to-passwd",
        _link("providers/groq.yaml", "/etc/passwd"),
        "providers/groq.yaml:",
        "a symbolic link, not a regular file",
    ),
    (
        "symlink-to-secret",
        _link("providers/groq.yaml", "project/.env", f"DJANGO_SECRET_KEY={SECRET}\n"),
        "providers/groq.yaml:",
        "a symbolic link, not a regular file",
    ),
    (
        "symlink-to-yaml-outside",
        _link("providers/cerebras.yaml", "outside/cerebras.yaml", "slug: cerebras\nname: Cerebras\n"),
        "providers/cerebras.yaml:",
        "a symbolic link, not a regular file",
    ),
    (
        "symlink-to-device",
        _link("providers/cerebras.yaml", "/dev/zero"),
        "providers/cerebras.yaml:",
        "a symbolic link, not a regular file",
    ),
    ("linked-directory", _linked_directory, "models/openai-extra/:", "a symbolic link to a directory"),
    ("fifo", _fifo, "providers/cerebras.yaml:", "a named pipe (FIFO), not a regular file"),
    ("socket", _socket, "providers/cerebras.yaml:", "a socket, not a regular file"),
    (
        "deep-flow-nesting",
        _write("providers/groq.yaml", "slug: groq\nname: " + "[" * 20000 + "]" * 20000 + "\n"),
        "providers/groq.yaml:2:",
        f"nesting deeper than {MAX_DEPTH} levels",
    ),
    (
        "deep-block-nesting",
        _write("providers/groq.yaml", _nested_block(100)),
        f"providers/groq.yaml:{MAX_DEPTH + 2}:",
        f"nesting deeper than {MAX_DEPTH} levels",
    ),
    (
        "deep-compact-nesting",
        _write("providers/groq.yaml", "slug: groq\nname:\n" + "- " * 100 + "x\n"),
        "providers/groq.yaml:3:",
        f"nesting deeper than {MAX_DEPTH} levels",
    ),
    (
        "nan-price",
        _replace("mappings/groq/llama-3.3-70b-instruct.yaml", "input: 0.59", "input: .nan"),
        "mappings/groq/llama-3.3-70b-instruct.yaml:5:",
        "'.nan' is not a finite number",
    ),
    (
        "infinite-price",
        _replace("mappings/groq/llama-3.3-70b-instruct.yaml", "output: 0.79", "output: .inf"),
        "mappings/groq/llama-3.3-70b-instruct.yaml:6:",
        "'.inf' is not a finite number",
    ),
    (
        "price-below-stored-precision",
        _replace("mappings/groq/llama-3.3-70b-instruct.yaml", "input: 0.59", "input: 1.0e-7"),
        "mappings/groq/llama-3.3-70b-instruct.yaml:5:",
        "offers[0].pricing.input: 1e-07 has more than 6 decimal places: the database would store 0",
    ),
    (
        "price-with-seven-decimals",
        _replace("mappings/groq/llama-3.3-70b-instruct.yaml", "output: 0.79", "output: 0.7900004"),
        "mappings/groq/llama-3.3-70b-instruct.yaml:6:",
        "would store 0.79, a different price",
    ),
    (
        "nul-in-name",
        _replace("providers/groq.yaml", "name: Groq", 'name: "Gr\\0oq"'),
        "providers/groq.yaml:2:",
        "name: 'Gr\\x00oq' holds U+0000",
    ),
    (
        "c1-control-in-name",
        _replace("models/openai/gpt-4o.yaml", "name: GPT-4o", 'name: "GPT\\x9b4o"'),
        "models/openai/gpt-4o.yaml:2:",
        "holds U+009B",
    ),
    (
        "bidi-override-in-family-name",
        _replace("families.yaml", "name: GPT", 'name: "GPT\\u202e"'),
        "families.yaml:",
        "holds U+202E RIGHT-TO-LEFT OVERRIDE",
    ),
    (
        "newline-in-slug",
        _replace("providers/groq.yaml", "slug: groq", 'slug: "groq\\n"'),
        "providers/groq.yaml:1:",
        "slug: 'groq\\n' holds U+000A",
    ),
    (
        "provider-slug-longer-than-column",
        _write(f"providers/{LONG_PROVIDER}.yaml", f"slug: {LONG_PROVIDER}\nname: Long\n"),
        f"providers/{LONG_PROVIDER}.yaml:1:",
        "is too long (at most 100 characters)",
    ),
    (
        "model-slug-longer-than-column",
        _write(f"models/openai/{LONG_MODEL}.yaml", f"slug: {LONG_MODEL}\nname: Long\ncreator: openai\n"),
        f"models/openai/{LONG_MODEL}.yaml:1:",
        "is too long (at most 150 characters)",
    ),
    (
        "parameters-beyond-bigint-float",
        _replace("models/deepseek/deepseek-r1.yaml", "parameters_total: 671000000000", "parameters_total: 1.0e+23"),
        "models/deepseek/deepseek-r1.yaml:12:",
        "parameters_total: 1e+23 is greater than the maximum of 9223372036854775807",
    ),
    (
        "parameters-beyond-bigint-integer",
        _replace("models/deepseek/deepseek-r1.yaml", "parameters_total: 671000000000", "parameters_total: " + "9" * 20),
        "models/deepseek/deepseek-r1.yaml:12:",
        "is greater than the maximum of 9223372036854775807",
    ),
    (
        "parameters-as-float",
        _replace("models/deepseek/deepseek-r1.yaml", "parameters_total: 671000000000", "parameters_total: 6.71e+11"),
        "models/deepseek/deepseek-r1.yaml:12:",
        "671000000000.0 is not a whole number",
    ),
    (
        "date-not-in-calendar",
        _replace("models/openai/gpt-4o.yaml", "'2024-05-13'", "'2024-02-30'"),
        "models/openai/gpt-4o.yaml:5:",
        "release_date: '2024-02-30' is not a date of the calendar",
    ),
    (
        "successor-cycle",
        _both(
            _replace("models/openai/gpt-4o.yaml", "family: gpt\n", "family: gpt\nsuccessor: gpt-4o-mini\n"),
            _replace("models/openai/gpt-4o-mini.yaml", "family: gpt\n", "family: gpt\nsuccessor: gpt-4o\n"),
        ),
        "models/openai/gpt-4o.yaml:5:",
        "successor: 'gpt-4o-mini' closes a loop (gpt-4o → gpt-4o-mini → gpt-4o)",
    ),
    (
        "cyrillic-alias",
        _replace("models/openai/gpt-4o.yaml", "- gpt-4o-2024-08-06", f"- gpt-4{CYRILLIC_O}-2024-08-06"),
        "models/openai/gpt-4o.yaml:13:",
        "holds U+043E CYRILLIC SMALL LETTER O",
    ),
    (
        "zero-width-alias",
        _replace("models/openai/gpt-4o.yaml", "- gpt-4o-2024-08-06", '- "gpt-4o\\u200b-2024-08-06"'),
        "models/openai/gpt-4o.yaml:13:",
        "holds U+200B ZERO WIDTH SPACE",
    ),
    (
        "cyrillic-provider-model-id",
        _replace(
            "mappings/groq/llama-3.3-70b-instruct.yaml", "llama-3.3-70b-versatile", "llama-3.3-70b-versatil\u0435"
        ),
        "mappings/groq/llama-3.3-70b-instruct.yaml:3:",
        "holds U+0435 CYRILLIC SMALL LETTER IE",
    ),
    (
        "non-ascii-url",
        _replace("providers/groq.yaml", "https://console.groq.com", f"https://c{CYRILLIC_O}nsole.groq.com"),
        "providers/groq.yaml:3:",
        "holds U+043E",
    ),
    (
        "look-alike-alias-of-another-model",
        _replace("models/openai/gpt-4o.yaml", "- gpt-4o-2024-08-06", "- gpt-4o-rnini"),
        "models/openai/gpt-4o.yaml:13:",
        "alias 'gpt-4o-rnini' looks like 'gpt-4o-mini' (models/openai/gpt-4o-mini.yaml:1)",
    ),
    (
        "alias-differing-only-by-case",
        _replace("models/openai/gpt-4o.yaml", "- gpt-4o-2024-08-06", "- GPT-4o-Mini"),
        "models/openai/gpt-4o.yaml:13:",
        "'GPT-4o-Mini' looks like 'gpt-4o-mini'",
    ),
    (
        "look-alike-provider-model-ids",
        _write("mappings/groq/gpt-4o.yaml", "model: gpt-4o\noffers:\n- provider_model_id: LLama-3.3-70b-versatile\n"),
        "mappings/groq/llama-3.3-70b-instruct.yaml:3:",
        "'llama-3.3-70b-versatile' looks like 'LLama-3.3-70b-versatile'",
    ),
    (
        "look-alike-provider-slugs",
        _write("providers/0penai.yaml", "slug: 0penai\nname: Not OpenAI\n"),
        "providers/openai.yaml:1:",
        "provider slug 'openai' looks like '0penai'",
    ),
]
IDS = [case[0] for case in HOSTILE]


def _matches(text: str, location: str, fragment: str) -> bool:
    return any(line.startswith(location) and fragment in line for line in text.splitlines())


class TestHostileRegistry:
    @pytest.mark.parametrize(("case_id", "mutate", "location", "fragment"), HOSTILE, ids=IDS)
    def test_validation_names_file_line_and_problem(self, registry_dir, case_id, mutate, location, fragment):
        mutate(registry_dir)
        problems = "\n".join(map(str, validate_registry(registry_dir).problems))
        assert _matches(problems, location, fragment), problems

    @pytest.mark.parametrize(("case_id", "mutate", "location", "fragment"), HOSTILE, ids=IDS)
    def test_validate_command_exits_1_with_file_line(self, registry_dir, case_id, mutate, location, fragment, capsys):
        mutate(registry_dir)
        with pytest.raises(CommandError) as raised:
            call_command("validate_registry", path=registry_dir)
        assert raised.value.returncode == 1
        err = capsys.readouterr().err
        assert _matches(err, location, fragment), err

    @pytest.mark.django_db
    @pytest.mark.parametrize(("case_id", "mutate", "location", "fragment"), HOSTILE, ids=IDS)
    def test_load_exits_1_and_leaves_database_exactly_as_it_was(
        self, registry_dir, catalogue_state, case_id, mutate, location, fragment, capsys
    ):
        call_command("load_registry", path=registry_dir, stdout=open(os.devnull, "w"))
        # A changed but broken registry: the valid part of the change must not be applied either.
        _replace("mappings/openai/gpt-4o.yaml", "input: 2.5", "input: 2.75")(registry_dir)
        before = catalogue_state()
        mutate(registry_dir)
        with pytest.raises(CommandError) as raised:
            call_command("load_registry", path=registry_dir)
        assert raised.value.returncode == 1
        err = capsys.readouterr().err
        assert _matches(err, location, fragment), err
        assert catalogue_state() == before


class TestNothingEchoed:
    """An error about a file that was refused never carries what the file (or its link target) holds."""

    @pytest.mark.django_db
    @pytest.mark.parametrize("case_id", ["symlink-to-passwd", "symlink-to-secret"])
    def test_link_target_content_never_reaches_any_message(self, registry_dir, case_id, capsys):
        mutate = next(case[1] for case in HOSTILE if case[0] == case_id)
        mutate(registry_dir)
        problems = "\n".join(map(str, validate_registry(registry_dir).problems))
        for command in ("validate_registry", "load_registry"):
            with pytest.raises(CommandError):
                call_command(command, path=registry_dir)
        shown = problems + capsys.readouterr().err
        assert "root:x" not in shown and SECRET not in shown and "DJANGO_SECRET_KEY" not in shown

    def test_a_long_value_is_shown_cut_short(self, registry_dir):
        (registry_dir / "providers" / "groq.yaml").write_text(f"{SECRET * 20}\n")
        problems = [str(p) for p in validate_registry(registry_dir).problems]
        assert any(p.startswith("providers/groq.yaml:1:") and "is not of type 'object'" in p for p in problems)
        assert all(len(p) < 200 and (SECRET * 2) not in p for p in problems), problems


class TestFifoNeverOpened:
    def test_validation_returns_while_nobody_writes_the_pipe(self, registry_dir):
        os.mkfifo(registry_dir / "providers" / "cerebras.yaml")
        _PIPES.append(registry_dir / "providers" / "cerebras.yaml")
        result = {}
        worker = threading.Thread(target=lambda: result.update(report=validate_registry(registry_dir)), daemon=True)
        worker.start()
        worker.join(timeout=60)  # a deadline for a hang, not a wait for timing: the fixed reader returns at once
        pipe_opened = worker.is_alive()
        if pipe_opened:  # let the stuck reader go before failing
            with open(registry_dir / "providers" / "cerebras.yaml", "wb"):
                pass
            worker.join()
        assert not pipe_opened, "validate_registry blocked opening a FIFO"
        assert [str(p) for p in result["report"].problems] == [
            "providers/cerebras.yaml: a named pipe (FIFO), not a regular file: refused (the registry reads regular "
            "files only)"
        ]


@pytest.mark.django_db
class TestDatabaseRefusal:
    """A row the database refuses (here a real trigger) is named as FILE:LINE, exit 1, and nothing is written."""

    @pytest.mark.parametrize(
        ("table", "condition", "location"),
        [
            ("catalog_mapping", "NEW.provider_model_id = 'gpt-4o'", "mappings/openai/gpt-4o.yaml:3:"),
            ("catalog_model", "NEW.slug = 'gpt-4o-mini'", "models/openai/gpt-4o-mini.yaml:1:"),
            ("catalog_alias", "NEW.alias = 'openai/gpt-4o-mini'", "models/openai/gpt-4o-mini.yaml:13:"),
            ("catalog_family", "NEW.slug = 'llama'", "families.yaml:8:"),
        ],
    )
    def test_refused_row_is_reported_at_its_file_and_line(
        self, registry_dir, catalogue_state, table, condition, location, capsys
    ):
        before = catalogue_state()
        with connection.cursor() as cursor:
            cursor.execute(f"""
                CREATE FUNCTION mg_refuse() RETURNS trigger AS $$
                BEGIN IF {condition} THEN RAISE EXCEPTION 'injected refusal'; END IF; RETURN NEW; END $$
                LANGUAGE plpgsql;
                CREATE TRIGGER mg_refuse BEFORE INSERT OR UPDATE ON {table}
                FOR EACH ROW EXECUTE FUNCTION mg_refuse();
            """)
        with pytest.raises(CommandError) as raised:
            call_command("load_registry", path=registry_dir)
        assert raised.value.returncode == 1
        err = capsys.readouterr().err
        assert _matches(err, location, "the database refused this "), err
        assert "injected refusal" in err and "Traceback" not in err
        assert catalogue_state() == before
