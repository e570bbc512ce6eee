"""Mutations of a copied registry (tests/registry/test_validation.py, test_hostile_*.py) and the hostile checks.

Each case is `(case id, mutation of a copied registry, expected "FILE[:LINE]:" prefix, a fragment of the message)`;
`hostile_registry_tests(cases)` is the base of a test class that checks every case three ways: validate_registry
names the file and line, both commands exit 1, and load_registry leaves the database exactly as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from registry.validation import validate_registry

Case = tuple[str, Callable[[Path], None], str, str]


def replace_text(path: str, old: str, new: str):
    def mutate(root: Path):
        target = root / path
        text = target.read_text()
        assert old in text, f"fixture drifted: {old!r} not in {path}"
        target.write_text(text.replace(old, new, 1))

    return mutate


def write_file(path: str, content: str | bytes):
    def mutate(root: Path):
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())

    return mutate


def both(*mutations):
    def mutate(root: Path):
        for mutation in mutations:
            mutation(root)

    return mutate


def matches(text: str, location: str, fragment: str) -> bool:
    return any(line.startswith(location) and fragment in line for line in text.splitlines())


def hostile_registry_tests(hostile: list[Case]) -> type:
    """A base class whose three tests run every case of `hostile`."""
    cases = pytest.mark.parametrize(
        ("case_id", "mutate", "location", "fragment"), hostile, ids=[case[0] for case in hostile]
    )

    class HostileRegistryChecks:
        @cases
        def test_validation_names_file_line_and_problem(self, registry_dir, case_id, mutate, location, fragment):
            mutate(registry_dir)
            problems = "\n".join(map(str, validate_registry(registry_dir).problems))
            assert matches(problems, location, fragment), problems

        @cases
        def test_validate_command_exits_1_with_file_line(
            self, registry_dir, case_id, mutate, location, fragment, capsys
        ):
            mutate(registry_dir)
            with pytest.raises(CommandError) as raised:
                call_command("validate_registry", path=registry_dir)
            assert raised.value.returncode == 1
            err = capsys.readouterr().err
            assert matches(err, location, fragment), err

        @pytest.mark.django_db
        @cases
        def test_load_exits_1_and_leaves_database_exactly_as_it_was(
            self, registry_dir, catalogue_state, case_id, mutate, location, fragment, capsys
        ):
            call_command("load_registry", path=registry_dir, stdout=open(os.devnull, "w"))
            # A changed but broken registry: the valid part of the change must not be applied either.
            replace_text("mappings/openai/gpt-4o.yaml", "input: 2.5", "input: 2.75")(registry_dir)
            before = catalogue_state()
            mutate(registry_dir)
            with pytest.raises(CommandError) as raised:
                call_command("load_registry", path=registry_dir)
            assert raised.value.returncode == 1
            err = capsys.readouterr().err
            assert matches(err, location, fragment), err
            assert catalogue_state() == before

    return HostileRegistryChecks
