from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from bot.lifecycle import IllegalTransition, IntentState
from bot.repository import Repository
from bot.values import ClientOrderId, Intent, IntentId, PositionId, Role, Side, VenueClose, VenueOrderId

SYMBOL = "GIGA/USDT:USDT"


class FakeClock:
    def __init__(self, ms: int = 1_700_000_000_000) -> None:
        self.ms = ms

    def now_ms(self) -> int:
        return self.ms


def make_intent(intent_id: str = "i-1", *, symbol: str = SYMBOL, created_ms: int = 1_000) -> Intent:
    # Trailing zeros and many places: str/Decimal must round-trip them, float would not.
    return Intent(
        intent_id=IntentId(intent_id), symbol=symbol, side=Side.LONG, qty=Decimal("1234.50000000"),
        stop_fraction=Decimal("0.0200"), created_ms=created_ms,
    )


def open_long(repo: Repository, *, symbol: str = SYMBOL, intent_id: IntentId | None = None):
    return repo.open_position(
        symbol=symbol, side=Side.LONG, qty=Decimal(100), entry_price=Decimal("0.012345"), intent_id=intent_id,
        reason="test",
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "file"])
def repo(request, clock, tmp_path):
    path = ":memory:" if request.param == "memory" else str(tmp_path / "bot.sqlite3")
    repository = Repository.open(path, clock)
    yield repository
    repository.close()


@pytest.fixture
def db_path(tmp_path) -> str:
    return str(tmp_path / "bot.sqlite3")


# ---------------------------------------------------------------------------- intents


def test_add_intent_round_trips_every_field_exactly(repo, clock):
    intent = make_intent()

    added = repo.add_intent(intent)
    loaded = repo.intent(intent.intent_id)

    assert added == loaded
    assert loaded.intent == intent
    # Decimal equality ignores exponents; the stored text must keep them.
    assert str(loaded.intent.qty) == "1234.50000000"
    assert str(loaded.intent.stop_fraction) == "0.0200"
    assert loaded.state is IntentState.NEW
    assert loaded.updated_ms == clock.ms
    assert (loaded.entry_order_id, loaded.filled_qty, loaded.avg_price, loaded.reason) == (None, None, None, None)


def test_add_intent_journals_intent_new(repo):
    repo.add_intent(make_intent())

    [event] = repo.events(IntentId("i-1"))
    assert event.kind == "intent.new"
    assert event.data == {"symbol": SYMBOL, "side": "long", "qty": "1234.50000000"}


def test_adding_the_same_intent_twice_is_refused(repo):
    repo.add_intent(make_intent())

    with pytest.raises(sqlite3.IntegrityError):
        repo.add_intent(make_intent())
    assert len(repo.events()) == 1


def test_intent_unknown_id_raises_key_error(repo):
    with pytest.raises(KeyError, match="nope"):
        repo.intent(IntentId("nope"))


def test_has_intent(repo):
    repo.add_intent(make_intent())

    assert repo.has_intent(IntentId("i-1"))
    assert not repo.has_intent(IntentId("i-2"))


def test_transition_records_state_fill_and_journal(repo, clock):
    intent_id = repo.add_intent(make_intent()).intent.intent_id
    repo.transition(intent_id, IntentState.SUBMITTING)
    clock.ms += 5

    record = repo.transition(
        intent_id, IntentState.CONFIRMED, entry_order_id=VenueOrderId("v-1"), filled_qty=Decimal("1234.50000000"),
        avg_price=Decimal("0.0123450"),
    )

    assert record.state is IntentState.CONFIRMED
    assert record.entry_order_id == "v-1"
    assert str(record.filled_qty) == "1234.50000000"
    assert str(record.avg_price) == "0.0123450"
    assert record.updated_ms == clock.ms
    last = repo.events(intent_id)[-1]
    assert last.kind == "intent.confirmed"
    assert last.data["from"] == "submitting"
    assert last.at_ms == clock.ms


