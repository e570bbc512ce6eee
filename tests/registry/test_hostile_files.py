"""Hostile registries on disk: links out of the registry, linked directories, pipes and sockets named like files.

Each case gets a `FILE[:LINE]: message` from validate_registry, exit code 1 from both commands, and a database left
exactly as it was by load_registry; nothing a refused file (or its link target) holds ever reaches a message.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from registry.validation import validate_registry
from tests.registry.hostile import Case, hostile_registry_tests

SECRET = "sk-live-9f8e7d6c5b4a39281706"
_PIPES: list[Path] = []


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


HOSTILE_FILES: list[Case] = [
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
]


class TestHostileFiles(hostile_registry_tests(HOSTILE_FILES)):
    """Files the registry refuses to read."""


class TestNothingEchoed:
    """An error about a file that was refused never carries what the file (or its link target) holds."""

    @pytest.mark.django_db
    @pytest.mark.parametrize("case_id", ["symlink-to-passwd", "symlink-to-secret"])
    def test_link_target_content_never_reaches_any_message(self, registry_dir, case_id, capsys):
        mutate = next(case[1] for case in HOSTILE_FILES if case[0] == case_id)
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
