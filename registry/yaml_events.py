"""The common case of a registry parse, built straight from libyaml's events: half the time of PyYAML's node tree.

PyYAML composes a node per value and then constructs Python objects from the nodes through its generic constructor.
A registry document needs none of that: plain mappings, sequences and scalars, no tags, anchors or complex keys.
`fast_document` builds exactly what `yamlsafe._RegistryLoader` builds for such a document, and answers `UNUSUAL` at
the first thing out of the ordinary (a tag, an anchor, a duplicate or merge key, a non-finite float, deep nesting,
a second document, a syntax error). The caller then parses the text the full way, which accepts or refuses it with
the exact message and line it always gave: this path only ever speeds up documents the full parse accepts.
"""

from __future__ import annotations

import math

from yaml import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    ScalarNode,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)

UNUSUAL = object()  # "parse this one the full way"
STR_TAG = "tag:yaml.org,2002:str"
# Scalars of these tags are built by the loader's own constructors.
_BUILT_TAGS = frozenset(
    {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"}
)
# Plain scalars remembered (short ones only, and at most this many), so hostile input cannot grow the memo unbounded.
_MEMO_LIMIT = 20_000
_MEMO_VALUE_LENGTH = 64
_NO_KEY = object()


class _Unusual(Exception):
    pass


class EventBuilder:
    """Builds documents from a loader class's events with that class's implicit resolvers and scalar constructors."""

    def __init__(self, loader_class, max_depth: int):
        self.loader_class = loader_class
        self.max_depth = max_depth
        resolvers = loader_class.yaml_implicit_resolvers
        wildcard = resolvers.get(None, [])
        # By a plain scalar's first character, the resolvers that may claim it; none means a string.
        self._resolvers = {first: [*found, *wildcard] for first, found in resolvers.items() if first is not None}
        self._wildcard = wildcard
        self._memo: dict[str, object] = {}  # plain scalar text -> its value (all immutable)

    def _plain(self, loader, value: str) -> object:
        """A plain scalar as the loader resolves and constructs it (remembered: keys and enums repeat in every file)."""
        candidates = self._resolvers.get(value[:1], self._wildcard)
        tag = next((tag for tag, regexp in candidates if regexp.match(value)), STR_TAG) if candidates else STR_TAG
        if tag == STR_TAG:
            built: object = value
        elif tag in _BUILT_TAGS:
            built = self.loader_class.yaml_constructors[tag](loader, ScalarNode(tag, value))
            if isinstance(built, float) and not math.isfinite(built):
                raise _Unusual
        else:  # merge keys (<<), value (=) and the like: the full parse says what they are
            raise _Unusual
        if len(value) <= _MEMO_VALUE_LENGTH:
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[value] = built
        return built

    def document(self, text: str) -> object:
        """The document's data, or UNUSUAL when the full parse must decide."""
        loader = self.loader_class(text)
        try:
            return self._build(loader)
        except Exception:  # _Unusual, a YAML error, a constructor's refusal: the full parse words it
            return UNUSUAL
        finally:
            loader.dispose()

    def _build(self, loader) -> object:
        get_event = loader.get_event
        if type(get_event()) is not StreamStartEvent or type(get_event()) is not DocumentStartEvent:
            raise _Unusual
        root: object = None
        containers: list = []  # the open mappings and sequences, innermost last
        keys: list = []  # per open container: the mapping key awaiting its value, or _NO_KEY
        plain, remembered = self._plain, self._memo.get
        while True:
            event = get_event()
            kind = type(event)
            if kind is ScalarEvent:
                if event.anchor is not None or event.tag is not None:
                    raise _Unusual
                value = event.value
                if event.implicit[0]:
                    known = remembered(value, _NO_KEY)
                    value = plain(loader, value) if known is _NO_KEY else known
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                if event.anchor is not None or event.tag is not None or len(containers) >= self.max_depth:
                    raise _Unusual
                value = {} if kind is MappingStartEvent else []
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                containers.pop()
                keys.pop()
                continue
            elif kind is DocumentEndEvent:
                break
            else:  # an alias, or anything else
                raise _Unusual
            if not containers:
                root = value
            else:
                parent = containers[-1]
                if type(parent) is list:
                    parent.append(value)
                elif keys[-1] is _NO_KEY:
                    if kind is not ScalarEvent or value in parent:  # a complex or duplicate key
                        raise _Unusual
                    keys[-1] = value
                    continue
                else:
                    parent[keys[-1]] = value
                    keys[-1] = _NO_KEY
            if kind is not ScalarEvent:
                containers.append(value)
                keys.append(_NO_KEY)
        if type(get_event()) is not StreamEndEvent or root is None:  # a second document, or none
            raise _Unusual
        return root
