"""Fuzzing the position lifecycle with Hypothesis: generated signals, price moves, faults and restarts
against a subject on one virtual-time runtime, judged after every step by the scenario invariants.

- ``strategies``: public Hypothesis strategies for fault tables, price moves, signals, disruptions,
  and whole step programs, for your own tests too.
- ``machine``: the ``RuleBasedStateMachine`` (``lifecycle_machine(subject, venue, seed)``).
- ``program``: the step program a run made, written as a scenario file ``python -m scenarios replay``
  runs unchanged.
- ``profiles``: Hypothesis settings profiles ``ci``, ``dev`` and ``nightly``.
"""
