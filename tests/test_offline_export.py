"""The IP as an MPS file for other solvers, and their solutions back (:mod:`lpsched.offline.export`)."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from offline_brute import instance_opt
from offline_instances import tiny_instance

from lpsched.cli import main
from lpsched.errors import ScheduleError
from lpsched.generate import jaillet, paper
from lpsched.instance import save_instance
from lpsched.offline.export import export_ip, read_solution
from lpsched.verify import verify_schedule


def _cbc(mps: Path) -> Path:
    """Solve ``mps`` with the stand-alone CBC binary PuLP ships (its own MPS reader), return the solution file."""
    import warnings

    import pulp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PuLP 3.x announces its 4.0 API
        cbc = pulp.PULP_CBC_CMD().path
    sol = mps.with_suffix(".cbc.sol")
    subprocess.run([cbc, mps.name, "solve", "solu", sol.name], cwd=mps.parent, check=True,
                   capture_output=True, timeout=120)
    assert sol.exists(), "CBC wrote no solution"
    return sol


def _highs(mps: Path, out: Path, seconds: float = 60.0) -> str:
    """Solve ``mps`` with OR-Tools' HiGHS (the MPS parsed back by OR-Tools), write ``name value`` lines."""
    from ortools.math_opt import parameters_pb2, result_pb2
    from ortools.math_opt.io.python import mps_converter

    from lpsched.offline.backends.highs import _solve_in_child

    proto = mps_converter.mps_to_model_proto(mps.read_text())
    params = parameters_pb2.SolveParametersProto(relative_gap_tolerance=0.0, absolute_gap_tolerance=0.5)
    params.time_limit.FromTimedelta(timedelta(seconds=seconds))
    res, _ = _solve_in_child(proto, params, seconds, False, None)
    reason = result_pb2.TerminationReasonProto.Name(res.termination.reason)
    if res.solutions:
        names = dict(zip(proto.variables.ids, proto.variables.names, strict=True))
        vals = res.solutions[0].primal_solution.variable_values
        out.write_text("\n".join(f"{names[i]} {v}" for i, v in zip(vals.ids, vals.values, strict=True)) + "\n")
    return reason


def _opt(inst) -> int:
    return instance_opt(inst)


@pytest.mark.parametrize("rows", ["explicit", "compact"])
@pytest.mark.parametrize("seed", range(4))
def test_the_mps_is_the_exact_ip_for_an_outside_solver(tmp_path, seed: int, rows: str) -> None:
    inst = tiny_instance(4300 + seed, n_max=6)
    info = export_ip(inst, tmp_path / "m.mps", rows=rows, time_limit=1)
    sol = _cbc(tmp_path / "m.mps")
    starts = read_solution(inst, sol, info.manifest)
    assert verify_schedule(inst, starts).tel == _opt(inst)
    assert info.lower_bound <= _opt(inst) <= info.incumbent_tel
    manifest = json.loads(Path(info.manifest).read_text())
    assert manifest["instance_hash"] == inst.content_hash() and manifest["rows"] == rows
    assert sorted(j for c in manifest["classes"] for j in c) == sorted(inst.ids)


def test_fixing_keeps_every_better_schedule_and_the_start_file_is_the_heuristic_one(tmp_path) -> None:
    inst = jaillet(1, n=8)  # optimum 262 (docs/offline.md, proven by the interval model); heuristics 262–268
    info = export_ip(inst, tmp_path / "j.mps", rows="explicit", fixing=True, time_limit=2)
    assert info.fixing and info.lower_bound <= 262 <= info.incumbent_tel
    if info.start_file is not None:  # the MIP start reads back as the manifest's heuristic schedule
        st = read_solution(inst, info.start_file, info.manifest)
        assert verify_schedule(inst, st).tel == info.incumbent_tel
        incumbent = json.loads(Path(info.manifest).read_text())["incumbent_starts"]
        assert verify_schedule(inst, incumbent).tel == info.incumbent_tel
    reason = _highs(tmp_path / "j.mps", tmp_path / "j.sol")
    if info.incumbent_tel > 262:  # the optimum is better than the incumbent: it survived the fixing
        assert reason == "TERMINATION_REASON_OPTIMAL"
        assert verify_schedule(inst, read_solution(inst, tmp_path / "j.sol", info.manifest)).tel == 262
    else:  # the incumbent is optimal: the fixed model has nothing better
        assert reason in ("TERMINATION_REASON_INFEASIBLE", "TERMINATION_REASON_OPTIMAL")


