"""Progress events of ``solve_hindsight`` (:mod:`lpsched.offline.progress`) and ``lpsched solve --progress``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from offline_brute import instance_opt
from offline_instances import tiny_instance

from lpsched.cli import cli
from lpsched.generate import jaillet, paper
from lpsched.instance import save_instance
from lpsched.offline import ProgressEvent, solve_hindsight
from lpsched.offline.progress import Reporter, format_event
from lpsched.verify import starts_array, verify_schedule


def _check_events(events: list[ProgressEvent], res, inst) -> None:
    """The contract of the module text, against the returned result."""
    assert events, "no progress event"
    assert events[-1].stage == "done"
    assert [e.stage for e in events].count("done") == 1
    assert (events[-1].objective, events[-1].bound, events[-1].detail) == (res.objective, res.bound, res.status)
    assert events[-1].gap == pytest.approx(res.gap)
    secs = [e.seconds for e in events]
    assert secs == sorted(secs) and secs[0] >= 0
    objs = [e.objective for e in events if e.objective is not None]
    bounds = [e.bound for e in events if e.bound is not None]
    assert objs == sorted(objs, reverse=True), "objective rose between events"
    assert bounds == sorted(bounds), "bound fell between events"
    for e in events:
        if e.objective is not None and e.bound is not None:
            assert e.bound <= e.objective
        if e.objective is not None:  # the schedule behind every objective shown, verified here again
            assert e.starts is not None, f"stage {e.stage}: objective without its schedule"
            assert verify_schedule(inst, starts_array(inst, e.starts)).tel == e.objective
    assert events[-1].starts == {str(k): int(v) for k, v in res.starts.items()}


def test_reporter_keeps_running_extremes() -> None:
    seen: list[ProgressEvent] = []
    rep = Reporter(seen.append)
    rep.note("a", objective=120)
    rep.note("b", bound=90)
    rep.note("c", objective=130, bound=80)  # worse on both: the extremes stay
    rep.note("d", objective=110, bound=115)  # a bound above the objective is shown capped at it
    assert [(e.objective, e.bound) for e in seen] == [(120, None), (120, 90), (120, 90), (110, 110)]
    assert seen[1].gap == pytest.approx(30 / 120) and seen[0].gap is None and seen[3].gap == 0.0
    Reporter(None).note("x", objective=1)  # no callback: a no-op, no error


def test_reporter_keeps_the_schedule_of_the_best_objective() -> None:
    seen: list[ProgressEvent] = []
    rep = Reporter(seen.append, ids=["a", "b"])
    rep.note("first", objective=10, starts=np.array([0, 3]))
    rep.note("worse", objective=12, starts=np.array([5, 5]))  # not taken
    rep.note("bound", bound=8)
    rep.note("tie", objective=10, starts={"a": 3, "b": 0})  # a tie takes the newer schedule
    assert [e.starts for e in seen] == [{"a": 0, "b": 3}] * 3 + [{"a": 3, "b": 0}]
    assert Reporter(seen.append).note("no ids", objective=9, starts=np.array([1, 1])) is None
    assert seen[-1].objective == 9 and seen[-1].starts is None  # without ids an array cannot be named


def test_format_event_shows_values_gap_and_note() -> None:
    line = format_event(ProgressEvent(3.25, "LP", 1830, 1786, "converged"))
    assert "3.2 s" in line and "LP" in line and "1,830" in line and "1,786" in line and "2.40%" in line
    assert line.endswith("converged")
    assert "TEL         -" in format_event(ProgressEvent(0.0, "bounds", None, 5))
    assert str(ProgressEvent(1.0, "done", 7, 7, "OPTIMAL")) == format_event(ProgressEvent(1.0, "done", 7, 7, "OPTIMAL"))


@pytest.mark.parametrize("seed", range(6))
def test_events_follow_the_solve_on_tiny_instances(seed: int) -> None:
    inst = tiny_instance(4100 + seed, n_max=6)
    events: list[ProgressEvent] = []
    res = solve_hindsight(inst, time_limit=10, workers=1, progress=events.append)
    _check_events(events, res, inst)
    assert events[0].stage == "incumbent" and events[0].objective is not None
    opt = instance_opt(inst)
    assert all(e.bound is None or e.bound <= opt for e in events)  # every bound shown is a bound


def test_events_of_the_portfolio_on_a_tight_instance() -> None:
    inst = jaillet(3, n=10)
    events: list[ProgressEvent] = []
    res = solve_hindsight(inst, time_limit=6, workers=2, progress=events.append)
    _check_events(events, res, inst)
    stages = [e.stage for e in events]
    assert "chain LP" in stages or res.status == "OPTIMAL"
    # the objective shown at each stage is the TEL of a schedule the solve had verified
    assert verify_schedule(inst, np.array([res.starts[j] for j in inst.ids])).tel == events[-1].objective


def test_events_of_the_large_path(monkeypatch) -> None:
    from lpsched.offline import SolverParams

    inst = paper(5, n=14, concurrency=3)
    events: list[ProgressEvent] = []
    res = solve_hindsight(inst, time_limit=4, workers=1, progress=events.append,
                          params=SolverParams(large_model_variables=0))
    _check_events(events, res, inst)
    assert res.info["path"] == "large"
    stages = [e.stage for e in events]
    order = [stages.index(name) for name in ("incumbent", "large search", "large search done", "done")]
    assert order == sorted(order)


def test_cli_progress_goes_to_stderr_and_keeps_json_clean(tmp_path) -> None:
    f = tmp_path / "i.json"
    save_instance(paper(3, n=8, concurrency=3), f)
    runner = CliRunner()
    r = runner.invoke(cli, ["solve", str(f), "--time-limit", "10", "--json", "--progress"])
    assert r.exit_code == 0
    d = json.loads(r.stdout)
    lines = r.stderr.strip().splitlines()
    assert len(lines) >= 3 and "incumbent" in lines[0] and "done" in lines[-1]
    assert f"{d['objective']:,}" in lines[-1] and d["status"] in lines[-1]
    quiet = runner.invoke(cli, ["solve", str(f), "--time-limit", "10", "--json", "--no-progress"])
    assert quiet.exit_code == 0 and quiet.stderr == ""
    default = runner.invoke(cli, ["solve", str(f), "--time-limit", "10"])  # stderr is not a terminal here
    assert default.exit_code == 0 and default.stderr == "" and "TEL" in default.stdout
