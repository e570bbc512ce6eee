"""Volatile figures as byte-exact columns: every token comes back exactly, numbers cost a few bytes."""

from __future__ import annotations

import json
import random

import pytest

from snapshots.columns import INT, NEAR, RATIO, RAW, Block, BlockWriter, EntityTokens, decode_value, encode_value
from snapshots.storage import split_volatile_fields
from tests.snapshots.replay import REALDATA

KIMI = REALDATA / "endpoints_moonshotai-kimi-k3_2026-08-25_reduced.json"
TRICKY = [
    b"100",
    b"99.99999999999999",
    b"1e-05",
    b"null",
    b"true",
    b"false",
    b"-0.0",
    b"-0",
    b"0",
    b"-2",
    b"4162.25",
    b"0.10",
    b"-0.5",
    b"30351.360000000015",
    b"99.82397465234993",
    b"120.00000000000001",
    b"1E5",
    b"123456789012345678901234567890",
]


class TestValues:
    @pytest.mark.parametrize("token", TRICKY, ids=lambda t: t.decode())
    def test_every_tricky_token_comes_back_byte_for_byte(self, token):
        kind, ints = encode_value(token)
        assert decode_value(kind, ints, token if kind == RAW else b"") == token

    @pytest.mark.parametrize("predicted", [2687.0, -3.5, 1e17])
    @pytest.mark.parametrize("token", TRICKY, ids=lambda t: t.decode())
    def test_tokens_coded_against_a_prediction_come_back_too(self, token, predicted):
        kind, ints = encode_value(token, predicted)
        assert decode_value(kind, ints, token if kind == RAW else b"", predicted) == token

    def test_a_percentile_near_its_prediction_costs_one_small_integer(self):
        kind, ints = encode_value(b"4030.51", 2687.0 * 1.5)
        assert ints == [2] and decode_value(kind, ints, b"", 2687.0 * 1.5) == b"4030.51"

    def test_numbers_that_reformat_exactly_are_numbers_and_the_rest_raw(self):
        assert encode_value(b"100")[0] == INT
        assert encode_value(b"99.82397465234993")[0] == RATIO  # a real uptime: 100 * k / n
        assert encode_value(b"30351.360000000015")[0] == NEAR  # a real p99: a short decimal plus float noise
        assert encode_value(b"1e-05")[0] == RAW and encode_value(b"-0.0")[0] == RAW


class TestBlocks:
    def test_tokens_and_objects_round_trip_through_a_block(self):
        writer = BlockWriter()
        fields = ["status", "uptime_last_30m", "latency_last_30m", "throughput_last_30m"]
        tokens = [b"0", b"99.5", b'{\n  "p50": 2687,\n  "p75": 4162.25, "p99": 1e-05}', b'{"p50": null}']
        first = writer.add(fields, tokens)
        second = writer.add(["uptime_last_5m"], [b"-0.0"])
        writer.rows = [EntityTokens(7, first, 0, 3), EntityTokens(9, second, 0, 1)]
        block = Block(writer.encode())
        assert block.tokens(first) == tokens and block.tokens(second) == [b"-0.0"]
        assert block.figures(7) == {
            "status": 0,
            "uptime_last_30m": 99.5,
            "latency_last_30m": {"p50": 2687, "p75": 4162.25, "p99": 1e-05},
        }
        assert block.figures(9) == {"uptime_last_5m": -0.0} and block.figures(8) is None

    def test_a_real_endpoint_body_s_figures_round_trip(self):
        body = KIMI.read_bytes()
        _, tokens, fields = split_volatile_fields(body)
        writer = BlockWriter()
        entry = writer.add(fields, tokens)
        content = writer.encode()
        assert Block(content).tokens(entry) == tokens
        endpoints = json.loads(body)["data"]["endpoints"]
        assert len(tokens) == 6 * len(endpoints)  # status, three uptimes, latency and throughput percentiles
        numbers = sum(len(t) for t in tokens)
        assert len(content) < numbers + 1200  # header and shapes: the numbers themselves are packed as varints

    def test_one_entry_is_decoded_with_only_the_entries_before_it_and_any_order_reads_the_same(self):
        body = KIMI.read_bytes()
        _, tokens, fields = split_volatile_fields(body)
        writer = BlockWriter()
        entries = [writer.add(fields, tokens) for _ in range(40)]
        content = writer.encode()
        block = Block(content)
        assert block.tokens(entries[2]) == tokens
        assert len(block._tokens) == 3  # the 37 entries after it are not decoded for it
        backwards = Block(content)
        assert [backwards.tokens(e) for e in reversed(entries)] == [tokens] * 40
        assert [block.tokens(e) for e in entries] == [tokens] * 40

    def test_long_columns_of_every_kind_read_back_as_written_with_their_predictions(self):
        # The reader decodes integers and short decimals inline and learns each percentile's ratio to its p50 from
        # them; a series mixing every kind (big, negative, zero, raw, ratio, near) makes any drift from the writer's
        # predictions show as a wrong token further down the column.
        rng = random.Random(17)
        pool = [*TRICKY, b"1000000000000000", b"999999999999999.5", b"0.000001", b"-12.75", b"7"]

        def percentile() -> bytes:
            roll = rng.random()
            if roll < 0.5:
                return str(rng.randint(-50, 90_000)).encode()
            if roll < 0.8:
                return f"{rng.uniform(-10, 9_000):.{rng.randint(1, 6)}f}".encode()
            return rng.choice(pool)

        writer, written = BlockWriter(), []
        for _ in range(400):
            members = ", ".join(f'"{key}": {percentile().decode()}' for key in ("p50", "p75", "p90", "p99"))
            tokens = [rng.choice(pool), percentile(), ("{" + members + "}").encode()]
            written.append((writer.add(["status", "uptime", "latency"], tokens), tokens))
        block = Block(writer.encode())
        assert [block.tokens(entry) for entry, _ in written] == [tokens for _, tokens in written]
