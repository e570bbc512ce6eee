"""Volatile figures as byte-exact columns: one column per field, numbers stored as small integers.

The tokens cut out of each body by `split_volatile` (uptimes, latency and throughput percentiles, statuses) are
stored per batch in one *column block*, not as strings in the manifest. A flat object token
(`{"p50": 2687, "p75": 4162.25}`) is cut again into its skeleton and one column per key (`latency_last_30m.p75`).
Each value is coded by the first rule that gives its exact bytes back:

- `null`, `true`, `false`; an integer; a short decimal (`4162.25`: mantissa and scale);
- a ratio `100*k/n` as Python and JavaScript print it (real uptimes are successes over requests);
- a float a few units in the last place from a short decimal (`30351.360000000015`: percentile interpolation noise);
- anything else (`1e-05`, `-0.0`) is kept as its bytes in the column's exception list.

Kinds, integers (zigzag varints) and exceptions are separate streams per column, and the whole block is compressed
against the previous keyframe block, so an hour costs a few bytes per endpoint. Each block also maps entity ids to
their tokens, so an endpoint's series is read from the blocks without touching any body.
"""

from __future__ import annotations

import json
import re
import struct
import threading
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction

RAW, NULL, TRUE, FALSE, INT, RATIO, RATIO_AFTER, NEAR = range(8)
DECIMAL = 10  # + scale (1..9)
LITERALS = {b"null": NULL, b"true": TRUE, b"false": FALSE}
_INTEGER = re.compile(rb"-?(?:0|[1-9][0-9]{0,17})")
_DECIMAL = re.compile(rb"-?(?:0|[1-9][0-9]{0,14})\.([0-9]{1,9})")
_FLOAT = re.compile(rb"-?(?:0|[1-9][0-9]*)\.[0-9]+")
_MEMBER = re.compile(rb'"([A-Za-z0-9_]{1,40})"\s*:\s*(-?[0-9][0-9.eE+-]*|null|true|false)')
SLOT = b"\x00"
MAX_ULPS = 1 << 12


def _zigzag(n: int) -> int:
    return n * 2 if n >= 0 else -n * 2 - 1


def _unzigzag(n: int) -> int:
    return n >> 1 if not n & 1 else -((n + 1) >> 1)


def _varint(n: int, out: bytearray) -> None:
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _bits(x: float) -> int:
    return struct.unpack("<q", struct.pack("<d", x))[0]


def _from_bits(n: int) -> float:
    return struct.unpack("<d", struct.pack("<q", n))[0]


def _decimal_text(mantissa: int, scale: int) -> bytes:
    sign = "-" if mantissa < 0 else ""
    whole, frac = divmod(abs(mantissa), 10**scale)
    return f"{sign}{whole}.{frac:0{scale}d}".encode()


def _ratio(x: float, token: bytes) -> tuple[int, list[int]] | None:
    if not 0 < x < 100:
        return None
    approx = Fraction(x / 100).limit_denominator(10_000_000)
    k, n = approx.numerator, approx.denominator  # k < n: stored as n and the failures n - k, a small number
    if repr(100 * k / n).encode() == token:
        return RATIO, [n, n - k]
    if repr(k / n * 100).encode() == token:
        return RATIO_AFTER, [n, n - k]
    return None


def _near(x: float, token: bytes) -> tuple[int, list[int]] | None:
    bits = _bits(x)
    for scale in range(0, 7):
        try:
            mantissa = int(Decimal(token.decode()).scaleb(scale).to_integral_value())
        except (InvalidOperation, ValueError):
            return None
        base = _bits(float(f"{mantissa}e-{scale}"))
        offset = bits - base
        if abs(offset) < MAX_ULPS and repr(_from_bits(base + offset)).encode() == token:
            return NEAR, [scale, _zigzag(mantissa), _zigzag(offset)]
    return None


def _guess(predicted: float | None, scale: int) -> int:
    """The mantissa at `scale` a prediction gives (0 without one): mantissas are stored as the error of it."""
    if predicted is None:
        return 0
    guess = predicted * 10**scale
    return round(guess) if abs(guess) < 1e18 else 0


