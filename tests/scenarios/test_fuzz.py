"""The fuzzer: its power on the known-bad subject, nothing found in the bot, failures replayed as scenarios."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.__main__ import main
from scenarios.fuzz import strategies as fz
from scenarios.fuzz.cli import fuzz
from scenarios.fuzz.machine import FuzzFailure, lifecycle_machine
from scenarios.fuzz.program import Program
from scenarios.model import load
from scenarios.runner import replay


def test_the_fuzzer_finds_the_known_bad_phantom_from_cold_and_shrinks_it(tmp_path: Path) -> None:
    report = fuzz("seed-flow", "bybit", profile_name="ci", out_dir=str(tmp_path))

    assert report.found is not None and "phantom position" in report.found
    assert report.scenario_file is not None
    scenario = load(report.scenario_file)
    told = [s for s in scenario.steps if s.do not in ("wait", "clear-faults")]  # the teardown's own steps
    assert [s.do for s in told] == ["open"]  # shrunk to the one step that matters
    assert report.examples <= 100 and report.steps_per_s > 0

    verdict = replay(scenario, "seed-flow", seed=report.seed)  # the file, replayed unchanged
    assert verdict.expectation_held
    assert "phantom position" in {v.invariant for v in verdict.violations}


@pytest.mark.parametrize("venue", ["bybit", "binance"])
def test_the_fuzzer_finds_nothing_in_the_bot(venue: str, tmp_path: Path) -> None:
    report = fuzz("bot", venue, profile_name="ci", out_dir=str(tmp_path))

    assert report.found is None, report.found
    assert report.examples >= 12 and report.steps >= 12 * 10
    assert list(tmp_path.iterdir()) == []


def test_the_cli_reports_json_exits_1_on_a_finding_and_fuzzes_the_same_way_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fuzz", "--subject", "seed-flow", "--examples", "2", "--steps", "3", "--json", "--out", str(tmp_path)])

    out, err = capsys.readouterr()
    report = json.loads(out)
    assert code == 1
    assert {"examples", "steps", "failures", "wall_s", "steps_per_s"} <= set(report)
    assert report["failures"] >= 1 and Path(report["scenario_file"]).exists()
    assert "example 1:" in err  # progress on the terminal

    # The same seed fuzzes the same way: the same examples, the same shrunk program, the same file.
    again = fuzz("seed-flow", "bybit", examples=2, steps=3, out_dir=str(tmp_path / "again"))
    assert (again.examples, again.steps, again.failures) == (report["examples"], report["steps"], report["failures"])
    assert again.scenario_file is not None
    assert Path(again.scenario_file).read_text() == Path(report["scenario_file"]).read_text()


def test_a_subject_that_cannot_be_loaded_or_started_is_no_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 2 and the reason, no scenario file: 1 means the subject broke an invariant."""
    unloadable = main(["fuzz", "--subject", "nope:make", "--json", "--out", str(tmp_path)])
    _, err = capsys.readouterr()
    assert unloadable == 2 and "cannot fuzz 'nope:make': cannot load subject" in err

    unstartable = main(["fuzz", "--subject", "tests.scenarios.user_subject:make_unstartable", "--examples", "1",
                        "--steps", "1", "--json", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert unstartable == 2
    assert "could not run its subject, not a finding: tests.scenarios.user_subject:make_unstartable could not start: RuntimeError: no config file found" in err
    assert list(tmp_path.iterdir()) == []


def test_a_subject_that_fails_to_close_is_a_finding_and_bad_counts_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fuzz", "--subject", "tests.scenarios.user_subject:make_unclosable", "--examples", "1",
                 "--steps", "1", "--json", "--out", str(tmp_path)])
    out, _ = capsys.readouterr()
    assert code == 1
    assert "closing the subject: RuntimeError: database is locked" in json.loads(out)["found"]

    code = main(["fuzz", "--subject", "tests.scenarios.user_subject:make_phantom_unclosable", "--examples", "1",
                 "--steps", "1", "--json", "--out", str(tmp_path / "both")])
    out, _ = capsys.readouterr()
    found = json.loads(out)["found"]
    assert code == 1 and "database ahead of venue" in found and "closing the subject" in found  # neither hides the other

    with pytest.raises(SystemExit) as refused:
        main(["fuzz", "--examples", "0"])
    assert refused.value.code == 2 and "a whole number of at least 1, got '0'" in capsys.readouterr().err


