"""The trace's record format: canonical values, redaction, integer milliseconds, one digest per run."""

from __future__ import annotations

import collections
import enum
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from simulator.clock import ManualClock
from virtualtime.trace import REDACTED, Trace


class Side(enum.Enum):
    BUY = "Buy"


@dataclass(frozen=True)
class Fill:
    price: Decimal
    side: Side
    tags: frozenset[str]


def _trace(start_ms: int = 0) -> tuple[Trace, ManualClock]:
    clock = ManualClock(start_ms=start_ms)
    return Trace(clock), clock


def test_fields_become_canonical_json_values() -> None:
    trace, _ = _trace()
    trace.record("venue", "fill", fill=Fill(Decimal("59800.50"), Side.BUY, frozenset({"b", "a"})),
                 sizes=(1, 2.5), missing=None, nested={"deep": [Decimal("1E+2")]})
    (record,) = trace.records
    assert record.fields == {
        "fill": {"price": "59800.50", "side": "Buy", "tags": ["a", "b"]},
        "sizes": [1, 2.5], "missing": None, "nested": {"deep": ["1E+2"]},
    }
    assert json.loads(record.line()) == {"ms": 0, "actor": "venue", "kind": "fill", "fields": record.fields}


def test_a_line_is_compact_json_with_sorted_keys_and_text_unescaped() -> None:
    trace, _ = _trace(start_ms=1_700_000_000_123)
    trace.record("venue", "x", zeta="é\u2028\n\x00\"", alpha={"b": 1, "a": [True, None, 2.5, -0.0, 10**16]})
    (record,) = trace.records
    expected = json.dumps({"ms": 1_700_000_000_123, "actor": "venue", "kind": "x", "fields": record.fields},
                          sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert record.line() == expected
    assert record.encoded() == expected.encode("utf-8")


def test_values_the_fast_encoder_refuses_still_give_one_line_and_one_digest() -> None:
    # Integers past 64 bits and lone surrogates take the standard library's encoder: same value, same line.
    lines, digests = set(), set()
    for _ in range(2):
        trace, _ = _trace()
        trace.record("subject", "odd", big=2**70, text="\ud800x")
        (record,) = trace.records
        lines.add(record.line())
        digests.add(trace.digest())
    # The surrogate is written as its JSON escape: the line is UTF-8 and reads back as the same string.
    assert lines == {'{"actor":"subject","fields":{"big":1180591620717411303424,"text":"\\ud800x"},"kind":"odd","ms":0}'}
    assert json.loads(lines.pop())["fields"]["text"] == "\ud800x"
    assert len(digests) == 1


def test_subclasses_of_the_plain_types_give_what_their_base_types_give() -> None:
    # dict, list, tuple and str have a fast path for their exact types; subclasses take the general one.
    class Text(str):
        pass

    class Items(list):  # type: ignore[type-arg]
        pass

    class Real(float):
        pass

    trace, _ = _trace()
    trace.record("venue", "f", value=Real(5e-05))
    assert type(trace.records[0].fields["value"]) is float  # the fast encoder takes floats, not subclasses
    trace, _ = _trace()
    trace.record("venue", "x", plain={1: "a", "k": ("b", ["c"])},
                 sub=collections.OrderedDict([(1, Text("a")), ("k", Items(["b", ["c"]]))]))
    (record,) = trace.records
    assert record.fields["plain"] == record.fields["sub"] == {"1": "a", "k": ["b", ["c"]]}


def test_a_record_is_a_snapshot_not_a_reference() -> None:
    trace, _ = _trace()
    state = {"size": 1}
    trace.record("bot", "state", state=state)
    state["size"] = 2
    assert trace.records[0].fields == {"state": {"size": 1}}


def test_milliseconds_come_from_integer_nanoseconds() -> None:
    # 256.9 * 1000 is 256899.99999999997 in floats: the trace must say 256900.
    trace, clock = _trace()
    clock.advance_ms(256_900)
    trace.record("bot", "tick")
    assert trace.records[0].at_ms == 256_900


def test_credentials_are_redacted_by_name_and_registered_secrets_scrubbed_anywhere() -> None:
    trace, _ = _trace()
    trace.add_secret("KEY123")
    trace.add_secret("s3cret")
    trace.record("venue", "rest.request",
                 headers={"X-BAPI-SIGN": "abcdef", "x-bapi-api-key": "KEY123", "X-BAPI-TIMESTAMP": "1"},
                 body={"signature": "ff00", "sign": "", "note": "origin_string[1KEY1235000] with s3cret"})
    text = "\n".join(trace.lines())
    assert "KEY123" not in text and "s3cret" not in text and "abcdef" not in text and "ff00" not in text
    fields = trace.records[0].fields
    assert fields["headers"] == {"X-BAPI-SIGN": REDACTED, "x-bapi-api-key": REDACTED, "X-BAPI-TIMESTAMP": "1"}
    assert fields["body"]["sign"] == ""  # an empty value reveals nothing and is kept
    assert fields["body"]["note"] == f"origin_string[1{REDACTED}5000] with {REDACTED}"


def test_an_unsupported_value_fails_loudly_with_the_field_name() -> None:
    trace, _ = _trace()
    with pytest.raises(TypeError, match=r"trace field 'when' holds a object .* doesn't \(yet\) support"):
        trace.record("bot", "odd", when=object())


def test_the_digest_identifies_the_run_and_first_difference_says_where_two_runs_part(tmp_path: Path) -> None:
    def run(last_price: str) -> Trace:
        trace, clock = _trace(start_ms=1_767_225_600_000)
        trace.record("bot", "start")
        clock.advance_ms(1500)
        trace.record("venue", "ticker", price=Decimal(last_price))
        return trace

    first, again, other = run("60000"), run("60000"), run("60001")
    assert first.digest() == again.digest() and len(first.digest()) == 64
    assert first.first_difference(again) is None
    assert other.digest() != first.digest()
    assert first.first_difference(other) == (
        "record 1 differs:\n"
        '  this:  {"actor":"venue","fields":{"price":"60000"},"kind":"ticker","ms":1767225601500}\n'
        '  other: {"actor":"venue","fields":{"price":"60001"},"kind":"ticker","ms":1767225601500}'
    )
    path = tmp_path / "run.jsonl"
    first.save(path)
    assert path.read_text().splitlines() == list(first.lines())
    assert first.timeline().splitlines()[1].split()[:3] == ["+", "1.500s", "venue"]


def test_wire_bodies_are_hashed_as_sent_and_shown_as_json_in_the_timeline() -> None:
    trace, _ = _trace()
    trace.record("venue", "rest.response", body='{"retCode":0,"result":{}}', note="[not json")
    assert trace.records[0].fields["body"] == '{"retCode":0,"result":{}}'
    assert trace.timeline().endswith('{"body":{"result":{},"retCode":0},"note":"[not json"}')


def test_an_alias_replaces_a_machine_specific_value_in_everything_recorded_after() -> None:
    trace, _ = _trace()
    trace.add_alias("127.0.0.1:40123", "bybit-venue")
    trace.record("bot", "error", text="POST http://127.0.0.1:40123/v5/order/create", nested={"url": "ws://127.0.0.1:40123/x"})

    [record] = trace.records
    assert record.fields == {"text": "POST http://bybit-venue/v5/order/create", "nested": {"url": "ws://bybit-venue/x"}}