def test_transition_keeps_earlier_fields_when_later_ones_are_omitted(repo):
    intent_id = repo.add_intent(make_intent()).intent.intent_id
    repo.transition(intent_id, IntentState.SUBMITTING)
    repo.transition(intent_id, IntentState.SUBMITTED, entry_order_id=VenueOrderId("v-1"))

    record = repo.transition(intent_id, IntentState.ENTRY_FAILED, reason="no fill")

    assert record.entry_order_id == "v-1"
    assert record.reason == "no fill"


def test_illegal_transition_changes_neither_state_nor_journal(repo):
    intent_id = repo.add_intent(make_intent()).intent.intent_id
    events_before = repo.events()

    with pytest.raises(IllegalTransition):
        repo.transition(intent_id, IntentState.OPEN)

    assert repo.intent(intent_id).state is IntentState.NEW
    assert repo.events() == events_before
    # The failed transaction must not leave the connection inside an open transaction.
    assert repo.transition(intent_id, IntentState.SUBMITTING).state is IntentState.SUBMITTING


def test_transition_of_an_unknown_intent_raises_key_error_and_journals_nothing(repo):
    with pytest.raises(KeyError):
        repo.transition(IntentId("ghost"), IntentState.SUBMITTING)

    assert repo.events() == []


def test_illegal_transition_inside_an_outer_transaction_rolls_back_the_whole_unit(repo):
    intent_id = repo.add_intent(make_intent()).intent.intent_id

    with pytest.raises(IllegalTransition), repo.transaction():
        repo.transition(intent_id, IntentState.SUBMITTING)
        repo.transition(intent_id, IntentState.OPEN)

    assert repo.intent(intent_id).state is IntentState.NEW
    assert [e.kind for e in repo.events()] == ["intent.new"]


def test_raising_transaction_rolls_back_transition_and_its_journal_entry(repo):
    intent_id = repo.add_intent(make_intent()).intent.intent_id

    with pytest.raises(RuntimeError, match="crash"), repo.transaction():
        repo.transition(intent_id, IntentState.SUBMITTING)
        assert repo.intent(intent_id).state is IntentState.SUBMITTING
        raise RuntimeError("crash before commit")

    assert repo.intent(intent_id).state is IntentState.NEW
    assert [e.kind for e in repo.events()] == ["intent.new"]


def test_committed_transaction_keeps_all_its_writes(repo):
    intent_id = repo.add_intent(make_intent()).intent.intent_id
    client_id = ClientOrderId("i-1-e")

    with repo.transaction():
        repo.record_order(role=Role.ENTRY, symbol=SYMBOL, side="buy", qty=Decimal(1), client_order_id=client_id,
                          intent_id=intent_id)
        repo.transition(intent_id, IntentState.SUBMITTING)

    assert repo.intent(intent_id).state is IntentState.SUBMITTING
    assert repo.order_ids(client_id) == (None, "sending")
    assert [e.kind for e in repo.events()] == ["intent.new", "order.sending", "intent.submitting"]


def test_unfinished_lists_only_non_final_intents(repo):
    for n, path in enumerate([
        [],
        [IntentState.SUBMITTING],
        [IntentState.ENTRY_FAILED],
        [IntentState.SUBMITTING, IntentState.CONFIRMED, IntentState.ROLLING_BACK],
        [IntentState.SUBMITTING, IntentState.CONFIRMED, IntentState.ROLLING_BACK, IntentState.ROLLED_BACK],
        [IntentState.SUBMITTING, IntentState.CONFIRMED, IntentState.PROTECTED, IntentState.OPEN],
    ]):
        intent_id = repo.add_intent(make_intent(f"i-{n}", created_ms=n)).intent.intent_id
        for state in path:
            repo.transition(intent_id, state)

    unfinished = repo.unfinished()

    assert [r.intent.intent_id for r in unfinished] == ["i-0", "i-1", "i-3"]
    assert [r.state for r in unfinished] == [IntentState.NEW, IntentState.SUBMITTING, IntentState.ROLLING_BACK]
    assert len(repo.intents()) == 6