def test_read_solution_names_what_is_wrong(tmp_path) -> None:
    inst = paper(1, n=10, concurrency=3)
    info = export_ip(inst, tmp_path / "p.mps", time_limit=1)
    good = _cbc(tmp_path / "p.mps")
    assert verify_schedule(inst, read_solution(inst, good)).tel == verify_schedule(
        inst, read_solution(inst, good, info.manifest)).tel
    lines = [line for line in good.read_text().splitlines() if "y_c" in line]
    classes = json.loads(Path(info.manifest).read_text())["classes"]
    first = next(line for line in lines if "y_c0_" in line)

    def bad(text: str, match: str, manifest=None) -> None:
        f = tmp_path / "bad.sol"
        f.write_text(text)
        with pytest.raises(ScheduleError, match=match):
            read_solution(inst, f, manifest)

    n0 = len(classes[0])
    bad("\n".join(line for line in lines if line != first), rf"class 0 \(jobs .*\) has \d+ starts for {n0} jobs")
    bad("\n".join([*lines, "y_c0_k40 1"]), rf"class 0 .* has {n0 + 1} starts for {n0} jobs")
    all_at_arrival = "\n".join(f"y_c{c}_k0 {len(m)}" for c, m in enumerate(classes))
    bad(all_at_arrival, r"not a feasible schedule: round \d+ uses \d+ tokens > M")
    bad("y_c99_k0 1\n", r"no class 99")
    bad("y_c0_k0 0.5\n", r"not a non-negative integer")
    bad("y_c0_k0 one\n", r"is not a number")
    bad("y_c0_k0 nan\n", r"not a finite number")
    bad("y_c0_k0 -inf\n", r"not a finite number")
    bad("y_c0_k0 -1\n", r"not a non-negative integer")
    bad("y_c0_k0 1e300\n", rf"class 0 has {n0} jobs")
    bad("\n".join([f"y_c0_k0 {n0}", "y_c0_k0 1"]), rf"{n0 + 1} starts for class 0, which has {n0} jobs")
    bad("y_c0_k99999999999999999999 1\n", r"beyond the limits")
    bad("Optimal - objective value 0\n", r"no start variable")
    other = paper(2, n=10, concurrency=3)
    export_ip(other, tmp_path / "o.mps", time_limit=1)
    bad(good.read_text(), r"another instance", manifest=tmp_path / "o.mps.json")
    with pytest.raises(ScheduleError, match="cannot read"):
        read_solution(inst, tmp_path / "missing.sol")


def test_cli_export_then_read_solution(tmp_path, capsys) -> None:
    inst = paper(1, n=10, concurrency=3)
    f = tmp_path / "p.json"
    save_instance(inst, f)
    model = tmp_path / "out" / "p.mps"
    with pytest.raises(SystemExit) as exc:
        main(["export-ip", str(f), "-o", str(model), "--rows", "compact", "--time-limit", "1", "--json"])
    assert exc.value.code == 0
    d = json.loads(capsys.readouterr().out)
    assert d["rows"] == "compact" and Path(d["path"]).exists() and Path(d["manifest"]).exists()
    sol = _cbc(model)
    sched = tmp_path / "s.json"
    with pytest.raises(SystemExit) as exc:
        main(["read-solution", str(f), str(sol), "--manifest", d["manifest"], "-o", str(sched), "--json"])
    assert exc.value.code == 0
    r = json.loads(capsys.readouterr().out)
    assert r["objective"] <= d["incumbent_tel"]
    with pytest.raises(SystemExit) as exc:
        main(["verify", str(f), str(sched)])
    assert exc.value.code == 0
    capsys.readouterr()
    for args in (["export-ip", str(f), "-o", str(model), "--rows", "dense"],
                 ["read-solution", str(f), str(tmp_path / "none.sol")]):
        with pytest.raises(SystemExit) as exc:
            main(args)
        assert exc.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("lpsched") for line in err)


def test_export_refuses_bad_options(tmp_path, monkeypatch) -> None:
    from lpsched.errors import OptionError

    inst = paper(1, n=4)
    with pytest.raises(OptionError, match="unknown rows"):
        export_ip(inst, tmp_path / "m.mps", rows="dense")
    with pytest.raises(OptionError, match="time_limit"):
        export_ip(inst, tmp_path / "m.mps", time_limit=0)
    import lpsched.offline.export as export_mod

    monkeypatch.setattr(export_mod, "EXPLICIT_MAX_ENTRIES", 10)
    big = paper(2, n=12)
    with pytest.raises(OptionError, match="use rows='compact'"):
        export_ip(big, tmp_path / "m.mps", time_limit=1)
    assert export_ip(big, tmp_path / "c.mps", rows="compact", time_limit=1).rows == "compact"
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".mps") == ["c.mps"]
