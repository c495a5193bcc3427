"""Binance request parameters: everything arrives as text (query string or form body) and is parsed here.

Every problem becomes a ``BinanceError`` with Binance's code; nothing here raises anything else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from simulator.binance.errors import BinanceError, mandatory

DECIMAL = re.compile(r"[0-9]{1,15}(\.[0-9]{1,18})?")
INTEGER = re.compile(r"[0-9]{1,19}")


class Params:
    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def __contains__(self, name: str) -> bool:
        return self._values.get(name) not in (None, "")

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self._values.get(name)
        if value in (None, ""):
            if required:
                raise mandatory(name)
            return None
        return value

    def need(self, name: str) -> str:
        value = self.text(name, required=True)
        assert value is not None
        return value

    def decimal(self, name: str, *, required: bool = False) -> Decimal | None:
        text = self.text(name, required=required)
        if text is None:
            return None
        if not DECIMAL.fullmatch(text):
            raise BinanceError(-1111 if "." in text else -1102,
                               "Precision is over the maximum defined for this asset." if "." in text
                               else f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
        return Decimal(text)

    def integer(self, name: str, *, required: bool = False) -> int | None:
        text = self.text(name, required=required)
        if text is None:
            return None
        if not INTEGER.fullmatch(text):
            raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is"
                               " '^[0-9]{1,20}$'.")
        return int(text)

    def limit(self, *, default: int, maximum: int) -> int:
        """A list call's ``limit``: ``default`` when absent, else 1 to ``maximum`` (-1130 outside)."""
        given = self.integer("limit")
        limit = default if given is None else given
        if not 1 <= limit <= maximum:
            raise BinanceError(-1130, "Data sent for parameter 'limit' is not valid.")
        return limit

    def boolean(self, name: str) -> bool:
        text = self.text(name)
        if text is None:
            return False
        if text.lower() not in ("true", "false"):
            raise BinanceError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
        return text.lower() == "true"

    def choice(self, name: str, allowed: Mapping[str, object], *, required: bool = False) -> object | None:
        text = self.text(name, required=required)
        if text is None:
            return None
        if text not in allowed:
            code, what = {"side": (-1117, "Invalid side."), "type": (-1116, "Invalid orderType."),
                          "timeInForce": (-1115, "Invalid timeInForce.")}.get(name, (-1102, ""))
            raise BinanceError(code, what or f"Mandatory parameter '{name}' was not sent, was empty/null, or"
                               " malformed.")
        return allowed[text]