def encode_value(token: bytes, predicted: float | None = None) -> tuple[int, list[int]]:
    """(kind, integers) giving back `token` exactly; (RAW, []) when no rule does.

    With `predicted` (a percentile from its object's p50, see `Column`), mantissas are stored as the difference."""
    if token in LITERALS:
        return LITERALS[token], []
    if _INTEGER.fullmatch(token) and token != b"-0":
        return INT, [_zigzag(int(token) - _guess(predicted, 0))]
    match = _DECIMAL.fullmatch(token)
    if match:
        scale = len(match.group(1))
        mantissa = int(token.replace(b".", b""))
        if _decimal_text(mantissa, scale) == token:
            return DECIMAL + scale, [_zigzag(mantissa - _guess(predicted, scale))]
    if _FLOAT.fullmatch(token):
        x = float(token)
        if repr(x).encode() == token:
            near = _near(x, token)
            if near is not None:
                scale, mantissa, offset = near[1]
                near = (NEAR, [scale, _zigzag(_unzigzag(mantissa) - _guess(predicted, scale)), offset])
            return _ratio(x, token) or near or (RAW, [])
    return RAW, []


def decode_value(kind: int, ints: list[int], raw: bytes, predicted: float | None = None) -> bytes:
    if kind == RAW:
        return raw
    if kind in (NULL, TRUE, FALSE):
        return (b"null", b"true", b"false")[kind - NULL]
    if kind == INT:
        return str(_unzigzag(ints[0]) + _guess(predicted, 0)).encode()
    if kind >= DECIMAL:
        scale = kind - DECIMAL
        return _decimal_text(_unzigzag(ints[0]) + _guess(predicted, scale), scale)
    if kind in (RATIO, RATIO_AFTER):
        n, k = ints[0], ints[0] - ints[1]
        return repr(100 * k / n if kind == RATIO else k / n * 100).encode()
    scale, mantissa, offset = ints
    mantissa = _unzigzag(mantissa) + _guess(predicted, scale)
    return repr(_from_bits(_bits(float(f"{mantissa}e-{scale}")) + _unzigzag(offset))).encode()


def number(token: bytes) -> float | None:
    """A token's value when it is a finite, non-zero plain number (what predictions are made from)."""
    if not (_INTEGER.fullmatch(token) or _FLOAT.fullmatch(token)):
        return None
    value = float(token)
    return value if value and abs(value) < 1e15 else None


ARITY = {INT: 1, RATIO: 2, RATIO_AFTER: 2, NEAR: 3}


class _Ratio:
    """A percentile's ratio to its object's p50 in the previous row of its column: what predicts the next one."""

    ratio = 1.0

    def predict(self, base: float | None) -> float | None:
        return None if base is None else base * self.ratio

    def learn(self, token: bytes, base: float | None) -> None:
        if base is None:  # a column without a base (most) never predicts: nothing to learn
            return
        self.learn_value(number(token), base)

    def learn_value(self, value: float | None, base: float | None) -> None:
        """`learn` from the token's value as `number` reads it."""
        if base is not None and value is not None:
            self.ratio = value / base


@dataclass
class Column(_Ratio):
    kinds: bytearray = field(default_factory=bytearray)
    ints: bytearray = field(default_factory=bytearray)
    raw: list[bytes] = field(default_factory=list)

    def add(self, token: bytes, base: float | None = None) -> None:
        """Append a value; `base` is its object's first member (p75 is coded as its distance from a guess)."""
        kind, ints = encode_value(token, self.predict(base))
        if kind == RAW and b"\n" in token:
            raise ValueError("a raw token holds a newline")
        self.kinds.append(kind)
        for n in ints:
            _varint(n, self.ints)
        if kind == RAW:
            self.raw.append(token)
        self.learn(token, base)

    def sections(self) -> tuple[bytes, bytes, bytes]:
        return bytes(self.kinds), bytes(self.ints), b"\n".join(self.raw)