# ---------------------------------------------------------------------------- orders


def test_record_order_is_idempotent_by_client_id_and_fills_in_the_venue_id_later(repo):
    client_id = ClientOrderId("i-1-e")
    kwargs = {"role": Role.ENTRY, "symbol": SYMBOL, "side": "buy", "qty": Decimal(1), "client_order_id": client_id}

    repo.record_order(**kwargs)
    repo.record_order(**kwargs)
    assert repo.order_ids(client_id) == (None, "sending")

    repo.record_order(**kwargs, venue_order_id=VenueOrderId("v-1"), status="acknowledged")

    assert repo.order_ids(client_id) == ("v-1", "acknowledged")
    assert repo._db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 1


def test_record_order_without_a_venue_id_keeps_the_known_one(repo):
    client_id = ClientOrderId("i-1-e")
    kwargs = {"role": Role.ENTRY, "symbol": SYMBOL, "side": "buy", "qty": Decimal(1), "client_order_id": client_id}
    repo.record_order(**kwargs, venue_order_id=VenueOrderId("v-1"), status="acknowledged")

    repo.record_order(**kwargs, status="filled")

    assert repo.order_ids(client_id) == ("v-1", "filled")


def test_order_ids_of_an_unknown_client_id_is_none(repo):
    assert repo.order_ids(ClientOrderId("never-sent")) is None


def test_order_by_venue_id_finds_the_order_recorded_by_client_id(repo):
    intent_id = repo.add_intent(make_intent()).intent.intent_id
    client_id = ClientOrderId("i-1-s")
    kwargs = {"role": Role.STOP, "symbol": SYMBOL, "side": "sell", "qty": Decimal("2.50"),
              "client_order_id": client_id, "intent_id": intent_id}
    repo.record_order(**kwargs)
    repo.record_order(**kwargs, venue_order_id=VenueOrderId("v-9"), status="open")

    order = repo.order_by_venue_id(VenueOrderId("v-9"))

    assert order is not None
    assert order["client_order_id"] == "i-1-s"
    assert order["intent_id"] == "i-1"
    assert order["role"] == "stop"
    assert Decimal(order["qty"]) == Decimal("2.50")
    assert repo.order_by_venue_id(VenueOrderId("v-unknown")) is None


# ---------------------------------------------------------------------------- positions


def test_open_position_round_trips_and_is_found_by_symbol(repo, clock):
    intent_id = repo.add_intent(make_intent()).intent.intent_id

    position = open_long(repo, intent_id=intent_id)

    assert position.is_open
    assert position.intent_id == intent_id
    assert (position.symbol, position.side) == (SYMBOL, Side.LONG)
    assert str(position.entry_price) == "0.012345"
    assert position.opened_ms == clock.ms
    assert (position.stop_price, position.stop_client_id, position.stop_order_id) == (None, None, None)
    assert repo.open_position_on(SYMBOL) == position
    assert repo.position_for_intent(intent_id) == position
    assert repo.open_position_on("BTC/USDT:USDT") is None


def test_position_for_an_unknown_intent_is_refused_by_the_foreign_key(repo):
    with pytest.raises(sqlite3.IntegrityError):
        open_long(repo, intent_id=IntentId("ghost"))

    assert repo.positions() == []
    assert repo.events() == []


def test_only_one_open_position_per_symbol(repo):
    first = open_long(repo)

    with pytest.raises(sqlite3.IntegrityError):
        open_long(repo)

    assert repo.open_positions() == [first]
    assert [e.kind for e in repo.events()] == ["position.open"]


def test_positions_on_different_symbols_may_be_open_together(repo):
    open_long(repo)
    open_long(repo, symbol="BTC/USDT:USDT")

    assert len(repo.open_positions()) == 2


def test_closed_position_frees_the_symbol_for_a_new_one(repo, clock):
    first = open_long(repo)

    closed = repo.close_position(first.position_id, reason="stopped out")
    clock.ms += 1
    second = open_long(repo)

    assert not closed.is_open
    assert closed.close_reason == "stopped out"
    assert second.position_id != first.position_id
    assert repo.open_position_on(SYMBOL) == second
    assert repo.open_positions() == [second]
    assert len(repo.positions()) == 2


