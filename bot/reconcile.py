"""Reconciliation: a pure function of (database state, venue reports, now) returning actions.

The venue is the truth about exposure; the database is the truth about intent and history. The
actions bring the database to the venue's exposure and every held position under one stop of
ours, without ever opening exposure: the only venue writes they lead to are reduce-only stops
and cancels of our own stops. Symbols with an unfinished intent belong to the opener and are
left alone until it finishes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bot.repository import PositionRecord
from bot.values import ClientOrderId, OrderReport, PositionId, PositionReport, Side, VenueClose, VenueOrderId


@dataclass(frozen=True, slots=True)
class Adopt:
    """The venue holds a position the database lacks (a phantom): record it."""

    symbol: str
    side: Side
    size: Decimal
    entry_price: Decimal
    stop: OrderReport | None  # an open stop of ours already covering it, recorded with it


@dataclass(frozen=True, slots=True)
class CloseOut:
    """The database holds a position the venue no longer does (stopped out, closed by hand): close it here."""

    position_id: PositionId
    reason: str
    # When the venue's own report proved it gone (its stop's fill): noted like a close of the bot's,
    # so a lagging list that still shows the position is not adopted back.
    venue_close: VenueClose | None = None


@dataclass(frozen=True, slots=True)
class Resize:
    position_id: PositionId
    size: Decimal


@dataclass(frozen=True, slots=True)
class PlaceStop:
    """The position on ``symbol`` has no open stop of ours covering it: place one (after Adopt/Resize apply)."""

    symbol: str
    side: Side
    size: Decimal
    trigger: Decimal


@dataclass(frozen=True, slots=True)
class RecordStop:
    """An open stop of ours covers the position but the database names another (or none): record it."""

    position_id: PositionId
    venue_order_id: VenueOrderId
    client_order_id: ClientOrderId | None
    trigger: Decimal | None


@dataclass(frozen=True, slots=True)
class CancelStop:
    """A stop of ours that protects nothing the venue holds (or duplicates another): cancel it."""

    symbol: str
    venue_order_id: VenueOrderId
    client_order_id: ClientOrderId | None
    reason: str


Action = Adopt | CloseOut | Resize | RecordStop | PlaceStop | CancelStop


@dataclass(frozen=True, slots=True)
class SyncRules:
    client_prefix: str  # stops whose client id starts with this are ours
    stop_fraction: Decimal  # for a position that has no stop price of its own (adopted)
    settle_ms: int = 5_000  # flat readings spanning this long (after it opened) close a database position out ...
    orphan_ms: int = 60_000  # ... and spanning this long cancel our stops there (they cannot open exposure)
    # A report older than the bot's own close is taken for a lagging list for this long after the
    # close, no longer: should it be real after all, the exposure must not stay bare for good.
    lag_ms: int = 60_000


def reconcile(
    local: Iterable[PositionRecord],
    busy_symbols: frozenset[str],
    venue_positions: Iterable[PositionReport],
    venue_stops: Iterable[OrderReport],
    now_ms: int,
    rules: SyncRules,
    flat_readings: Mapping[str, Sequence[int]] | None = None,
    venue_closes: Mapping[str, VenueClose] | None = None,
    stops_filled: Mapping[PositionId, OrderReport] | None = None,
    closes_filled: Mapping[PositionId, OrderReport] | None = None,
) -> list[Action]:
    """Actions in the order they must run: database fixes, new stops, then stop cancels.

    A replacement stop goes on before the stop it replaces comes off, so a position is never bare.
    ``flat_readings`` holds, per symbol, when consecutive venue readings showed it flat. One
    reading of "flat" (a stale or odd answer can give one) never closes a position out or cancels
    a stop: that takes two or more readings, spanning the settle (or orphan) time.
    ``venue_closes`` holds, per symbol, when (venue time) the bot's latest close there took its side
    off: the close's fill, or the venue's refusal of a reduce-only close for want of anything to
    reduce (which names the side). A position the database does not hold, last changed on the venue
    before then (on that side), is the list showing what the bot already closed (it lags): the symbol
    is left for a later pass, for up to ``rules.lag_ms`` after the close.
    ``stops_filled``: positions whose own stop the venue reported filled for their whole size, with
    that report. Such a position is closed out on one flat reading (the fill proves it gone, the list
    agrees), or when the list shows it no bigger than the fill and last changed before it (the list
    lags: the stop took all of that). The fill is noted like a close of the bot's.
    ``closes_filled``: the same for a close order of the bot's whose outcome it never recorded.
    """
    flat_readings = flat_readings or {}
    venue_closes = venue_closes or {}
    stops_filled = stops_filled or {}
    closes_filled = closes_filled or {}
    held = {p.symbol: p for p in venue_positions if p.size > 0}
    mine = {p.symbol: p for p in local if p.is_open}
    stops: dict[str, list[OrderReport]] = {}
    for stop in venue_stops:
        if stop.client_order_id and stop.client_order_id.startswith(rules.client_prefix) and not stop.status.is_final:
            stops.setdefault(stop.symbol, []).append(stop)

    fixes: list[Action] = []
    cancels: list[Action] = []
    places: list[Action] = []
    for symbol in sorted(set(held) | set(mine) | set(stops)):
        if symbol in busy_symbols:
            continue
        venue_pos, local_pos = held.get(symbol), mine.get(symbol)
        if local_pos is None and _predates(venue_pos, venue_closes.get(symbol), now_ms - rules.lag_ms):
            continue
        readings = flat_readings.get(symbol, ()) if venue_pos is None else None
        stop_price = None
        if local_pos is not None and (local_pos.position_id in stops_filled or local_pos.position_id in closes_filled):
            by_stop = local_pos.position_id in stops_filled
            fill = stops_filled[local_pos.position_id] if by_stop else closes_filled[local_pos.position_id]
            # A list lagging behind the fill shows what the stop took, or (further behind) the symbol
            # as it was before the bot's own close there, whatever the side.
            if venue_pos is None or _taken_by(venue_pos, local_pos, fill) \
                    or _predates(venue_pos, venue_closes.get(symbol), now_ms - rules.lag_ms):
                what = "its stop" if by_stop else "its close"
                shown = "nothing" if venue_pos is None else f"the {venue_pos.side.value} as it was before {what} filled"
                fixes.append(CloseOut(local_pos.position_id, f"{what} filled; the venue shows {shown} on {symbol}",
                                      _filled_at(fill, now_ms)))
                continue  # its stops and any adoption wait for a pass that reads the symbol afresh
        if local_pos is not None and venue_pos is not None and not _agrees(venue_pos, local_pos) \
                and _predates(venue_pos, venue_closes.get(symbol), now_ms - rules.lag_ms):
            # The list shows the symbol as it was before the bot's own close there, so before the entry
            # that followed: it lags (found by the fuzzer, Binance seed 61, where acting on it closed the
            # new long out, adopted the closed short and took the long's stop off). Wait for it, the
            # database's position kept under a stop of ours meanwhile.
            recorded = PositionReport(symbol, local_pos.side, local_pos.qty, local_pos.entry_price)
            if _covering_stop(stops.get(symbol, []), recorded, local_pos) is None:
                places.append(PlaceStop(symbol, local_pos.side, local_pos.qty, local_pos.stop_price or
                                        local_pos.side.stop_price(local_pos.entry_price, rules.stop_fraction)))
            continue
        if local_pos is not None:
            same = same_side(local_pos, venue_pos)
            if not same and (readings is None or _settled(readings, local_pos.opened_ms, rules.settle_ms)):
                held_text = "nothing" if venue_pos is None else f"a {venue_pos.side.value} {venue_pos.size}"
                fixes.append(CloseOut(local_pos.position_id, f"the venue holds {held_text} on {symbol}"))
            elif not same:
                continue  # flat too briefly to judge: a fresh fill may not be listed yet, or the list is stale
            elif venue_pos is not None and venue_pos.size != local_pos.qty:
                fixes.append(Resize(local_pos.position_id, venue_pos.size))
            if same:
                stop_price = local_pos.stop_price
        keep = _covering_stop(stops.get(symbol, []), venue_pos, local_pos)
        if venue_pos is not None and (local_pos is None or local_pos.side is not venue_pos.side):
            fixes.append(Adopt(symbol, venue_pos.side, venue_pos.size, venue_pos.entry_price, keep))
        for stop in stops.get(symbol, []):
            # Only readings taken since the stop existed say it protects nothing.
            if stop is keep or (readings is not None and not _settled(readings, stop.created_ms or 0, rules.orphan_ms)):
                continue
            why = "protects nothing the venue holds" if venue_pos is None else "duplicates or no longer covers"
            cancels.append(CancelStop(symbol, stop.venue_order_id, stop.client_order_id, f"stop {why}"))
        if keep is not None and local_pos is not None and same_side(local_pos, venue_pos) \
                and keep.venue_order_id != local_pos.stop_order_id:
            fixes.append(RecordStop(local_pos.position_id, keep.venue_order_id, keep.client_order_id,
                                    keep.trigger_price))
        if venue_pos is not None and keep is None:
            trigger = stop_price or venue_pos.side.stop_price(venue_pos.entry_price, rules.stop_fraction)
            places.append(PlaceStop(symbol, venue_pos.side, venue_pos.size, trigger))
    return fixes + places + cancels


def stopped_out(
    local: Iterable[PositionRecord], busy_symbols: frozenset[str], stops_filled: Mapping[PositionId, OrderReport],
    now_ms: int,
) -> list[CloseOut]:
    """Close-outs on a stop's fill alone, for a pass that could not read the venue's positions.

    The fill took the whole recorded size, so the recorded position is gone whatever the list would
    say; anything the venue holds besides (an addition from outside) is adopted by the next pass that
    reads the list, as any position the database lacks. The fill is noted as ``reconcile`` notes it.
    """
    return [CloseOut(p.position_id, f"its stop filled; the venue's positions could not be read on {p.symbol}",
                     _filled_at(fill, now_ms))
            for p in local if p.is_open and p.symbol not in busy_symbols
            and (fill := stops_filled.get(p.position_id)) is not None]


def _filled_at(fill: OrderReport, now_ms: int) -> VenueClose:
    """A stop's fill noted like a close of the bot's: when it filled; without the venue's word, now
    (later only sets aside more, for ``lag_ms``)."""
    return VenueClose(fill.updated_ms if fill.updated_ms is not None else now_ms, None)


def _predates(venue_pos: PositionReport | None, close: VenueClose | None, since_ms: int) -> bool:
    """The venue's report shows the side as it was before the bot's own close (made since ``since_ms``)
    took it off. Only that side, for a close proven by a refusal: it says the closed side was flat
    then, not that the symbol was; a fill changed the position whatever its side (``side`` None)."""
    return (venue_pos is not None and close is not None and venue_pos.updated_ms is not None
            and close.venue_ms >= since_ms and close.side in (None, venue_pos.side)
            and venue_pos.updated_ms < close.venue_ms)


def _agrees(venue_pos: PositionReport, local_pos: PositionRecord) -> bool:
    return venue_pos.side is local_pos.side and venue_pos.size == local_pos.qty


def _taken_by(venue_pos: PositionReport, local_pos: PositionRecord, fill: OrderReport) -> bool:
    """The report shows the position's side, no bigger than the stop's fill, as last changed before that
    fill (or, without its time, before the stop was placed): all of it is what the stop took."""
    before_ms = fill.updated_ms if fill.updated_ms is not None else fill.created_ms
    return (venue_pos.side is local_pos.side and venue_pos.size <= fill.filled and before_ms is not None
            and venue_pos.updated_ms is not None and venue_pos.updated_ms < before_ms)


def _settled(readings: Sequence[int], since_ms: int, span_ms: int) -> bool:
    """Two or more flat readings taken since ``since_ms``, at least ``span_ms`` apart end to end."""
    counted = [r for r in readings if r >= since_ms]
    return len(counted) >= 2 and counted[-1] - counted[0] >= span_ms


def same_side(local_pos: PositionRecord, venue_pos: PositionReport | None) -> bool:
    return venue_pos is not None and venue_pos.side is local_pos.side


def _covering_stop(
    candidates: list[OrderReport], venue_pos: PositionReport | None, local_pos: PositionRecord | None
) -> OrderReport | None:
    """The one stop of ours to keep for this symbol: the recorded one if it covers, else the first that does."""
    if venue_pos is None:
        return None
    covering = [s for s in candidates if s.side == venue_pos.side.exit and s.qty >= venue_pos.size]
    for stop in covering:
        if local_pos is not None and stop.venue_order_id == local_pos.stop_order_id:
            return stop
    return min(covering, key=lambda s: s.venue_order_id) if covering else None
