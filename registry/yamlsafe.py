"""Hostile-input-safe YAML parsing for registry files, remembering the line of every key and list item."""

from __future__ import annotations

import errno
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from registry.yaml_events import UNUSUAL, EventBuilder

try:  # libyaml's parser when available; resolution and construction stay in Python either way
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader

TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
# The deepest registry document nests 4 levels (mapping → offers → offer → pricing); 32 leaves room and keeps every
# recursive step after parsing (construction, JSON Schema, repr in messages) far from Python's recursion limit.
MAX_DEPTH = 32
# Largest size of a file read again to find a line for a message (the first read enforced the configured limit).
REREAD_MAX_BYTES = 64 * 1024 * 1024


class RegistryFileError(Exception):
    """A file that cannot be read as a registry document; `line` is 1-based or None."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class ParsedDocument:
    data: object
    path: Path | None = None
    max_bytes: int = REREAD_MAX_BYTES
    # id(container) -> {key: line} for mappings, [line, ...] for sequences; parsed again lazily when needed
    lines: dict[int, object] | None = None
    _tracked: ParsedDocument | None = field(default=None, repr=False)

    def line_of(self, path: list | tuple) -> int | None:
        """The line of the value at a JSON-Schema-style path (keys and indexes), or the nearest parent's."""
        if self.lines is None:
            # Lines are only needed to report a problem: parse the file again, keeping them this time.
            if self.path is None:
                return None
            if self._tracked is None:
                try:
                    self._tracked = parse_text(decode(read_regular_file(self.path, self.max_bytes)), track_lines=True)
                except RegistryFileError:  # changed since it was read: the message goes without a line
                    return None
            return self._tracked.line_of(path)
        container, line = self.data, 1
        for part in path:
            marks = self.lines.get(id(container))
            try:
                line = marks[part] if marks is not None else line
                container = container[part]
            except (KeyError, IndexError, TypeError):
                break
        return line


class _RegistryLoader(_BaseLoader):
    """Safe loader: no arbitrary objects (SafeLoader), dates stay strings, duplicate keys are errors, lines kept."""

    def __init__(self, stream, track_lines: bool = False):
        super().__init__(stream)
        self.lines: dict[int, object] | None = {} if track_lines else None

    def construct_registry_map(self, node):
        data: dict = {}
        yield data
        marks: dict = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key == "<<" and key_node.tag == "tag:yaml.org,2002:merge":
                raise RegistryFileError("merge keys (<<) are not allowed", line)
            try:
                duplicate = key in data
            except TypeError:
                raise RegistryFileError(f"unhashable mapping key {key!r}", line) from None
            if duplicate:
                raise RegistryFileError(f"duplicate key {key!r}", line)
            data[key] = self.construct_object(value_node, deep=False)
            marks[key] = line
        if self.lines is not None:
            self.lines[id(data)] = marks

    def construct_registry_float(self, node):
        value = self.construct_yaml_float(node)
        if not math.isfinite(value):
            # NaN compares false with every bound, so it would slip past a schema's minimum and maximum.
            raise RegistryFileError(
                f"{node.value!r} is not a finite number (NaN and infinity are not allowed)", node.start_mark.line + 1
            )
        return value

    def construct_registry_seq(self, node):
        data: list = []
        yield data
        data.extend(self.construct_object(child, deep=False) for child in node.value)
        if self.lines is not None:
            self.lines[id(data)] = [child.start_mark.line + 1 for child in node.value]


_RegistryLoader.add_constructor("tag:yaml.org,2002:map", _RegistryLoader.construct_registry_map)
_RegistryLoader.add_constructor("tag:yaml.org,2002:seq", _RegistryLoader.construct_registry_seq)
_RegistryLoader.add_constructor("tag:yaml.org,2002:float", _RegistryLoader.construct_registry_float)
# Dates stay ISO strings so JSON Schema checks their format instead of PyYAML guessing a type.
_RegistryLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != TIMESTAMP_TAG]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


