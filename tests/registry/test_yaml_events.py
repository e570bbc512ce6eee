"""The event-built parse (registry/yaml_events.py) gives exactly what the full parse gives, or leaves it to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from registry.yaml_events import UNUSUAL
from registry.yamlsafe import _EVENTS, RegistryFileError, decode, parse_text


def full_parse(text: str):
    """The full way (PyYAML's nodes and constructors): line tracking never takes the event-built path."""
    return parse_text(text, track_lines=True).data


def outcome(parse, text: str):
    try:
        return "data", parse(text)
    except RegistryFileError as exc:
        return "refused", exc.message, exc.line


class TestSameDocuments:
    def test_every_bundled_registry_file_is_built_from_events_as_the_full_parse_builds_it(self):
        paths = sorted(Path(settings.REGISTRY_DIR).rglob("*.yaml"))
        assert len(paths) > 1000
        for path in paths:
            text = decode(path.read_bytes())
            built = _EVENTS.document(text)
            assert built is not UNUSUAL, path
            assert built == full_parse(text), path
            # equal values of another type (1 == 1.0 == True) would pass ==: the types must match too
            assert repr(built) == repr(full_parse(text)), path

    @pytest.mark.parametrize(
        "text",
        [
            "a: 1\nb: 1.5\nc: 1_000\nd: 0x1f\ne: 017\nf: 1:30\ng: -2\nh: +3\ni: .5\nj: 1e3\n",
            "a: yes\nb: No\nc: on\nd: OFF\ne: true\nf: ~\ng: null\nh:\ni: ''\nj: 'true'\nk: \"1\"\n",
            "dates: [2024-01-02, '2024-01-02', 2024-01-02T10:00:00Z]\n",
            "1: one\nfalse: two\nnull: three\n1.5: four\n",
            "nested: {a: [1, {b: [c, d]}], e: {}}\nempty: []\n",
            "- a\n- - b\n  - c\n- {d: e}\n",
            "text: |\n  line one\n  line two\nfolded: >\n  one\n  two\n",
            'unicode: "caf\\u00e9 \\U0001F600"\nplain: naïve\n',
            "just a string\n",
            "42\n",
        ],
    )
    def test_ordinary_documents_are_built_from_events_identically(self, text):
        built = _EVENTS.document(text)
        assert built is not UNUSUAL
        assert repr(built) == repr(full_parse(text))
        assert repr(parse_text(text).data) == repr(full_parse(text))


class TestUnusualDocumentsTakeTheFullWay:
    @pytest.mark.parametrize(
        "text",
        [
            "a: &x 1\nb: *x\n",  # anchors and aliases
            "a: !!str 1\n",  # an explicit tag
            "a: !!timestamp 2024-01-02\n",  # a tag the events path never builds
            "a: 1\na: 2\n",  # a duplicate key
            "base: {x: 1}\nother:\n  <<: {y: 2}\n",  # a merge key
            "a: .nan\n",  # not finite
            "a: -.inf\n",
            "? [a, b]\n: c\n",  # a complex key
            "a: 1\n---\nb: 2\n",  # two documents
            "~\n",  # no data
            "# only a comment\n",
            "a: [1, 2\n",  # a syntax error
            "a: b: c\n",
            "x: =\n",  # the value tag
            "a: " + "[" * 40 + "]" * 40 + "\n",  # deeper than MAX_DEPTH
        ],
    )
    def test_the_full_parse_decides_with_its_own_message(self, text):
        assert _EVENTS.document(text) is UNUSUAL
        assert outcome(lambda t: parse_text(t).data, text) == outcome(full_parse, text)

    def test_refusals_keep_their_line(self):
        with pytest.raises(RegistryFileError) as refused:
            parse_text("a: 1\nb: 2\na: 3\n")
        assert (refused.value.message, refused.value.line) == ("duplicate key 'a'", 3)

    def test_non_string_scalars_remembered_stay_bounded(self):
        many = "".join(f"k{i}: {i}\n" for i in range(25_000))
        assert _EVENTS.document(many)["k24999"] == 24999
        assert len(_EVENTS._memo) <= 20_000
