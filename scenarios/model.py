"""The scenario model: frozen, validated values loaded from TOML files under ``scenarios/library/``.

A scenario names its venue, starting balance and prices, a price path, a fault plan, what the
subject is told to do and when, how long the run lasts, the convergence window, and what each
subject must achieve. Unknown keys are refused with the file, the table and the key, so a typo
never silently drops part of a scenario. Adding a scenario needs no code.
"""

from __future__ import annotations

import datetime
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from simulator.faults import Fault, FaultSpecError, fault_from_table
from simulator.faults.spec import KEYS as FAULT_KEYS

LIBRARY = Path(__file__).parent / "library"
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
VENUES = ("bybit", "binance")
# What the subject is told (open, close, sync, restart) and what happens to the venue around it:
# a price move, a fault planned or cleared, its private streams dropped, a venue restart, or
# nothing but time passing (wait). The fuzzer writes its step programs in these words.
ACTIONS = ("open", "close", "sync", "restart", "price", "fault", "clear-faults", "drop-streams", "venue-restart", "wait")


class ScenarioError(ValueError):
    """A scenario file is wrong; the message names the file, the table and the key."""


@dataclass(frozen=True, slots=True)
class PricePoint:
    symbol: str  # venue symbol, e.g. "GIGAUSDT"
    price: Decimal
    at_ms: int | None  # after the run starts ...
    on_fill: int | None  # ... or right after the subject's n-th fill (1-based)


@dataclass(frozen=True, slots=True)
class Step:
    at_ms: int
    do: str  # one of ACTIONS
    symbol: str | None = None  # ccxt symbol, e.g. "GIGA/USDT:USDT"
    side: str | None = None  # "long" | "short"
    qty: Decimal | None = None
    price: Decimal | None = None  # a price move: symbol is then the venue symbol, e.g. "GIGAUSDT"
    fault: Fault | None = None  # a fault planned at at_ms


@dataclass(frozen=True, slots=True)
class Expectation:
    subject: str
    passes: bool
    violations: tuple[str, ...] = ()  # for a subject that must fail: invariants that must be among its violations
    absent: tuple[str, ...] = ()  # invariants that must not be among them


@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    title: str
    story: str
    venue: str
    balance: Decimal
    prices: tuple[tuple[str, Decimal], ...]  # starting prices by venue symbol
    price_path: tuple[PricePoint, ...]
    faults: tuple[Fault, ...]
    steps: tuple[Step, ...]
    duration_ms: int
    convergence_ms: int
    expectations: tuple[Expectation, ...]
    path: Path
    ends_holding: tuple[tuple[str, str, Decimal], ...] | None = None  # what a correct subject ends with
    closed_order_window: int | None = None  # recently closed orders real-time queries serve (venue default)
    start_ms: int | None = None  # when the world's clock starts (Unix ms); None: the simulation's default

    def expectation(self, subject: str) -> Expectation:
        for expectation in self.expectations:
            if expectation.subject == subject:
                return expectation
        return Expectation(subject, passes=True)  # any other subject (a user's) must pass


_TOP = {"id", "title", "story", "venue", "balance", "duration_ms", "convergence_ms", "start_price", "price",
        "fault", "action", "expect", "ends_holding", "closed_order_window", "starts_at"}
_TABLES = {
    "start_price": {"symbol", "price"},
    "price": {"symbol", "price", "at_ms", "on_fill"},
    "fault": set(FAULT_KEYS),
    "action": {"at_ms", "do", "symbol", "side", "qty", "price", "fault"},
    "expect": {"subject", "passes", "violations", "absent"},
}


