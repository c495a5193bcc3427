"""Make the process's wall clock read the virtual loop's clock, exactly.

While a bridge is started, ``time.time``, ``time_ns``, ``monotonic``, ``perf_counter`` (and their
``_ns`` forms) read the loop directly, to the nanosecond; ``datetime.datetime`` and ``date`` are
freezegun's fake classes, and ``time.gmtime``, ``localtime``, ``strftime`` freezegun's fakes, all of
which read the loop through freezegun's factory stack. Every module-level reference to a real one
(ccxt's throttler does ``from time import time``) is replaced as well, and put back on stop.

Finding those references is what a start costs. freezegun's own sweep hashes every loaded module's
names at each start (10-15 ms with ccxt loaded). This one remembers, per module, which names held a
real clock and how many names the module had, and scans a module again only when that count changed:
a start then costs well under a millisecond.
"""

from __future__ import annotations

import contextlib
import copyreg
import datetime
import sys
import time
import uuid
from typing import Any

import freezegun.api as fz
import freezegun.config

from virtualtime.loop import VirtualEventLoop

_EPOCH = datetime.datetime(1970, 1, 1)
# Never swept: the clock modules themselves, freezegun (it keeps the real functions to fall back
# on), and pytest's own timing (its durations and timeouts are about the host, not the venue; also
# what freezegun's own fakes, gmtime and the like, answer with the real clock for).
_CLOCK_MODULES = frozenset({"datetime", "time"})
_IGNORED = ("_pytest.",)

# ignore list -> module name -> (the module, how many names it had when scanned, the names that held
# a real clock (none for a module never swept), its namespace)
_scanned: dict[tuple[str, ...], dict[str, tuple[Any, int, tuple[str, ...], dict[str, Any]]]] = {}


