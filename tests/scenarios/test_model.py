"""Scenario files: the library loads, and every mistake is refused with the file, the table and the key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from scenarios.model import ScenarioError, library, load
from simulator.faults import DelayFrame, OnCall, StreamTarget

GOOD = """
id = "x"
title = "t"
story = "s"
venue = "bybit"
duration_ms = 1000
convergence_ms = 100

[[action]]
at_ms = 0
do = "open"
symbol = "GIGA/USDT:USDT"
side = "short"
qty = "920"
"""


def write(tmp_path: Path, text: str, name: str = "x") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_the_library_loads_and_ids_match_file_names() -> None:
    scenarios = library()
    assert "gigausdt-phantom-position" in scenarios
    for scenario_id, scenario in scenarios.items():
        assert scenario.path.stem == scenario_id and scenario.story and scenario.steps


def test_a_minimal_scenario_loads_with_defaults(tmp_path: Path) -> None:
    scenario = load(write(tmp_path, GOOD))
    assert (scenario.balance, scenario.faults, scenario.expectation("anyone").passes) == (10000, (), True)


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: "duraton_ms = 5\n" + t, "x.toml: unknown key(s) ['duraton_ms']"),
    (lambda t: t.replace('qty = "920"', 'qty = "920"\nprise = 1'), "[[action]] #1: unknown key(s) ['prise']"),
    (lambda t: t.replace('do = "open"', 'do = "buy"'), "[[action]] #1: do = 'buy'"),
    (lambda t: t.replace('side = "short"', 'side = "sell"'), "an open needs symbol, side"),
    (lambda t: t.replace('venue = "bybit"', 'venue = "kraken"'), "venue = 'kraken'"),
    (lambda t: t.replace("at_ms = 0", "at_ms = 5000"), "after duration_ms"),
    (lambda t: t + '\n[[price]]\nsymbol = "GIGAUSDT"\nprice = "1"\n', "give exactly one of at_ms or on_fill"),
    (lambda t: t + '\n[[fault]]\nname = "f"\nmethod = "POST"\npath = "/v5/order/create"\neffect = "explode"\n',
     "effect = 'explode'"),
    (lambda t: t + '\n[[fault]]\nname = "f"\nmethod = "POST"\npath = "/p"\neffect = "http"\nstatus = 502\non_call = 0\n',
     "n >= 1"),
    (lambda t: t + '\n[[expect]]\nsubject = "bot"\npasses = "yes"\n', "write true or false"),
    (lambda t: t + '\n[[expect]]\nsubject = "bot"\npasses = true\nviolations = ["phantom position"]\n',
     "a subject that passes has no violations"),
    (lambda t: t.replace('id = "x"', 'id = "y"'), "must match the file name"),
    (lambda t: 'ends_holding = ["GIGA/USDT:USDT sideways 920"]\n' + t, "is not \"SYMBOL long|short SIZE\""),
    (lambda t: t + '\n[[fault]]\nname = "f"\nstream = "/v5/private"\neffect = "delay-frame"\n', "'delay_ms' is required"),
    (lambda t: t + '\n[[fault]]\nname = "f"\neffect = "drop-frame"\n', "'stream' is required"),
    (lambda t: t + '\n[[action]]\nat_ms = 5\ndo = "price"\nprice = "0.02"\n', "a price move needs symbol"),
    (lambda t: t + '\n[[action]]\nat_ms = 5\ndo = "fault"\n', "do = \"fault\" and a fault = { ... } table go"),
    (lambda t: t + '\n[[action]]\nat_ms = 5\ndo = "wait"\nfault = "lost"\n', "fault must be an inline table"),
    (lambda t: t + '\n[[action]]\nat_ms = 5\ndo = "fault"\nfault = { name = "f", effect = "explode" }\n',
     "[[action]] #2 fault: effect = 'explode'"),
])
def test_mistakes_are_refused_by_place(tmp_path: Path, change, message: str) -> None:  # noqa: ANN001
    with pytest.raises(ScenarioError) as caught:
        load(write(tmp_path, change(GOOD)))
    assert message in str(caught.value)
    assert str(tmp_path / "x.toml") in str(caught.value)


def test_a_stream_fault_loads_as_a_frame_router_fault(tmp_path: Path) -> None:
    text = GOOD + '\n[[fault]]\nname = "late"\nstream = "/v5/private"\ntopic = "order"\neffect = "delay-frame"\n' \
        'delay_ms = 500\ntimes = 2\n'
    [fault] = load(write(tmp_path, text)).faults
    assert (fault.target, fault.effect, fault.trigger) == (StreamTarget("/v5/private", "order"), DelayFrame(500),
                                                           OnCall(1, 2))


def test_ends_holding_reads_the_exposure_a_correct_subject_ends_with(tmp_path: Path) -> None:
    scenario = load(write(tmp_path, 'ends_holding = ["GIGA/USDT:USDT short 920", "BTC/USDT:USDT long 0.01"]\n' + GOOD))
    assert scenario.ends_holding == (("BTC/USDT:USDT", "long", Decimal("0.01")), ("GIGA/USDT:USDT", "short", Decimal(920)))
    assert load(write(tmp_path, "ends_holding = []\n" + GOOD)).ends_holding == ()


def test_venue_steps_read_from_actions(tmp_path: Path) -> None:
    text = GOOD + """
[[action]]
at_ms = 10
do = "fault"
fault = { name = "lost", method = "POST", path = "/v5/order/create", effect = "drop-after-apply", on_call = 2 }

[[action]]
at_ms = 20
do = "price"
symbol = "GIGAUSDT"
price = "0.02100"

[[action]]
at_ms = 30
do = "venue-restart"
"""
    steps = load(write(tmp_path, text)).steps
    assert [s.do for s in steps] == ["open", "fault", "price", "venue-restart"]
    assert steps[1].fault is not None and (steps[1].fault.name, steps[1].fault.trigger) == ("lost", OnCall(2))
    assert (steps[2].symbol, steps[2].price) == ("GIGAUSDT", Decimal("0.02100"))


def test_the_closed_order_window_is_a_scenario_key(tmp_path: Path) -> None:
    assert load(write(tmp_path, "closed_order_window = 3\n" + GOOD)).closed_order_window == 3
    assert load(write(tmp_path, GOOD)).closed_order_window is None
    with pytest.raises(ScenarioError, match="closed_order_window must be a whole number"):
        load(write(tmp_path, "closed_order_window = -1\n" + GOOD))


def test_a_scenario_may_start_its_world_at_a_given_instant(tmp_path: Path) -> None:
    assert load(write(tmp_path, "starts_at = 2026-01-01T07:58:00Z\n" + GOOD)).start_ms == 1_767_254_280_000
    assert load(write(tmp_path, "starts_at = 2026-01-01T09:58:00+02:00\n" + GOOD)).start_ms == 1_767_254_280_000
    assert load(write(tmp_path, GOOD)).start_ms is None
    with pytest.raises(ScenarioError, match="not a date-time with an offset"):
        load(write(tmp_path, "starts_at = 2026-01-01T07:58:00\n" + GOOD))  # a local time says no instant


def test_a_start_before_the_epoch_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="before 1970"):
        load(write(tmp_path, "starts_at = 1969-12-31T23:58:00Z\n" + GOOD))