def load(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: not valid TOML: {error}") from None
    return parse(raw, path)


def library() -> dict[str, Scenario]:
    """Every scenario under ``scenarios/library/``, by id."""
    found: dict[str, Scenario] = {}
    for file in sorted(LIBRARY.glob("*.toml")):
        scenario = load(file)
        if scenario.id in found:
            raise ScenarioError(f"{file}: id {scenario.id!r} is also used by {found[scenario.id].path}")
        found[scenario.id] = scenario
    return found


def parse(raw: Mapping[str, Any], path: Path) -> Scenario:
    where = str(path)
    _known(raw, _TOP, where)
    tables = {name: _tables(raw, name, where) for name in _TABLES}
    scenario_id = _text(raw, "id", where)
    if path.suffix == ".toml" and path.stem != scenario_id:
        raise ScenarioError(f"{where}: id {scenario_id!r} must match the file name {path.stem!r}")
    venue = _text(raw, "venue", where)
    if venue not in VENUES:
        raise ScenarioError(f"{where}: venue = {venue!r}; this harness serves {list(VENUES)}")
    steps = tuple(sorted((_step(t, f"{where} [[action]] #{n}") for n, t in tables["action"]), key=lambda s: s.at_ms))
    duration = _int(raw, "duration_ms", where)
    if steps and steps[-1].at_ms > duration:
        raise ScenarioError(f"{where}: an action at {steps[-1].at_ms} ms is after duration_ms = {duration}")
    return Scenario(
        id=scenario_id,
        title=_text(raw, "title", where),
        story=_text(raw, "story", where).strip(),
        venue=venue,
        balance=_decimal(raw.get("balance", "10000"), f"{where} balance"),
        prices=tuple((_text(t, "symbol", w), _decimal(_need(t, "price", w), f"{w} price"))
                     for n, t in tables["start_price"] for w in [f"{where} [[start_price]] #{n}"]),
        price_path=tuple(_price(t, f"{where} [[price]] #{n}") for n, t in tables["price"]),
        faults=tuple(_fault(t, f"{where} [[fault]] #{n}") for n, t in tables["fault"]),
        steps=steps,
        duration_ms=duration,
        convergence_ms=_int(raw, "convergence_ms", where),
        expectations=tuple(_expect(t, f"{where} [[expect]] #{n}") for n, t in tables["expect"]),
        path=path,
        ends_holding=_holdings(raw["ends_holding"], f"{where} ends_holding") if "ends_holding" in raw else None,
        closed_order_window=_int(raw, "closed_order_window", where) if "closed_order_window" in raw else None,
        start_ms=_instant(raw["starts_at"], f"{where} starts_at") if "starts_at" in raw else None,
    )


def _instant(value: object, where: str) -> int:
    """A TOML offset date-time (``starts_at = 2026-01-01T07:59:00Z``) as Unix milliseconds."""
    if not isinstance(value, datetime.datetime) or value.tzinfo is None:
        raise ScenarioError(f"{where}: {value!r} is not a date-time with an offset; write e.g. 2026-01-01T07:59:00Z")
    if value < EPOCH:
        raise ScenarioError(f"{where}: {value.isoformat()} is before 1970: the venues' clocks count from the epoch")
    return (value - EPOCH) // datetime.timedelta(milliseconds=1)


def step(table: Mapping[str, Any], where: str = "[[action]]") -> Step:
    """One ``[[action]]`` table read as the model reads it in a file (unknown keys refused)."""
    _known(table, _TABLES["action"], where)
    return _step(table, where)


def _tables(raw: Mapping[str, Any], name: str, where: str) -> list[tuple[int, Mapping[str, Any]]]:
    value = raw.get(name, [])
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise ScenarioError(f"{where}: {name} must be an array of tables, written [[{name}]]")
    for n, table in enumerate(value, 1):
        _known(table, _TABLES[name], f"{where} [[{name}]] #{n}")
    return list(enumerate(value, 1))


def _step(t: Mapping[str, Any], where: str) -> Step:
    do = _text(t, "do", where)
    if do not in ACTIONS:
        raise ScenarioError(f"{where}: do = {do!r}; one of {list(ACTIONS)}")
    fault = t.get("fault")
    if fault is not None and not isinstance(fault, dict):
        raise ScenarioError(f"{where}: fault must be an inline table, fault = {{ name = ..., effect = ... }}")
    step = Step(at_ms=_int(t, "at_ms", where), do=do, symbol=t.get("symbol"), side=t.get("side"),
                qty=_decimal(t["qty"], f"{where} qty") if "qty" in t else None,
                price=_decimal(t["price"], f"{where} price") if "price" in t else None,
                fault=_fault(fault, f"{where} fault") if fault is not None else None)
    if do == "open" and (step.symbol is None or step.side not in ("long", "short") or step.qty is None):
        raise ScenarioError(f"{where}: an open needs symbol, side = \"long\" or \"short\", and qty")
    if do == "close" and step.symbol is None:
        raise ScenarioError(f"{where}: a close needs symbol")
    if do == "price" and (step.symbol is None or step.price is None):
        raise ScenarioError(f"{where}: a price move needs symbol (the venue's, e.g. \"GIGAUSDT\") and price")
    if (do == "fault") != (step.fault is not None):
        raise ScenarioError(f"{where}: do = \"fault\" and a fault = {{ ... }} table go together")
    return step


def _price(t: Mapping[str, Any], where: str) -> PricePoint:
    if ("at_ms" in t) == ("on_fill" in t):
        raise ScenarioError(f"{where}: give exactly one of at_ms or on_fill")
    return PricePoint(symbol=_text(t, "symbol", where), price=_decimal(_need(t, "price", where), f"{where} price"),
                      at_ms=_int(t, "at_ms", where) if "at_ms" in t else None,
                      on_fill=_int(t, "on_fill", where) if "on_fill" in t else None)


def _fault(t: Mapping[str, Any], where: str) -> Fault:
    try:
        return fault_from_table(t)
    except FaultSpecError as error:
        raise ScenarioError(f"{where}: {error}") from None


def _holdings(value: Any, where: str) -> tuple[tuple[str, str, Decimal], ...]:
    """``["GIGA/USDT:USDT short 920", ...]``: the exact venue exposure a correct subject ends with."""
    if not isinstance(value, list):
        raise ScenarioError(f"{where}: a list of \"SYMBOL long|short SIZE\" strings, or [] for flat")
    held = []
    for item in value:
        parts = str(item).split()
        if len(parts) != 3 or parts[1] not in ("long", "short"):
            raise ScenarioError(f"{where}: {item!r} is not \"SYMBOL long|short SIZE\"")
        held.append((parts[0], parts[1], _decimal(parts[2], f"{where} {item!r}")))
    return tuple(sorted(held))


def _expect(t: Mapping[str, Any], where: str) -> Expectation:
    passes = _need(t, "passes", where)
    if not isinstance(passes, bool):
        raise ScenarioError(f"{where}: passes = {passes!r}; write true or false")
    violations = tuple(str(v) for v in t.get("violations", []))
    if passes and violations:
        raise ScenarioError(f"{where}: a subject that passes has no violations to expect")
    return Expectation(_text(t, "subject", where), passes, violations, tuple(str(v) for v in t.get("absent", [])))


def _known(table: Mapping[str, Any], keys: set[str], where: str) -> None:
    unknown = sorted(set(table) - keys)
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {unknown}; known: {sorted(keys)}")


def _need(table: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise ScenarioError(f"{where}: {key!r} is required")
    return table[key]


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = _need(table, key, where)
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"{where}: {key} must be a non-empty string, got {value!r}")
    return value


def _int(table: Mapping[str, Any], key: str, where: str) -> int:
    value = _need(table, key, where)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ScenarioError(f"{where}: {key} must be a whole number >= 0, got {value!r}")
    return value


def _decimal(value: Any, where: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ScenarioError(f"{where} = {value!r}: not a number") from None
    if not number.is_finite() or number < 0:
        raise ScenarioError(f"{where} = {value!r}: must be a finite number >= 0")
    return number
