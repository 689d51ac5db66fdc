"""The closed-form bounds: the mean-busy bound against its definition, exact at any size, below OPT;
a late first arrival costs the solver nothing (time counted from the earliest arrival)."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest
from offline_brute import instance_opt

from lpsched.cli import main
from lpsched.generate import paper
from lpsched.instance import Instance
from lpsched.offline import lower_bounds, solve_hindsight
from lpsched.offline.formulation.closed_form import _busy_parts, job_volumes, mean_busy_bound
from lpsched.offline.formulation.horizon import earliest_shift
from lpsched.offline.formulation.model import MAX_MODEL_VARIABLES, ModelTooLargeError, build_model, model_size
from lpsched.verify import verify_schedule


def _mean_busy_by_definition(inst: Instance) -> int:
    """Fill rounds a0+1, a0+2, … to M token by token in ascending volume; Σ B_i + Σ (o_i − c_i − a_i)."""
    a0 = int(inst.arrival.min())
    order = sorted(range(inst.n), key=lambda i: (int(job_volumes(inst)[i]), i))
    total, slot = Fraction(0), 0
    for i in order:
        s, o = int(inst.prompt[i]), int(inst.output[i])
        vol = s * o + o * (o + 1) // 2
        weighted = sum(a0 + x // inst.M + 1 for x in range(slot, slot + vol))
        slot += vol
        moment = sum(r * (s + r) for r in range(1, o + 1))
        total += Fraction(weighted - moment, vol) + o - int(inst.arrival[i])
    return math.ceil(total)


def _random_instance(rng: np.random.Generator, arrivals: bool) -> Instance:
    n = int(rng.integers(1, 12))
    M = int(rng.integers(4, 40))
    s = rng.integers(0, M // 2, n)
    o = np.array([int(rng.integers(1, M - int(si) + 1)) for si in s])
    a = rng.integers(0, 6, n) + (int(rng.integers(0, 50)) if arrivals else 0)
    return Instance.from_arrays(M=M, prompt=s, output=o, arrival=a if arrivals else None)


@pytest.mark.parametrize("arrivals", [False, True])
def test_mean_busy_bound_is_its_definition(arrivals: bool) -> None:
    rng = np.random.default_rng(11)
    for _ in range(150):
        inst = _random_instance(rng, arrivals)
        assert mean_busy_bound(inst) == _mean_busy_by_definition(inst)


def test_mean_busy_parts_agree_in_int64_and_python_integers() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        inst = _random_instance(rng, False)
        vol = job_volumes(inst)
        order = np.argsort(vol, kind="stable")
        args = (vol[order], inst.prompt[order], inst.output[order])
        fast = _busy_parts(*args, inst.M)
        exact = _busy_parts(*(x.astype(object) for x in args), inst.M)
        assert fast[0] == exact[0]
        assert [int(x) for x in fast[1]] == [int(x) for x in exact[1]]


def test_mean_busy_bound_stays_below_the_brute_force_optimum_with_late_arrivals() -> None:
    rng = np.random.default_rng(5)
    for _ in range(40):
        n = int(rng.integers(1, 5))
        M = int(rng.integers(4, 12))
        s = rng.integers(0, M // 2, n)
        o = np.array([int(rng.integers(1, min(5, M - int(si)) + 1)) for si in s])
        a = rng.integers(0, 4, n) + int(rng.integers(0, 30))
        inst = Instance.from_arrays(M=M, prompt=s, output=o, arrival=a)
        assert mean_busy_bound(inst) <= instance_opt(inst)


def test_a_late_first_arrival_is_solved_from_that_arrival() -> None:
    inst = Instance.from_arrays(M=10, prompt=[1, 2], output=[3, 4], arrival=[1_000_000_000, 1_000_000_002])
    shifted, a0 = earliest_shift(inst)
    assert a0 == 1_000_000_000 and shifted.arrival.tolist() == [0, 2]
    events: list = []
    res = solve_hindsight(inst, time_limit=10, workers=1, progress=events.append)
    assert res.status == "OPTIMAL"
    assert verify_schedule(inst, res.starts).feasible
    assert min(res.starts.values()) >= 1_000_000_000
    assert res.objective == solve_hindsight(shifted, time_limit=10, workers=1).objective
    assert all(min(e.starts.values()) >= 1_000_000_000 for e in events if e.starts)
    assert lower_bounds(inst, lp=True).to_dict() == lower_bounds(shifted, lp=True).to_dict()


def test_the_issue_instance_with_a_late_arrival_solves_on_the_cli(tmp_path, capsys) -> None:
    f = tmp_path / "late.json"
    f.write_text(json.dumps({"M": 10, "jobs": [{"id": "a", "arrival": 1000000000, "prompt": 1, "output": 3}]}))
    with pytest.raises(SystemExit) as e:
        main(["solve", str(f), "--time-limit", "5", "--json"])
    assert e.value.code == 0
    d = json.loads(capsys.readouterr().out)
    assert d["status"] == "OPTIMAL" and d["objective"] == 3 and d["starts"] == {"a": 1000000000}


def test_a_model_too_large_is_refused_before_it_is_built() -> None:
    # one job per class, each free to start anywhere in a horizon of ~n·o rounds
    n, o = 400, 2000
    inst = Instance.from_arrays(M=o + 1, prompt=[1] * n, output=list(range(o - n + 1, o + 1)))
    n_vars, _ = model_size(inst, None)
    assert n_vars > MAX_MODEL_VARIABLES
    with pytest.raises(ModelTooLargeError, match="start variables"):
        build_model(inst, None)
    small = Instance.from_arrays(M=10, prompt=[1, 2, 1], output=[3, 4, 2])
    assert model_size(small, 40) == (build_model(small, 40).n_variables, build_model(small, 40).horizon)


def test_bound_report_reads_as_the_old_dict_for_one_release_with_a_warning() -> None:
    report = lower_bounds(paper(0, n=8))
    assert report.bound == max(report.values.values()) and report.values[report.name] == report.bound
    with pytest.warns(DeprecationWarning, match="BoundReport.bound"):
        assert report["best_value"] == report.bound
    with pytest.warns(DeprecationWarning):
        assert report.get("best") == report.name and report.get("nothing", 7) == 7
    assert report.to_dict() == {**report.values, "best": report.name, "best_value": report.bound}
