"""The trace: what every actor did, in order, on the virtual clock; its hash identifies a run.

A record is (virtual ms, actor, kind, fields). Fields are turned into plain JSON values when
recorded, so a later change to the object recorded cannot rewrite history, and the JSON is
canonical (sorted keys, no whitespace choices), so the same run gives the same bytes in any
process. Two safeguards keep secrets out: values under secret-looking keys are replaced, and
any registered secret string (API keys and secrets) is scrubbed wherever it appears.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import orjson

NS_PER_MS = 1_000_000
REDACTED = "<redacted>"
# Lower-cased field names whose values are credentials or signatures, whatever the venue.
SECRET_KEYS = frozenset({
    "x-bapi-api-key", "x-bapi-sign", "x-mbx-apikey", "api_key", "apikey", "api_secret", "secret",
    "sign", "signature", "password",
})


class TimeSource(Protocol):
    def time_ns(self) -> int: ...


class Recorder(Protocol):
    """Where actors report what they did; a venue or a bot needs only this."""

    def record(self, actor: str, kind: str, **fields: Any) -> None: ...

    def add_secret(self, secret: str) -> None: ...

    def add_alias(self, text: str, alias: str) -> None: ...


class NoTrace:
    """A recorder that keeps nothing: the default when nobody is watching."""

    def record(self, actor: str, kind: str, **fields: Any) -> None:
        return None

    def add_secret(self, secret: str) -> None:
        return None

    def add_alias(self, text: str, alias: str) -> None:
        return None


NO_TRACE = NoTrace()


@dataclass(frozen=True, slots=True)
class Record:
    seq: int
    at_ns: int
    actor: str
    kind: str
    fields: Mapping[str, Any]

    @property
    def at_ms(self) -> int:
        # Integer ns to ms: float seconds * 1000 is off by one at some instants (256.9 * 1000).
        return self.at_ns // NS_PER_MS

    def line(self) -> str:
        """The canonical JSON line hashed and saved for this record."""
        return self.encoded().decode("utf-8")

    def encoded(self) -> bytes:
        """The canonical line as UTF-8: compact JSON, keys sorted, nothing escaped that need not be."""
        value = {"ms": self.at_ms, "actor": self.actor, "kind": self.kind, "fields": self.fields}
        try:
            # orjson writes what json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            # writes for the plain values a record holds, small floats aside (5e-05 as 0.00005, 1.5e-06
            # as 1.5e-6), about six times faster: hashing every run's trace took a tenth of a run.
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            # What orjson refuses (integers past 64 bits, lone surrogates): the same value always
            # takes this path, so a line stays a function of its record. A lone surrogate is written
            # as its JSON escape, so the line stays UTF-8 and reads back as the same string.
            return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
                "utf-8", errors="backslashreplace")


class Trace:
    """An append-only list of records stamped by one clock."""

    def __init__(self, clock: TimeSource) -> None:
        self._clock = clock
        self._records: list[Record] = []
        self._replacements: dict[str, str] = {}

    def add_secret(self, secret: str) -> None:
        """Scrub ``secret`` from every string recorded from now on (API keys, API secrets)."""
        if secret:
            self._replacements[secret] = REDACTED

    def add_alias(self, text: str, alias: str) -> None:
        """Write ``alias`` for ``text`` in every string recorded from now on: a machine-specific value
        (a venue's host and port, in an error message a client reports) must not make runs differ."""
        if text:
            self._replacements[text] = alias

    def record(self, actor: str, kind: str, **fields: Any) -> None:
        plain = {name: self._plain(value, name) for name, value in fields.items()}
        self._records.append(Record(len(self._records), self._clock.time_ns(), actor, kind, plain))

    @property
    def records(self) -> tuple[Record, ...]:
        return tuple(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def lines(self) -> Iterator[str]:
        return (record.line() for record in self._records)

    def digest(self) -> str:
        """SHA-256 over the canonical lines: equal digests, equal runs."""
        sha = hashlib.sha256()
        for record in self._records:
            sha.update(record.encoded())
            sha.update(b"\n")
        return sha.hexdigest()

    def save(self, path: str | Path) -> None:
        """Write the trace as JSON lines (the hashed form)."""
        Path(path).write_bytes(b"".join(record.encoded() + b"\n" for record in self._records))

    def timeline(self, *, kinds: Iterable[str] | None = None) -> str:
        """A human-readable rendering: one line per record, time relative to the first record."""
        wanted = None if kinds is None else set(kinds)
        start = self._records[0].at_ns if self._records else 0
        rows = []
        for record in self._records:
            if wanted is not None and record.kind not in wanted:
                continue
            offset_ms = (record.at_ns - start) // NS_PER_MS
            shown = {name: _parsed(value) for name, value in record.fields.items()}
            fields = json.dumps(shown, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            rows.append(f"+{offset_ms // 1000:>5}.{offset_ms % 1000:03d}s  {record.actor:<8} {record.kind:<16} {fields}")
        return "\n".join(rows)

    def first_difference(self, other: Trace) -> str | None:
        """Where two traces part, described; None when they are identical."""
        for mine, theirs in zip(self._records, other._records):
            if mine.line() != theirs.line():
                return f"record {mine.seq} differs:\n  this:  {mine.line()}\n  other: {theirs.line()}"
        if len(self._records) != len(other._records):
            return f"one trace is a prefix of the other: {len(self._records)} vs {len(other._records)} records"
        return None

    # ------------------------------------------------------------------ canonical values

    def _plain(self, value: Any, key: str = "") -> Any:
        if key and _secret_key(key) and value not in (None, ""):
            return REDACTED
        # The common exact types first (a trace records a few hundred of these a second of wall time);
        # subclasses and the rest take the general path below, which gives the same values.
        kind = type(value)
        if kind is str:
            return self._scrub(value)
        if kind is dict:
            return {str(k): self._plain(v, str(k)) for k, v in value.items()}
        if kind is list or kind is tuple:
            return [self._plain(item) for item in value]
        if value is None or isinstance(value, bool | int):
            return value
        if isinstance(value, str):
            return self._scrub(value)
        if isinstance(value, float):  # a subclass (numpy's float64) as the float it is
            return float(value) if value == value and value not in (float("inf"), float("-inf")) else repr(value)
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, enum.Enum):
            return self._plain(value.value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {name: self._plain(getattr(value, name), name) for name in _field_names(kind)}
        if isinstance(value, Mapping):
            return {str(k): self._plain(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._plain(item) for item in value]
        if isinstance(value, set | frozenset):
            return sorted((self._plain(item) for item in value), key=repr)
        if isinstance(value, bytes):
            return self._scrub(value.decode("utf-8", errors="replace"))
        raise TypeError(
            f"a trace field {key!r} holds a {type(value).__name__} ({value!r}), which the trace doesn't (yet) "
            "support: record plain values, Decimals, enums, dataclasses, mappings or sequences"
        )

    def _scrub(self, text: str) -> str:
        for found, replacement in self._replacements.items():
            if found in text:
                text = text.replace(found, replacement)
        return text


@functools.lru_cache(maxsize=4096)  # bounded: keys can come from what a venue sends
def _secret_key(key: str) -> bool:
    return key.lower() in SECRET_KEYS


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(kind))
    return names


def _parsed(value: Any) -> Any:
    # Wire bodies are recorded as sent; a timeline reads better with JSON shown as JSON.
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
