"""The instance commands' CLI: info, verify, generate; --json keys; exit codes 0/1/2; no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lpsched.cli import main

REPO = Path(__file__).resolve().parents[1]


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.fixture
def files(tmp_path):
    inst = tmp_path / "i.json"
    inst.write_text(json.dumps({"M": 9, "jobs": [
        {"id": "A", "prompt": 2, "output": 3}, {"id": "B", "prompt": 1, "output": 2},
        {"id": "C", "prompt": 3, "output": 2}, {"id": "D", "prompt": 1, "output": 4, "lower": 2, "upper": 8}]}))
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"starts": {"A": 0, "B": 0, "C": 2, "D": 3}}))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"starts": {"A": 0, "B": 0, "C": 2, "D": 2}}))
    return inst, good, bad


def test_verify_feasible_json(files, capsys) -> None:
    inst, good, _ = files
    code, out, _ = run(["verify", str(inst), str(good), "--json"], capsys)
    d = json.loads(out)
    assert code == 0
    assert d == {"feasible": True, "tel": 16, "makespan": 7, "peak_memory": 9, "peak_round": 3}


def test_verify_infeasible_exit_1_with_reason(files, capsys) -> None:
    inst, _, bad = files
    code, out, _ = run(["verify", str(inst), str(bad), "--json"], capsys)
    d = json.loads(out)
    assert code == 1 and d["feasible"] is False
    assert d["reason"] == "round 3 uses 11 tokens > M = 9 (over by 2)"
    assert {"tel", "makespan", "peak_memory"} <= set(d)
    code, out, _ = run(["verify", str(inst), str(bad)], capsys)
    assert code == 1 and out.startswith("infeasible: round 3")


def test_info_text_and_json(files, capsys) -> None:
    inst, _, _ = files
    code, out, _ = run(["info", str(inst), "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and d["n"] == 4 and d["M"] == 9
    assert d["alpha_min"] == 0.25 and d["alpha_max"] == 1.0
    assert d["output_total"] == 11 and d["lower_bounds"]["sum_output"] == 11
    code, out, _ = run(["info", str(inst)], capsys)
    assert "jobs (n)      4" in out and "lower bounds" in out


@pytest.mark.parametrize("argv_tail, part", [
    (["info", "{missing}"], "cannot read instance file"),
    (["verify", "{inst}", "{missing}"], "cannot read schedule file"),
    (["verify", "{inst}", "{malformed}"], "not valid JSON"),
    (["verify", "{inst}", "{partial}"], "job 'D' has no start"),
    (["info", "{badjob}"], "job 'x' (index 0): field 'prompt' must be >= 0"),
    (["generate", "paper", "--seed", "1", "--alpha", "2"], "'--alpha': 2 is not in (0, 1]"),
    (["generate", "paper"], "--seed"),
    (["frobnicate"], "No such command"),
])
def test_bad_input_exit_2_one_line(files, tmp_path, capsys, argv_tail, part) -> None:
    inst, _, _ = files
    (tmp_path / "malformed.json").write_text("{")
    (tmp_path / "partial.json").write_text(json.dumps({"starts": {"A": 0, "B": 0, "C": 2}}))
    (tmp_path / "badjob.json").write_text(json.dumps({"M": 5, "jobs": [{"id": "x", "prompt": -1, "output": 1}]}))
    names = {"inst": inst, "missing": tmp_path / "nope.json", "malformed": tmp_path / "malformed.json",
             "partial": tmp_path / "partial.json", "badjob": tmp_path / "badjob.json"}
    argv = [a.format(**names) for a in argv_tail]
    code, _, err = run(argv, capsys)
    assert code == 2
    assert part in err
    assert err.count("\n") == 1 and err.startswith("lpsched: error: ")
    assert "Traceback" not in err


def test_generate_writes_a_loadable_instance(tmp_path, capsys) -> None:
    path = tmp_path / "sub" / "p.json"
    code, out, _ = run(["generate", "paper", "--seed", "3", "--n", "12", "--alpha", "0.125", "-o", str(path),
                        "--json"], capsys)
    assert code == 0
    d = json.loads(out)
    assert d["n"] == 12 and d["meta"]["generator"] == "paper" and d["meta"]["seed"] == 3
    code, out, _ = run(["info", str(path), "--json"], capsys)
    assert json.loads(out)["alpha_min"] == 0.125


def test_console_entry_point_has_no_traceback(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-m", "lpsched", "info", str(tmp_path / "none.json")],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 2
    assert proc.stderr.startswith("lpsched: error:") and "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "lpsched", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    for cmd in ("info", "verify", "generate"):
        assert cmd in proc.stdout
