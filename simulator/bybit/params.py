"""Reading request parameters the way Bybit validates them.

A JSON body is typed: a number where Bybit documents a string (``"qty": 0.01``) or a
string where it documents a boolean is refused with Bybit's generic "Request parameter
error.", as the real venue does. A query string is all text and is parsed. Every problem
becomes a ``BybitError``; nothing here raises anything else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TypeVar

from simulator.bybit.errors import BybitError, invalid, params_error, type_error

E = TypeVar("E")

# Bybit takes plain decimal strings: no exponents, signs, underscores or spaces. The length
# bounds keep absurd inputs ("1e999999", 5000 digits) out of the arithmetic altogether.
DECIMAL = re.compile(r"[0-9]{1,15}(\.[0-9]{1,18})?")
INTEGER = re.compile(r"-?[0-9]{1,18}")

SUPPORTED_CATEGORY = "linear"
KNOWN_CATEGORIES = frozenset({"spot", "linear", "inverse", "option"})


class Params:
    """Parameters of one request: a query string's values (``typed=False``) or a JSON object's members."""

    def __init__(self, values: Mapping[str, object], *, typed: bool = False) -> None:
        self._values = values
        self._typed = typed

    def __contains__(self, name: str) -> bool:
        return self._values.get(name) not in (None, "")

    def raw(self, name: str) -> object:
        return self._values.get(name)

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self._values.get(name)
        if value is None or value == "":
            if required:
                raise invalid(name)
            return None
        if not isinstance(value, str):
            raise type_error(name)
        return value

    def decimal(self, name: str, *, required: bool = False) -> Decimal | None:
        text = self.text(name, required=required)
        if text is None:
            return None
        if not DECIMAL.fullmatch(text):
            raise invalid(name)
        return Decimal(text)

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self._values.get(name)
        if value is None or value == "":
            if required:
                raise invalid(name)
            return None
        if isinstance(value, bool):
            raise type_error(name)
        if isinstance(value, int):
            if abs(value) >= 10**18:
                raise invalid(name)
            return value
        if self._typed:
            raise type_error(name)
        if isinstance(value, str) and INTEGER.fullmatch(value):
            return int(value)
        raise invalid(name)

    def boolean(self, name: str) -> bool:
        value = self._values.get(name)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if self._typed:
            raise type_error(name)
        if value in ("true", "false"):
            return value == "true"
        raise invalid(name)

    def choice(self, name: str, options: Mapping[str, E], *, required: bool = False) -> E | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            return options[value]
        except KeyError:
            raise invalid(name) from None

    def category(self, *, allow: frozenset[str] = frozenset({SUPPORTED_CATEGORY}), default: str | None = None) -> str:
        """The ``category``; ``default`` where Bybit documents one for a missing category (klines, fee rates)."""
        value = self._values.get("category", default)
        if value is not None and not isinstance(value, str):
            raise type_error("category")
        if value not in KNOWN_CATEGORIES:
            raise params_error("Illegal category")
        assert isinstance(value, str)
        if value not in allow:
            raise BybitError(
                10001,
                f"this simulator doesn't (yet) support category={value} here; it models USDT linear "
                f"contracts (category=linear)",
            )
        return value

    def limit(self, *, default: int, maximum: int) -> int:
        value = self.integer("limit")
        if value is None:
            return default
        if not 1 <= value <= maximum:
            raise invalid("limit")
        return value