# A run of indentation and block indicators at a line's start: the column where the line's deepest block node begins.
_BLOCK_PREFIX = re.compile(r"^[ \t?:-]+", re.MULTILINE)
_COLLECTION_STARTS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_COLLECTION_ENDS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _depth_bound(text: str) -> int:
    """A cheap upper bound of the document's nesting depth, linear in the text and done in C.

    Flow collections nest once per bracket, so they are bounded by the count of `[` and `{`. A block collection
    nested in another starts at least one column further right every second level (a sequence may share its parent
    mapping's column, its items may not), and its column is where the line's run of indentation and `- `/`? `/`: `
    indicators ends; tags and anchors cannot start a compact nested collection. Registry files stay near 10.
    """
    deepest_prefix = max((len(match) for match in _BLOCK_PREFIX.findall(text)), default=0)
    return text.count("[") + text.count("{") + 2 * deepest_prefix + 5


def _reject_deep_nesting(text: str) -> None:
    """Refuse documents nested deeper than MAX_DEPTH before the (recursive) composer builds them."""
    if _depth_bound(text) <= MAX_DEPTH:
        return
    depth = 0
    for event in yaml.parse(text, Loader=_BaseLoader):  # libyaml's event parser keeps an explicit stack
        if isinstance(event, _COLLECTION_STARTS):
            depth += 1
            if depth > MAX_DEPTH:
                raise RegistryFileError(f"nesting deeper than {MAX_DEPTH} levels", event.start_mark.line + 1)
        elif isinstance(event, _COLLECTION_ENDS):
            depth -= 1


def _reject_anchors(text: str) -> None:
    """Anchors and aliases have no use in the registry and are how YAML bombs are built: refuse them."""
    if "&" not in text and "*" not in text:
        return
    for token in yaml.scan(text, Loader=_BaseLoader):
        if isinstance(token, (yaml.AnchorToken, yaml.AliasToken)):
            kind = "anchor" if isinstance(token, yaml.AnchorToken) else "alias"
            raise RegistryFileError(f"YAML {kind}s are not allowed in the registry", token.start_mark.line + 1)


def decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RegistryFileError(f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})", line) from None


_EVENTS = EventBuilder(_RegistryLoader, MAX_DEPTH)


def parse_text(text: str, *, track_lines: bool = False, path: Path | None = None) -> ParsedDocument:
    if not text.strip():
        raise RegistryFileError("file is empty", 1)
    if not track_lines:  # the common case straight from the events; anything unusual takes the full way below
        data = _EVENTS.document(text)
        if data is not UNUSUAL:
            return ParsedDocument(data=data, path=path)
    try:
        _reject_deep_nesting(text)
        _reject_anchors(text)
        loader = _RegistryLoader(text, track_lines=track_lines)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except RegistryFileError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(part for part in (exc.context, exc.problem) if part) or str(exc)
        raise RegistryFileError(f"invalid YAML: {problem}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise RegistryFileError(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise RegistryFileError("invalid YAML: nesting too deep") from None
    if data is None:
        raise RegistryFileError("file holds no document (only comments or an empty document)", 1)
    return ParsedDocument(data=data, path=path, lines=loader.lines)


_FILE_TYPES = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _refuse_unless_regular(mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    what = next((name for test, name in _FILE_TYPES if test(mode)), "an unknown kind of file")
    raise RegistryFileError(_refusal(what))


def _refusal(what: str) -> str:
    # Never followed or opened, so nothing of what it points at can reach a message.
    return f"{what}, not a regular file: refused (the registry reads regular files only)"


def read_regular_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file: links are never followed and pipes or devices never opened (no hang, no leak)."""
    try:
        _refuse_unless_regular(os.lstat(path).st_mode)
        # O_NOFOLLOW and O_NONBLOCK close the gap between the check and the open (a file swapped for a link or a FIFO).
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # became a link after the lstat
            raise RegistryFileError(_refusal("a symbolic link")) from None
        raise RegistryFileError(f"cannot read file: {exc.strerror}") from None
    try:
        _refuse_unless_regular(os.fstat(descriptor).st_mode)
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(descriptor, max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise RegistryFileError(f"cannot read file: {exc.strerror}") from None
    finally:
        os.close(descriptor)
    if size > max_bytes:
        raise RegistryFileError(f"file is over the {max_bytes}-byte limit for a registry file")
    return b"".join(chunks)


def parse_file(path: Path, max_bytes: int) -> ParsedDocument:
    document = parse_text(decode(read_regular_file(path, max_bytes)), path=path)
    document.max_bytes = max_bytes
    return document
