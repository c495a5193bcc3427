"""Hypothesis settings profiles for the fuzzer: ``ci`` (bounded, deterministic), ``dev``, ``nightly``.

    python -m scenarios fuzz --profile nightly
    HYPOTHESIS_PROFILE=dev pytest tests/scenarios/test_fuzz.py

``ci`` derandomizes and keeps no example database, so a CI run is the same run every time (a flaky
fuzz run would be a bug of the first rank). ``dev`` and ``nightly`` explore fresh examples and keep
what failed in ``.hypothesis/`` between runs, so a failure found at night comes back first the next day.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase

PROFILES = ("ci", "dev", "nightly")
DATABASE_DIR = ".hypothesis/fuzz"
_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


def register() -> None:
    """Register the three profiles (idempotent)."""
    # No explain phase: it traces every line the failing examples run (sys.settrace), which makes
    # each of them several times slower while shrinking; the shrunk program already explains.
    phases = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]
    common = settings(deadline=None, suppress_health_check=_SLOW, print_blob=True, phases=phases)
    settings.register_profile("ci", common, max_examples=12, stateful_step_count=15, derandomize=True, database=None)
    settings.register_profile("dev", common, max_examples=100, stateful_step_count=25,
                              database=DirectoryBasedExampleDatabase(DATABASE_DIR))
    settings.register_profile("nightly", common, max_examples=5_000, stateful_step_count=40,
                              database=DirectoryBasedExampleDatabase(DATABASE_DIR))


def profile(name: str, **overrides: object) -> settings:
    """The named profile's settings, with ``overrides`` (``max_examples=...``) applied."""
    if name not in PROFILES:
        raise ValueError(f"profile = {name!r}; one of {list(PROFILES)}")
    register()
    return settings(settings.get_profile(name), **overrides)  # type: ignore[arg-type]
