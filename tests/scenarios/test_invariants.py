"""The invariants' watch: a condition is an invariant broken on a symbol, whatever its evidence says."""

from __future__ import annotations

from decimal import Decimal

from scenarios.invariants import Snapshot, Watch

GIGA = "GIGA/USDT:USDT"


def held(at_ms: int, size: str, *, database: bool = False) -> Snapshot:
    position = ((GIGA, "long", Decimal(size)),)
    return Snapshot(at_ms=at_ms, venue=position, protected=frozenset({GIGA}), database=position if database else ())


def test_a_phantom_that_grows_keeps_its_clock_and_shows_its_latest_size() -> None:
    watch = Watch(grace_ms=60_000)
    for at_ms, size in ((0, "920"), (30_000, "920"), (40_000, "1840"), (70_000, "1840")):
        watch.observe(held(at_ms, size))
    [overdue] = watch.overdue()
    assert (overdue.invariant, overdue.since_ms, overdue.until_ms) == ("phantom position", 0, 70_000)
    assert overdue.evidence == f"venue long 1840 {GIGA} not in the database"

    watch.observe(held(75_000, "1840", database=True))  # recorded: the condition ends
    [violation] = watch.finish()
    assert (violation.since_ms, violation.until_ms) == (0, 70_000)


def test_a_condition_that_ends_within_the_grace_is_no_violation() -> None:
    watch = Watch(grace_ms=60_000)
    watch.observe(held(0, "920"))
    watch.observe(held(50_000, "1840"))
    watch.observe(held(55_000, "1840", database=True))
    assert watch.overdue() == [] and watch.finish() == []