class ColumnReader(_Ratio):
    """Reads a column's values in order, making the same predictions as when it was written.

    Integers and short decimals (nearly every figure) are decoded inline, and their value as `number` would read it
    kept in `last_number` without parsing the token again; every other kind goes through `decode_value`."""

    def __init__(self, kinds: bytes, ints: bytes, raw: bytes):
        self.kinds, self.ints, self.raws = kinds, ints, iter(raw.split(b"\n")) if raw else iter(())
        self.index = self.pos = 0
        self.last_number: float | None = None

    def next(self, base: float | None = None) -> bytes:
        kind = self.kinds[self.index]
        self.index += 1
        ints, pos = self.ints, self.pos
        if kind == INT or kind >= DECIMAL:  # one integer: the mantissa's error against the prediction
            n = ints[pos]
            if n < 0x80:  # most integers are one byte: no call
                pos += 1
            else:
                n, pos = _read_varint(ints, pos)
            self.pos = pos
            scale = 0 if kind == INT else kind - DECIMAL
            mantissa = _unzigzag(n) + (0 if base is None else _guess(base * self.ratio, scale))
            token = str(mantissa).encode() if kind == INT else _decimal_text(mantissa, scale)
            parsed = float(token)  # what `number` gives for these tokens, without its pattern checks
            self.last_number = parsed if parsed and abs(parsed) < 1e15 else None
            self.learn_value(self.last_number, base)
            return token
        numbers = []
        for _ in range(ARITY.get(kind, 0)):
            byte = ints[pos]
            if byte < 0x80:
                numbers.append(byte)
                pos += 1
            else:
                n, pos = _read_varint(ints, pos)
                numbers.append(n)
        self.pos = pos
        token = decode_value(kind, numbers, next(self.raws) if kind == RAW else b"", self.predict(base))
        self.last_number = number(token)
        self.learn_value(self.last_number, base)
        return token


def split_object(token: bytes) -> tuple[bytes, list[tuple[str, bytes]]] | None:
    """A flat object token as (skeleton, [(key, value bytes)]), or None when it is not one that round-trips."""
    if not token.startswith(b"{"):
        return None
    members = list(_MEMBER.finditer(token))
    parts, values, last = [], [], 0
    for match in members:
        parts.append(token[last : match.start(2)])
        values.append((match.group(1).decode(), match.group(2)))
        last = match.end(2)
    parts.append(token[last:])
    skeleton = SLOT.join(parts)
    if not values or SLOT in token or _join_object(skeleton, [v for _, v in values]) != token:
        return None
    return skeleton, values


def _join_object(skeleton: bytes, values: list[bytes]) -> bytes:
    return _join_parts(skeleton.split(SLOT), values)


def _join_parts(parts: list[bytes], values: list[bytes]) -> bytes:
    """A skeleton split at its slots, with `values` put back between its parts."""
    out = [parts[0]]
    for value, part in zip(values, parts[1:], strict=True):
        out += [value, part]
    return b"".join(out)


# --- a batch's block ------------------------------------------------------------------------------------------------


@dataclass
class EntityTokens:
    """Which tokens of which entry are one entity's figures."""

    entity_id: int
    entry: int
    start: int
    count: int


class BlockWriter:
    """Collects the tokens of a batch's bodies, entry by entry (in manifest order), into one column block."""

    def __init__(self):
        self.columns: dict[str, Column] = {}
        self.shapes: dict[str, int] = {}
        self.entry_shapes: list[int] = []
        self.rows: list[EntityTokens] = []

    def add(self, fields: list[str], tokens: list[bytes]) -> int:
        """Add one body's tokens (`fields[i]` names token i); the entry's index in the block."""
        slots: list = []
        for name, token in zip(fields, tokens, strict=True):
            parts = split_object(token)
            if parts is None:
                slots.append(name)
                self._column(name).add(token)
            else:
                skeleton, members = parts
                slots.append([name, skeleton.decode("latin-1"), [key for key, _ in members]])
                base = number(members[0][1])
                for position, (key, value) in enumerate(members):
                    self._column(f"{name}.{key}").add(value, base if position else None)
        shape = json.dumps(slots, separators=(",", ":"))
        self.entry_shapes.append(self.shapes.setdefault(shape, len(self.shapes)))
        return len(self.entry_shapes) - 1

    def _column(self, name: str) -> Column:
        column = self.columns.get(name)
        if column is None:
            column = self.columns[name] = Column()
        return column

    def encode(self) -> bytes:
        names = sorted(self.columns)
        sections = [section for name in names for section in self.columns[name].sections()]
        rows: list[int] = []
        previous = 0
        for row in sorted(self.rows, key=lambda r: r.entity_id):
            rows += [row.entity_id - previous, row.entry, row.start, row.count]
            previous = row.entity_id
        header = {
            "columns": names,
            "lengths": [len(section) for section in sections],
            "shapes": [json.loads(shape) for shape in self.shapes],
            "entries": self.entry_shapes,
            "rows": rows,
        }
        return json.dumps(header, separators=(",", ":")).encode() + b"\n" + b"".join(sections)


