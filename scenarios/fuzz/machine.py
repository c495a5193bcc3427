"""The state machine: a subject and a venue on one virtual-time runtime, driven by Hypothesis one step at a time.

Each rule appends one step to the run's program and applies it through the scenario runner's
``Session`` (the same code ``python -m scenarios replay`` uses), so a failing program written as
a scenario file replays the same steps at the same instants. After every step the scenario
invariants are read (never sampled anew: checking must not change the run); at teardown the
faults are cleared, the subject gets a convergence window, and the runner's final judgement
(agreement, ledger, duplicate entries) must hold too.

    run_state_machine_as_test(lifecycle_machine("bot", "bybit", seed=0), settings=settings(...))
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from scenarios.fuzz import strategies as fz
from scenarios.fuzz.program import Program
from scenarios.invariants import Violation
from scenarios.runner import Session
from scenarios.scratch import scratch_dir
from simulator.simulation import simulation

# A condition (a phantom, a position without a stop) may last this long before it is a violation:
# two supervisor periods of the bot (30 s) and its settle rules, as the library's scenarios allow.
GRACE_MS = 60_000
# After the last step: faults cleared, then this long for the subject to converge before the end checks.
SETTLE_MS = 2 * GRACE_MS + 5_000


@dataclass
class Stats:
    examples: int = 0
    steps: int = 0
    failures: int = 0
    last_failure: str | None = None  # the scenario file written for the latest failing run
    notes: list[str] = field(default_factory=list)  # what a failed run's clean-up raised besides


class FuzzFailure(AssertionError):
    """A fuzzed run broke an invariant; the message has the seed, the program and the scenario file."""


class SubjectUnavailable(Exception):
    """The subject could not be started in a fresh world: no run was made, so nothing was found."""


class LifecycleMachine(RuleBasedStateMachine):
    subject: ClassVar[str] = "bot"
    venue: ClassVar[str] = "bybit"
    seed: ClassVar[int] = 0
    out_dir: ClassVar[Path] = Path("fuzz-failures")
    stats: ClassVar[Stats] = Stats()
    # Called with the machine after each example, passed or failed (the command line's progress).
    on_example_end: ClassVar[Callable[[LifecycleMachine], None] | None] = None

    def __init__(self) -> None:
        super().__init__()
        self._exit = contextlib.ExitStack()
        self.sim = self._exit.enter_context(simulation(seed=self.seed))
        workdir = Path(self._exit.enter_context(scratch_dir("fuzz-")))
        self.program = Program(self.venue, self.subject, self.seed, GRACE_MS)
        # The failure file's id and name, from the start; a module:factory subject's ':' and '.' are
        # no characters for a file name on every system.
        self.name = f"fuzz-{re.sub(r'[^A-Za-z0-9_-]+', '-', self.subject)}-{self.venue}-seed{self.seed}"
        header = self.program.scenario(duration_ms=0, scenario_id=self.name)
        self.session = Session(self.sim, header, self.subject, workdir)
        self.at_ms = 0
        self.faults = 0
        self.failed = False
        try:
            self.session.begin()
        except BaseException as error:
            self.session.close()
            self._exit.close()
            if isinstance(error, Exception):
                raise SubjectUnavailable(f"{self.subject} could not start: {type(error).__name__}: {error}") from error
            raise
        self.start_ms = self.session.run.start_ms
        type(self).stats.examples += 1

    def _step(self, table: dict[str, Any]) -> None:
        step = self.program.add({"at_ms": self.at_ms, **table})
        type(self).stats.steps += 1
        try:
            self.session.apply(step)
        except Exception as error:  # noqa: BLE001 - a step that breaks the run is itself a finding
            self._fail([], duration_ms=self.at_ms, raised=f"{type(error).__name__}: {error}")

    # ------------------------------------------------------------------ rules
    # The venue's own rules (signals, faults, price moves) are added by lifecycle_machine().

    def _inject(self, table: dict[str, Any]) -> None:
        self.faults += 1
        self._step({"do": "fault", "fault": {"name": f"f{self.faults}", **table}})

    @rule()
    def synchronize(self) -> None:
        self._step({"do": "sync"})

    @rule(ms=fz.waits())
    def advance(self, ms: int) -> None:
        self.at_ms += ms
        self._step({"do": "wait"})

    @rule()
    def clear_faults(self) -> None:
        self._step({"do": "clear-faults"})

    @rule(disruption=fz.disruptions())
    def disrupt(self, disruption: dict[str, Any]) -> None:
        self._step(disruption)

    # ------------------------------------------------------------------ judging

    @invariant()
    def no_violation_so_far(self) -> None:
        if not self.failed:
            found = self.session.violations_so_far()
            if found:
                self._fail(found, duration_ms=self.at_ms)

    def teardown(self) -> None:
        verdict = unjudged = None
        failed_before = self.failed  # a step's failure is on its way up: Hypothesis runs teardown in a finally
        try:
            if not failed_before:  # a failed run is already judged: it is only closed
                self._step({"do": "clear-faults"})
                self.at_ms += SETTLE_MS
                self._step({"do": "wait"})
                try:
                    verdict = self.session.judge(self.at_ms)
                except Exception as error:  # noqa: BLE001 - the subject broke the end of the run (a call it would not let be cancelled): a finding
                    unjudged = error
        finally:
            unclosed = self._close()
        raised = [f"{what}: {type(error).__name__}: {error}"
                  for what, error in (("judging the run", unjudged), ("closing the subject", unclosed)) if error]
        if failed_before or self.failed:
            # Raising now would replace the failure already raised, and rewrite its scenario file without
            # its violations: tell what closing raised beside it instead.
            if raised:
                self._note(raised)
            return
        found = verdict.violations if verdict is not None else []
        if found or raised:
            self._fail(found, duration_ms=self.at_ms, raised="; ".join(raised) or None)

    def _note(self, raised: list[str]) -> None:
        stats = type(self).stats
        stats.notes.extend(raised)
        if stats.last_failure is not None:
            path = Path(stats.last_failure)
            path.write_text(path.read_text(encoding="utf-8") + "".join(f"# also: {line}\n" for line in raised),
                            encoding="utf-8")

    def _close(self) -> Exception | None:
        """Close the world; what closing the subject raised (a bug of its own, reported as one)."""
        unclosed = None
        try:
            self.session.close()
        except Exception as error:  # noqa: BLE001 - whatever a subject raises on close is reported, not lost
            unclosed = error
        finally:
            self._exit.close()
            hook = type(self).on_example_end
            if hook is not None:
                hook(self)
            # Hypothesis keeps a failure's traceback, whose frames hold this machine: let go of the
            # world (loop, venue, clients, subject) so kept failures do not keep it all alive.
            del self.session, self.sim
        return unclosed

    def _fail(self, violations: list[Violation], *, duration_ms: int, raised: str | None = None) -> None:
        self.failed = True
        found = tuple(dict.fromkeys(v.invariant for v in violations))
        path = self.out_dir / f"{self.name}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.program.toml(duration_ms=duration_ms, violations=found, scenario_id=self.name),
                        encoding="utf-8")
        stats = type(self).stats
        stats.failures += 1
        stats.last_failure = str(path)
        shown = "\n".join(f"  {v.line(self.start_ms)}" for v in violations)
        steps = "\n".join(f"  {line}" for line in self.program.lines())
        what = ", ".join([*found, raised] if raised else found)
        raise FuzzFailure(f"{self.subject} on {self.venue}, seed {self.seed}: {what}\n{shown}\n"
                          f"program ({len(self.program.steps)} steps):\n{steps}\n"
                          f"written to {path}; replay: python -m scenarios replay {path} --seed {self.seed}")


def lifecycle_machine(subject: str = "bot", venue: str = "bybit", *, seed: int = 0,
                      out_dir: Path | str = "fuzz-failures") -> type[LifecycleMachine]:
    """A machine class for ``subject`` on ``venue``; its rules draw only that venue's markets and calls."""
    fz.signals(venue)  # refuses an unknown venue by name before any run

    class Machine(LifecycleMachine):
        @rule(signal=fz.signals(venue))
        def signal(self, signal: dict[str, Any]) -> None:
            self._step(signal)

        @rule(table=fz.fault_tables(venue))
        def inject_fault(self, table: dict[str, Any]) -> None:
            self._inject(table)

        @rule(move=fz.price_steps(venue))
        def move_price(self, move: dict[str, Any]) -> None:
            self._step(move)

    Machine.subject, Machine.venue, Machine.seed, Machine.out_dir = subject, venue, seed, Path(out_dir)
    Machine.stats = Stats()
    Machine.__name__ = Machine.__qualname__ = f"Lifecycle_{subject.replace('-', '_')}_{venue}"
    return Machine
