"""Accounts, their API keys, and their USDT wallet ledger."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from simulator.engine.values import AccountId

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    account_id: AccountId
    uid: int
    api_key: str
    api_secret: str = dataclasses.field(repr=False)
    read_only: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Wallet:
    """The settlement-coin ledger: balance = deposits + realised PnL - fees."""

    account_id: AccountId
    coin: str = "USDT"
    deposits: Decimal = ZERO
    realised_gross: Decimal = ZERO
    fees_paid: Decimal = ZERO

    @property
    def balance(self) -> Decimal:
        return self.deposits + self.realised_gross - self.fees_paid

    @property
    def cum_realised_pnl(self) -> Decimal:
        # Bybit counts trading fees inside realised PnL.
        return self.realised_gross - self.fees_paid

    def deposit(self, amount: Decimal) -> Wallet:
        if amount <= 0:
            raise ValueError(f"a deposit must be positive, was {amount}")
        return dataclasses.replace(self, deposits=self.deposits + amount)

    def settle(self, realised_gross: Decimal, fee: Decimal) -> Wallet:
        return dataclasses.replace(
            self, realised_gross=self.realised_gross + realised_gross, fees_paid=self.fees_paid + fee
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class WalletView:
    """The wallet as a client sees it at one instant, marked to the current prices."""

    account_id: AccountId
    coin: str
    balance: Decimal
    cum_realised_pnl: Decimal
    unrealised_pnl: Decimal
    position_im: Decimal
    position_mm: Decimal
    order_im: Decimal

    @property
    def equity(self) -> Decimal:
        return self.balance + self.unrealised_pnl

    @property
    def available(self) -> Decimal:
        return self.equity - self.position_im - self.order_im