def test_closing_a_closed_position_keeps_its_first_close_and_journals_nothing(repo, clock):
    # Passes running alongside each other can both find a position to close out.
    position = open_long(repo)
    repo.close_position(position.position_id, reason="stopped out")
    clock.ms += 5

    again = repo.close_position(position.position_id, reason="closed again")

    assert again.close_reason == "stopped out"
    assert [e.kind for e in repo.events()] == ["position.open", "position.closed"]


def test_assign_stop_then_set_stop_fills_the_stop_fields(repo):
    position = open_long(repo)
    client_id = ClientOrderId("i-1-s")

    repo.assign_stop(position.position_id, price=Decimal("0.0120981"), client_order_id=client_id)
    assigned = repo.position(position.position_id)
    assert str(assigned.stop_price) == "0.0120981"
    assert assigned.stop_client_id == client_id
    # Assigned but not yet placed: a resumed run must look the stop up by client id.
    assert assigned.stop_order_id is None

    protected = repo.set_stop(position.position_id, price=Decimal("0.0120981"), client_order_id=client_id,
                              venue_order_id=VenueOrderId("v-stop"))

    assert protected.stop_order_id == "v-stop"
    assert protected.stop_client_id == client_id
    assert str(protected.stop_price) == "0.0120981"
    assert repo.position(position.position_id) == protected
    assert [e.kind for e in repo.events()][-2:] == ["position.stop_assigned", "position.protected"]


def test_assign_stop_after_a_placed_stop_clears_the_old_venue_id(repo):
    position = open_long(repo)
    repo.set_stop(position.position_id, price=Decimal("0.012"), client_order_id=ClientOrderId("i-1-s"),
                  venue_order_id=VenueOrderId("v-old"))

    repo.assign_stop(position.position_id, price=Decimal("0.011"), client_order_id=ClientOrderId("i-1-s1"))

    assert repo.position(position.position_id).stop_order_id is None


def test_assign_stop_on_an_unknown_position_raises_and_journals_nothing(repo):
    with pytest.raises(KeyError):
        repo.assign_stop(PositionId(999), price=Decimal(1), client_order_id=ClientOrderId("x"))

    assert repo.events() == []


# ---------------------------------------------------------------------------- journal


def test_journal_entries_are_ordered_and_serialise_decimals_as_text(repo, clock):
    repo.journal("a", IntentId("i-1"), price=Decimal("0.0100"))
    clock.ms += 7
    repo.journal("b", None, n=1)

    first, second = repo.events()

    assert first.seq < second.seq
    assert first.data == {"price": "0.0100"}
    assert (second.at_ms - first.at_ms, second.intent_id) == (7, None)
    assert repo.events(IntentId("i-1")) == [first]


@pytest.mark.parametrize(
    "statement", ["UPDATE events SET kind = 'forged'", "DELETE FROM events"], ids=["update", "delete"]
)
def test_event_journal_is_append_only(repo, statement):
    repo.add_intent(make_intent())
    before = repo.events()

    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        repo._db.execute(statement)

    assert repo.events() == before


# ---------------------------------------------------------------------------- file database


def test_file_database_uses_wal(db_path, clock):
    repo = Repository.open(db_path, clock)
    try:
        assert repo._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        repo.close()