class Block:
    """A decoded column block: each entry's tokens, and each entity's figures."""

    def __init__(self, content: bytes):
        head, _, body = content.partition(b"\n")
        header = json.loads(head)
        lengths, pos, sections = header["lengths"], 0, {}
        for i, name in enumerate(header["columns"]):
            parts = []
            for length in lengths[3 * i : 3 * i + 3]:
                parts.append(body[pos : pos + length])
                pos += length
            sections[name] = parts
        self.shapes = header["shapes"]
        self.entry_shapes = header["entries"]
        self._sections = sections
        self._tokens: list[list[bytes]] = []  # the entries decoded so far, in order (see `tokens`)
        self._cursors: dict[str, ColumnReader] | None = None
        self._plans: dict[int, list] = {}  # per entry shape, how its entries are read (see `_plan`)
        self._lock = threading.Lock()  # a decoded block is shared by a process's threads (figures.BLOCKS)
        flat, entity_id = header["rows"], 0
        self.rows: dict[int, EntityTokens] = {}
        for i in range(0, len(flat), 4):
            entity_id += flat[i]
            self.rows[entity_id] = EntityTokens(entity_id, *flat[i + 1 : i + 4])

    def tokens(self, entry: int) -> list[bytes]:
        """One entry's tokens. Columns are read in order, so entries are decoded up to this one and kept: one
        entity's figures cost the entries before it in its page, not the whole block."""
        if entry < len(self._tokens):
            return self._tokens[entry]
        with self._lock:
            return self._decode_until(entry)

    def _decode_until(self, entry: int) -> list[bytes]:
        if self._cursors is None:
            self._cursors = {name: ColumnReader(*parts) for name, parts in self._sections.items()}
        decoded, plans = self._tokens, self._plans
        while len(decoded) <= entry:
            shape = self.entry_shapes[len(decoded)]
            plan = plans.get(shape)
            if plan is None:
                plan = plans[shape] = self._plan(shape)
            tokens = []
            for cursor, parts, members_after in plan:
                if parts is None:
                    tokens.append(cursor.next())
                    continue
                first = cursor.next()
                base = cursor.last_number  # = number(first)
                tokens.append(_join_parts(parts, [first, *(member.next(base) for member in members_after)]))
            decoded.append(tokens)
        return decoded[entry]

    def _plan(self, shape: int) -> list:
        """How an entry of this shape is read: per slot, its (first) column's reader and, for an object, the
        skeleton's parts and its other members' readers."""
        cursors = self._cursors  # per slot: (reader, skeleton parts or None, other members' readers or None)
        assert cursors is not None
        plan: list[tuple[ColumnReader, list[bytes] | None, list[ColumnReader] | None]] = []
        for slot in self.shapes[shape]:
            if isinstance(slot, str):
                plan.append((cursors[slot], None, None))
            else:
                name, skeleton, keys = slot
                readers = [cursors[f"{name}.{key}"] for key in keys]
                plan.append((readers[0], skeleton.encode("latin-1").split(SLOT), readers[1:]))
        return plan

    def figures(self, entity_id: int) -> dict | None:
        """An entity's volatile fields in this batch, as JSON values (None when the batch did not see it)."""
        row = self.rows.get(entity_id)
        if row is None:
            return None
        tokens = self.tokens(row.entry)[row.start : row.start + row.count]
        slots = self.shapes[self.entry_shapes[row.entry]][row.start : row.start + row.count]
        return {
            (slot if isinstance(slot, str) else slot[0]): json.loads(token)
            for slot, token in zip(slots, tokens, strict=True)
        }