def test_a_failure_that_does_not_repeat_is_still_a_finding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.scenarios import user_subject

    user_subject.FLAKY_RUNS["closed"] = 0
    code = main(["fuzz", "--subject", "tests.scenarios.user_subject:make_flaky", "--examples", "3", "--steps", "2",
                 "--json", "--out", str(tmp_path)])

    out, _ = capsys.readouterr()
    report = json.loads(out)
    assert code == 1
    assert "database ahead of venue" in report["found"] and "flaky" in report["found"]
    assert Path(report["scenario_file"]).exists()


def test_a_module_factory_subject_names_its_failure_file_with_portable_characters(tmp_path: Path) -> None:
    from scenarios.fuzz.machine import lifecycle_machine

    machine = lifecycle_machine("tests.scenarios.user_subject:make", "bybit", seed=7, out_dir=tmp_path)()
    try:
        assert machine.name == "fuzz-tests-scenarios-user_subject-make-bybit-seed7"
    finally:
        machine.teardown()


@settings(max_examples=40, deadline=None, database=None, derandomize=True)
@given(venue=st.sampled_from(["bybit", "binance"]), data=st.data())
def test_generated_programs_are_scenarios_the_model_reads_back(venue: str, data: st.DataObject) -> None:
    program = data.draw(fz.programs(venue))
    recorded = Program(venue, "bot", 0, 60_000)
    for table in program:
        recorded.add(table)

    scenario = recorded.scenario(duration_ms=program[-1]["at_ms"])  # its TOML text, read back by the model

    assert [s.do for s in scenario.steps] == [t["do"] for t in program]
    assert [s.at_ms for s in scenario.steps] == sorted(s.at_ms for s in scenario.steps)
    faults = [s.fault.name for s in scenario.steps if s.fault is not None]
    assert faults == [f"f{n}" for n in range(1, len(faults) + 1)]


def test_price_moves_stay_on_the_tick_grid() -> None:
    for market in fz.MARKETS["bybit"] + fz.MARKETS["binance"]:
        @settings(max_examples=20, database=None, derandomize=True)
        @given(fz.price_moves(market))
        def on_grid(price: Decimal) -> None:
            assert price > 0 and (price / market.tick) == (price / market.tick).to_integral_value()

        on_grid()


def test_an_unknown_venue_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="the fuzzer knows \\['binance', 'bybit'\\]"):
        fz.signals("kraken")


def test_a_subject_that_breaks_the_end_of_the_run_is_a_finding(tmp_path: Path) -> None:
    machine = lifecycle_machine("tests.scenarios.user_subject:make_stubborn", "bybit", seed=0, out_dir=tmp_path)
    run = machine()
    run.synchronize()
    with pytest.raises(FuzzFailure, match="judging the run: RuntimeError"):
        run.teardown()
    assert machine.stats.failures == 1 and len(list(tmp_path.glob("*.toml"))) == 1


def test_a_close_failure_after_a_mid_run_failure_is_told_beside_it_not_instead(tmp_path: Path) -> None:
    machine = lifecycle_machine("tests.scenarios.user_subject:make_phantom_unclosable", "bybit", seed=0,
                                out_dir=tmp_path)
    run = machine()
    run.advance(70_000)
    with pytest.raises(FuzzFailure, match="database ahead of venue"):
        run.no_violation_so_far()

    run.teardown()  # Hypothesis runs it in a finally while the failure above goes up: it must not replace it

    [written] = tmp_path.glob("*.toml")
    text = written.read_text()
    assert 'violations = ["database ahead of venue"' in text
    assert text.endswith("# also: closing the subject: RuntimeError: database is locked\n")
    assert machine.stats.failures == 1 and machine.stats.notes == ["closing the subject: RuntimeError: database is locked"]
