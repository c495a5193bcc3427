"""Hypothesis strategies for what a careless or broken client sends a venue: a valid request bent.

A request is drawn as one of a venue's endpoint templates (a valid call, so refusals come from deep
inside the handlers and not only from the first missing parameter) with a few edits: a parameter
dropped, its value bent (a non-ASCII digit, padding, a sign, an exponent), or set to a junk value
(a wrong type, an odd number, a stray word, unicode, a nested object). The robustness tests of each venue send these and hold the venue to its own error shapes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Number-like text that parsers get wrong: exponents, signs, padding, separators, extremes.
NUMBER_TEXT = (
    "0", "0.0", "-0", "1", "-1", "0.001", "0.01", "0.0015", "1.", ".5", "00.10", "1e3", "1E-2", "0x10",
    " 1", "1 ", "1_000", "1,5", "+1", "NaN", "nan", "Infinity", "-Infinity", "inf", "9" * 16, "9" * 40,
    "0." + "0" * 30 + "1", "59350", "60000.05", "12345678901234567890", "-9223372036854775809",
    # Digits outside ASCII: str.isdigit() takes all three, int() only the last two.
    "\u00b2", "1767225600000\u00b2", "\u0663", "\uff11\uff10",
)
# Words the venues know, out of place: another field's value is the likeliest client mistake.
WORDS = (
    "", " ", "linear", "spot", "inverse", "option", "BTCUSDT", "GIGAUSDT", "ETHUSDT", "btcusdt", "NOPEUSDT",
    "Buy", "Sell", "BUY", "SELL", "Market", "Limit", "MARKET", "LIMIT", "STOP_MARKET", "GTC", "IOC", "FOK",
    "PostOnly", "GTX", "Order", "StopOrder", "tpslOrder", "Full", "Partial", "UNIFIED", "CONTRACT", "USDT",
    "true", "false", "True", "null", "None", "LastPrice", "MarkPrice", "IndexPrice", "CONTRACT_PRICE",
    "MARK_PRICE", "New", "Filled", "Cancelled", "Trade", "LONG", "SHORT", "BOTH", "ISOLATED", "CROSSED",
    "RESULT", "ACK", "CONDITIONAL", "null\x00", "\u00e9t\u00e9", "\U0001f600", "\ud800", "a" * 300,
    "%s%s%n", "../../etc/passwd", "{}", "[]", "1;DROP TABLE orders",
)

texts = st.one_of(st.sampled_from(NUMBER_TEXT), st.sampled_from(WORDS), st.text(max_size=24))
json_atoms = st.one_of(
    texts,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
)
json_values = st.recursive(
    json_atoms,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


# A long hunt: VENUE_HARNESS_DEEP=5000 runs that many random examples per test instead of the fixed,
# derandomized set CI replays.
DEEP = "VENUE_HARNESS_DEEP"


def examples(count: int) -> settings:
    """``count`` derandomized examples, the same every run; ``$VENUE_HARNESS_DEEP`` random ones when set.
    Each example builds a world (a loop, a venue), so there is no per-example deadline."""
    deep = int(os.environ.get(DEEP) or 0)
    return settings(max_examples=deep or count, derandomize=not deep, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def untemplated(routes: Iterable[Any], templates: Iterable[Template]) -> set[tuple[str, str]]:
    """The (method, path) of every route no template calls."""
    return {(r.method, r.path) for r in routes} - {(t.method, t.path) for t in templates}


# aiohttp refuses a request line longer than this (HTTP 400, plain text) before any venue code sees
# it, as the real venues' CDN does past its own URL limit (8,192 bytes on CloudFront) with a 414
# page: neither answer is the venue's, and what exactly the venues answer there is undocumented.
MAX_REQUEST_LINE = 8190


def beyond_request_line(method: str, path_qs: str) -> bool:
    return len(f"{method} {path_qs} HTTP/1.1") > MAX_REQUEST_LINE


@dataclass(frozen=True)
class Template:
    """A valid call of one endpoint; a value that is a ``Placeholder`` is filled in per world."""

    method: str
    path: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Placeholder:
    name: str


_FULLWIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))
_ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x0660 + d) for d in range(10)))
# Near misses of a valid value: what a client's formatting bug makes of it.
PERTURBATIONS: dict[str, Callable[[str], str]] = {
    "superscript": lambda v: v + "\u00b2",
    "fullwidth": lambda v: v.translate(_FULLWIDTH),
    "arabic-indic": lambda v: v.translate(_ARABIC_INDIC),
    "padded": lambda v: f" {v} ",
    "signed": lambda v: "-" + v,
    "plus": lambda v: "+" + v,
    "exponent": lambda v: v + "e0",
    "doubled": lambda v: v + v,
    "long": lambda v: v * 40,
    "lower": str.lower,
    "upper": str.upper,
    "nul": lambda v: v + "\x00",
    "comma": lambda v: v.replace(".", ","),
    "trailing-dot": lambda v: v + ".",
    "empty": lambda v: "",
}


@dataclass(frozen=True)
class Perturb:
    """An edit that bends the value a parameter already has (see ``PERTURBATIONS``)."""

    how: str

    def __call__(self, value: Any) -> str:
        text = value if isinstance(value, str) else json.dumps(value)
        return PERTURBATIONS[self.how](text)


@dataclass(frozen=True)
class Bent:
    """A template with edits: each edit drops a parameter (value ``DROP``), bends its value
    (a ``Perturb``) or sets it."""

    template: Template
    edits: tuple[tuple[str, Any], ...]

    def params(self, fill: Mapping[str, Any]) -> dict[str, Any]:
        params = {name: _filled(value, fill) for name, value in self.template.params.items()}
        for name, value in self.edits:
            if value is DROP:
                params.pop(name, None)
            elif isinstance(value, Perturb):
                params[name] = value(params.get(name, ""))
            else:
                params[name] = value
        return params

    def __repr__(self) -> str:
        return f"Bent({self.template.method} {self.template.path}, edits={self.edits!r})"


def _filled(value: Any, fill: Mapping[str, Any]) -> Any:
    if isinstance(value, Placeholder):
        return fill[value.name]
    if isinstance(value, list):
        return [_filled(item, fill) for item in value]
    return value


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP: Any = _Drop()


# About two edits in three touch the template's own parameters; of all edits about 60% bend a value,
# 30% set a drawn one and 10% drop the parameter.
_NAME_SOURCES = ("own", "own", "own", "own", "vocabulary", "made-up")
_EDITS = ("drop", "drop", *sorted(PERTURBATIONS), "value", "value", "value", "value", "value", "value")


def bent(templates: Sequence[Template], vocabulary: Sequence[str], values: st.SearchStrategy[Any],
         *, max_edits: int = 3) -> st.SearchStrategy[Bent]:
    """A template with up to ``max_edits`` edits, mostly to its own parameters, else to the venue's
    other parameter names (``vocabulary``) or a made-up name: a drop, a near miss of the value, or
    a value drawn from ``values``."""

    @st.composite
    def draw(data: st.DrawFn) -> Bent:
        template = data(st.sampled_from(templates))
        own = sorted(template.params) or list(vocabulary)
        edits = []
        for _ in range(data(st.integers(0, max_edits))):
            # Drawn from weighted lists: Hypothesis favours a one_of's first branches.
            source = data(st.sampled_from(_NAME_SOURCES))
            name = (data(st.sampled_from(own)) if source == "own" else data(st.sampled_from(vocabulary))
                    if source == "vocabulary" else data(st.text(min_size=1, max_size=8)))
            how = data(st.sampled_from(_EDITS))
            edits.append((name, DROP if how == "drop" else data(values) if how == "value" else Perturb(how)))
        return Bent(template, tuple(edits))

    return draw()