class _LoopTime:
    """A freezegun time factory that answers with the loop's virtual wall time."""

    def __init__(self, loop: VirtualEventLoop) -> None:
        self._loop = loop

    def __call__(self) -> datetime.datetime:
        return fz.real_datetime(1970, 1, 1) + datetime.timedelta(microseconds=self._loop.time_ns() // 1000)

    def tick(self, delta: Any = 1) -> None:
        raise NotImplementedError("virtual time moves only by the loop's timers; await asyncio.sleep instead")

    def move_to(self, target: Any) -> None:
        raise NotImplementedError("virtual time moves only by the loop's timers; await asyncio.sleep instead")


def _preload_clients() -> None:
    # Modules imported after the start keep references to the real clock: import the clients under
    # test first so the sweep reaches them.
    for name in ("ccxt", "ccxt.async_support", "ccxt.pro", "aiohttp"):
        with contextlib.suppress(ImportError):
            __import__(name)


def _clock_names(namespace: dict[str, Any], wanted: dict[int, Any]) -> tuple[str, ...]:
    return tuple(name for name, value in list(namespace.items()) if id(value) in wanted)


def _swept(name: str, module: Any, ignore: tuple[str, ...]) -> bool:
    return (module is not None and name not in _CLOCK_MODULES and not name.startswith(ignore)
            and not name.startswith("freezegun") and not name.endswith(".six.moves"))


def _clock_holders(reals: dict[int, Any], ignore: tuple[str, ...]) -> list[tuple[dict[str, Any], str]]:
    """(namespace, name) of every module-level name that held a real clock (an id among ``reals``' keys)
    when its module was scanned."""
    scanned = _scanned.setdefault(ignore, {})
    found: list[tuple[dict[str, Any], str]] = []
    for name, module in list(sys.modules.items()):
        known = scanned.get(name)
        if known is not None and known[0] is module and len(known[3]) == known[1]:
            names = known[2]  # the common case: nothing to scan
        else:
            try:
                namespace = getattr(module, "__dict__", None)
            except Exception:  # noqa: BLE001 - a lazy module that fails to load: nothing there to patch
                continue
            if not isinstance(namespace, dict):
                continue
            names = _clock_names(namespace, reals) if _swept(name, module, ignore) else ()
            known = scanned[name] = (module, len(namespace), names, namespace)
        if names:
            found.extend((known[3], attribute) for attribute in names)
    return found


class WallClockBridge:
    """Points the process's wall clock at one loop from ``start()`` until ``stop()``."""

    def __init__(self, loop: VirtualEventLoop) -> None:
        self._loop = loop
        self._started = False
        self._undo: list[tuple[Any, str, Any]] = []
        self._fakes: dict[int, Any] = {}  # id(real) -> its stand-in
        self._reals: dict[int, Any] = {}  # id(stand-in) -> the real one
        self._modules_at_start: set[str] = set()
        self._ignore: tuple[str, ...] = ()
        self._pushed: list[list[Any]] = []  # freezegun's stacks this bridge pushed onto

    def start(self) -> None:
        if self._started:
            raise RuntimeError("this wall-clock bridge is already started")
        if fz.freeze_factories:
            raise RuntimeError(
                "a freezegun freeze (or another virtual loop's bridge) is already active; "
                "virtual time cannot share the wall clock with it: close the other loop first"
            )
        _preload_clients()
        exact_ns = self._loop.time_ns
        seconds, nanoseconds = _seconds_reader(exact_ns), _ns_reader(exact_ns)
        in_time = {  # the time module's own readers, by name: (real, stand-in)
            "time": (fz.real_time, seconds), "time_ns": (fz.real_time_ns, nanoseconds),
            "monotonic": (fz.real_monotonic, _seconds_reader(exact_ns)),
            "monotonic_ns": (fz.real_monotonic_ns, _ns_reader(exact_ns)),
            "perf_counter": (fz.real_perf_counter, _seconds_reader(exact_ns)),
            "perf_counter_ns": (fz.real_perf_counter_ns, _ns_reader(exact_ns)),
            "gmtime": (fz.real_gmtime, fz.fake_gmtime), "localtime": (fz.real_localtime, fz.fake_localtime),
            "strftime": (fz.real_strftime, fz.fake_strftime),
        }
        in_datetime = {"datetime": (fz.real_datetime, fz.FakeDatetime), "date": (fz.real_date, fz.FakeDate)}
        pairs = [*in_time.values(), *in_datetime.values()]
        self._fakes = {id(real): fake for real, fake in pairs}
        self._reals = {id(fake): real for real, fake in pairs}
        self._ignore = tuple(dict.fromkeys([*_IGNORED, *freezegun.config.settings.default_ignore_list]))

        # From here on stop() undoes whatever was done, even if start() is cut short: a half-patched
        # process would refuse every later loop.
        self._started = True
        try:
            # freezegun's fakes (the datetime classes, gmtime, ...) read the top of its factory stack.
            stacks: list[tuple[list[Any], Any]] = [
                (fz.freeze_factories, _LoopTime(self._loop)), (fz.tz_offsets, datetime.timedelta(0)),
                (fz.ignore_lists, self._ignore), (fz.tick_flags, False)]
            for stack, entry in stacks:
                stack.append(entry)
                self._pushed.append(stack)
            self._patch({time: in_time, datetime: in_datetime})
        except BaseException:
            self.stop()
            raise

    def _patch(self, in_modules: dict[Any, dict[str, tuple[Any, Any]]]) -> None:
        undo = self._undo
        for module, names in in_modules.items():
            for name, (real, fake) in names.items():
                undo.append((module, name, real))
                setattr(module, name, fake)
        # uuid1 must not read the real clock through the C library.
        if fz.uuid_generate_time_attr:
            undo.append((uuid, fz.uuid_generate_time_attr, getattr(uuid, fz.uuid_generate_time_attr)))
            setattr(uuid, fz.uuid_generate_time_attr, None)
        undo.append((uuid, "_UuidCreate", getattr(uuid, "_UuidCreate", None)))
        uuid._UuidCreate = None  # type: ignore[attr-defined]
        uuid._last_timestamp = None  # type: ignore[attr-defined]
        copyreg.dispatch_table[fz.real_datetime] = fz.pickle_fake_datetime  # type: ignore[index]
        copyreg.dispatch_table[fz.real_date] = fz.pickle_fake_date  # type: ignore[index]

        self._modules_at_start = set(sys.modules)
        for namespace, attribute in _clock_holders(self._fakes, self._ignore):
            value = namespace.get(attribute)
            fake = self._fakes.get(id(value))
            if fake is not None:
                undo.append((namespace, attribute, value))
                namespace[attribute] = fake

    def stop(self) -> None:
        """Put everything back. Each change is forgotten only once undone, so a stop that is cut
        short (Ctrl-C) can be called again and finishes the job."""
        if not self._started:
            return
        while self._undo:
            target, name, value = self._undo[-1]
            if isinstance(target, dict):
                target[name] = value
            else:
                setattr(target, name, value)
            self._undo.pop()
        self._restore_late_imports()
        while self._pushed:
            self._pushed[-1].pop()
            self._pushed.pop()
        self._started = False

    def _restore_late_imports(self) -> None:
        copyreg.dispatch_table.pop(fz.real_datetime, None)  # type: ignore[call-overload]
        copyreg.dispatch_table.pop(fz.real_date, None)  # type: ignore[call-overload]
        uuid._last_timestamp = None  # type: ignore[attr-defined]
        # Modules imported during the run may have captured a stand-in: give them the real one.
        for name in set(sys.modules) - self._modules_at_start:
            module = sys.modules.get(name)
            try:
                namespace = getattr(module, "__dict__", None)
            except Exception:  # noqa: BLE001 - as in the sweep
                continue
            if not _swept(name, module, self._ignore) or not isinstance(namespace, dict):
                continue
            for attribute in _clock_names(namespace, self._reals):
                namespace[attribute] = self._reals[id(namespace[attribute])]


# One function object per stand-in: stop() maps captured stand-ins back to the real ones by identity.
def _seconds_reader(exact_ns: Any) -> Any:
    def read() -> float:
        return exact_ns() / 1e9

    return read


def _ns_reader(exact_ns: Any) -> Any:
    def read() -> int:
        return exact_ns()

    return read