def test_reopened_file_database_sees_intents_positions_and_events(db_path, clock):
    first = Repository.open(db_path, clock)
    intent_id = first.add_intent(make_intent()).intent.intent_id
    first.transition(intent_id, IntentState.SUBMITTING)
    first.transition(intent_id, IntentState.CONFIRMED, entry_order_id=VenueOrderId("v-1"),
                     filled_qty=Decimal("1234.5"), avg_price=Decimal("0.012345"))
    position = open_long(first, intent_id=intent_id)
    first.assign_stop(position.position_id, price=Decimal("0.0121"), client_order_id=ClientOrderId("i-1-s"))
    intents, positions, events = first.intents(), first.positions(), first.events()
    first.close()

    second = Repository.open(db_path, FakeClock(clock.ms + 60_000))
    try:
        assert second.intents() == intents
        assert second.positions() == positions
        assert second.events() == events
        assert [r.intent.intent_id for r in second.unfinished()] == [intent_id]
        # The unique index and triggers survive too: the schema script must not weaken them on reopen.
        with pytest.raises(sqlite3.IntegrityError):
            open_long(second)
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            second._db.execute("DELETE FROM events")
    finally:
        second.close()


def test_second_connection_sees_committed_writes_while_the_first_is_open(db_path, clock):
    writer = Repository.open(db_path, clock)
    reader = Repository.open(db_path, clock)
    try:
        writer.add_intent(make_intent())

        assert reader.has_intent(IntentId("i-1"))
        assert reader.events() == writer.events()
    finally:
        reader.close()
        writer.close()


def test_unused_client_id_skips_every_id_already_sent_and_ignores_lookalikes(repo):
    for client_id in ("hbq-c1", "hbq-c2", "hbq_c3", "hbqXc4"):
        repo.record_order(role=Role.CLOSE, symbol=SYMBOL, side="buy", qty=Decimal(1),
                          client_order_id=ClientOrderId(client_id))

    assert repo.unused_client_id("hbq-c") == "hbq-c3"
    assert repo.unused_client_id("other-c") == "other-c1"


def test_the_version_moves_with_every_write_and_never_with_a_read(repo):
    before = repo.version
    repo.open_positions()
    repo.unfinished()
    assert repo.version == before
    repo.add_intent(make_intent())
    assert repo.version > before


def test_flat_readings_are_kept_and_replaced_whole(repo):
    assert repo.flat_readings() == {}
    repo.set_flat_readings({"GIGA/USDT:USDT": [1_000, 31_000], "BTC/USDT:USDT": [31_000]})
    assert repo.flat_readings() == {"BTC/USDT:USDT": [31_000], "GIGA/USDT:USDT": [1_000, 31_000]}
    repo.set_flat_readings({"GIGA/USDT:USDT": [61_000]})  # a symbol read as held is dropped
    assert repo.flat_readings() == {"GIGA/USDT:USDT": [61_000]}


def test_venue_closes_keep_the_latest_close_and_its_side(repo):
    repo.note_venue_close("GIGA/USDT:USDT", 5_000, Side.LONG)
    repo.note_venue_close("GIGA/USDT:USDT", 3_000, Side.SHORT)  # older: the latest stays, with its side
    assert repo.venue_closes() == {"GIGA/USDT:USDT": VenueClose(5_000, Side.LONG)}
    repo.note_venue_close("GIGA/USDT:USDT", 9_000, Side.SHORT)
    assert repo.venue_closes() == {"GIGA/USDT:USDT": VenueClose(9_000, Side.SHORT)}
    repo.note_venue_close("GIGA/USDT:USDT", 9_500, None)  # a fill: no side
    assert repo.venue_closes() == {"GIGA/USDT:USDT": VenueClose(9_500, None)}


def test_a_database_from_before_closes_kept_their_side_opens_and_keeps_its_closes(db_path, clock):
    old = sqlite3.connect(db_path)
    old.execute("CREATE TABLE venue_closes (symbol TEXT PRIMARY KEY, venue_ms INTEGER NOT NULL)")
    old.execute("INSERT INTO venue_closes VALUES ('GIGA/USDT:USDT', 5000)")
    old.commit()
    old.close()
    repo = Repository.open(str(db_path), clock)
    try:
        assert repo.venue_closes() == {"GIGA/USDT:USDT": VenueClose(5_000, None)}
        repo.note_venue_close("GIGA/USDT:USDT", 7_000, Side.LONG)
        assert repo.venue_closes() == {"GIGA/USDT:USDT": VenueClose(7_000, Side.LONG)}
    finally:
        repo.close()
