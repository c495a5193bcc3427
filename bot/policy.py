"""How patient the execution core is: every retry count and delay in one frozen value."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Policy:
    write_attempts: int = 3  # a write the venue refused without effect (rate limit, clock) is repeated
    retry_delay_s: float = 0.5
    push_wait_s: float = 0.5  # how long to wait for the stream before asking over REST
    confirm_rounds: int = 8  # rounds over every confirmation source ...
    confirm_delay_s: float = 0.5  # ... starting this far apart ...
    confirm_backoff: float = 1.5  # ... growing by this factor (about 16 s in all)
    protect_attempts: int = 3
    flatten_attempts: int = 5
    sync_interval_s: float = 30.0
    sync_retry_s: float = 5.0  # a failed sync pass is retried this soon, doubling while it fails, within an interval
    intent_ttl_s: float = 60.0  # an intent not sent within this long after its creation is failed, never sent late

    def confirm_delays(self) -> list[float]:
        return [self.confirm_delay_s * self.confirm_backoff**i for i in range(self.confirm_rounds - 1)]
