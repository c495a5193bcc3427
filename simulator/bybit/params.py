"""Reading request parameters the way Bybit validates them.

Every problem becomes a ``BybitError`` with Bybit's params-error code; nothing here
raises anything else, so a bad request can never surface as a traceback.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from decimal import Decimal
from typing import TypeVar

from simulator.bybit.errors import BybitError, invalid, missing, params_error

E = TypeVar("E")

SUPPORTED_CATEGORY = "linear"
KNOWN_CATEGORIES = frozenset({"spot", "linear", "inverse", "option"})


class Params:
    """Parameters of one request: a query string's values or a JSON object's members."""

    def __init__(self, values: Mapping[str, object]) -> None:
        self._values = values

    def __contains__(self, name: str) -> bool:
        return name in self._values and self._values[name] not in (None, "")

    def raw(self, name: str) -> object:
        return self._values.get(name)

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self._values.get(name)
        if value is None or value == "":
            if required:
                raise missing(name)
            return None
        if not isinstance(value, str):
            raise invalid(name)
        return value

    def decimal(self, name: str, *, required: bool = False) -> Decimal | None:
        value = self._values.get(name)
        if isinstance(value, bool):
            raise invalid(name)
        if isinstance(value, int | float):
            value = str(value)
        text = self.text(name, required=required) if not isinstance(value, str) else value
        if text is None or text == "":
            if required:
                raise missing(name)
            return None
        try:
            number = Decimal(text)
        except decimal.InvalidOperation:
            raise invalid(name) from None
        if not number.is_finite() or number < 0:
            raise invalid(name)
        return number

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value = self._values.get(name)
        if value is None or value == "":
            if required:
                raise missing(name)
            return None
        if isinstance(value, bool):
            raise invalid(name)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        raise invalid(name)

    def boolean(self, name: str) -> bool:
        value = self._values.get(name)
        if value is None or value == "":
            return False
        if isinstance(value, bool):
            return value
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

    def category(self, *, allow: frozenset[str] = frozenset({SUPPORTED_CATEGORY})) -> str:
        value = self.text("category", required=True)
        assert value is not None
        if value not in KNOWN_CATEGORIES:
            raise params_error("Illegal category")
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
