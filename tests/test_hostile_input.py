"""Regression tests of issue 32's hostile inputs: 64-bit overflow, integers beyond 64 bits, deep
JSON, duplicate keys, bad option values, and unclear messages. Each gives exit 2 and one line naming
the file, job, field or option (or a correct result)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hostile_cases import run_cli

from lpsched import Instance, InstanceError, verify_schedule
from lpsched.errors import ScheduleError
from lpsched.fileio import MAX_JSON_DEPTH, parse_json
from lpsched.limits import MAX_ROUND, MAX_TOKENS
from lpsched.offline import lower_bounds
from lpsched.traces import TraceError, iter_trace

I = {"M": 10, "jobs": [{"id": "a", "prompt": 2, "output": 3}]}
AZURE_HEAD = "TIMESTAMP,ContextTokens,GeneratedTokens\n"


def _write(path: Path, obj: object) -> Path:
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return path


def _clean_error(argv: list[str], *parts: str) -> str:
    res = run_cli([str(a) for a in argv])
    assert res.exception is None, res.exception
    assert res.code == 2, (res.code, res.out, res.err)
    lines = res.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lpsched: error: "), res.err
    for part in parts:
        assert part in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def inst_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "I.json", I)


# ------------------------------------------------------------------ defect 1: 64-bit overflow
def test_start_at_int64_max_is_refused_naming_file_and_job(tmp_path, inst_file) -> None:
    s = _write(tmp_path / "S.json", {"starts": {"a": 2**63 - 1}})
    _clean_error(["verify", inst_file, s], "S.json", "job 'a'", "start must be <=")
    _clean_error(["solve", inst_file, "--hint", s, "--time-limit", "1", "--no-progress"], "S.json", "job 'a'")


@pytest.mark.parametrize("cmd", ["info", "verify", "simulate", "solve", "bounds"])
def test_peak_that_would_wrap_around_is_refused(tmp_path, cmd) -> None:
    f = _write(tmp_path / "big.json", {"M": 2**63 - 1, "jobs": [{"id": "a", "prompt": 2**63 - 1, "output": 1}]})
    s = _write(tmp_path / "S.json", {"starts": {"a": 0}})
    argv = [cmd, f, s] if cmd == "verify" else [cmd, f]
    _clean_error(argv, "big.json", "'M'", str(MAX_TOKENS))


def test_trace_row_beyond_the_token_limit_is_refused(tmp_path) -> None:
    f = _write(tmp_path / "t.csv", AZURE_HEAD + f"2023-11-16 18:15:46.68,{2**63 - 1},3\n")
    _clean_error(["trace", f, "--format", "azure", "--n", "1", "--seed", "0"], "t.csv:2", "ContextTokens")


def test_arrival_time_beyond_the_limit_is_refused(tmp_path) -> None:
    f = _write(tmp_path / "r.json", {"M": 10, "jobs": [{"id": "a", "prompt": 2, "output": 3, "arrival_time": 1e10}]})
    _clean_error(["replay", f, "--policy", "fcfs"], "r.json", "job 'a'", "arrival_time")


def test_tel_at_the_limits_is_exact() -> None:
    # the largest start and output: TEL = start + output, computed without wrap-around
    inst = Instance.from_arrays(M=MAX_TOKENS, prompt=[0], output=[MAX_TOKENS])
    res = verify_schedule(inst, {"0": MAX_ROUND})
    assert res.feasible and res.tel == MAX_ROUND + MAX_TOKENS == res.makespan


def test_derived_limits_are_checked_when_read() -> None:
    with pytest.raises(InstanceError, match="serial horizon"):
        Instance.from_arrays(M=10, prompt=[0], output=[5], arrival=[MAX_ROUND])
    with pytest.raises(InstanceError, match="serial horizon"):
        Instance.from_arrays(M=10, prompt=[0] * 3, output=[5] * 3, arrival=[0, 0, MAX_ROUND - 12])
    with pytest.raises(InstanceError, match="field 'prompt'"):
        Instance.from_arrays(M=10, prompt=[10**30], output=[1])


# ------------------------------------------------------------------ defect 2: integers >= 2^63
@pytest.mark.parametrize("cmd", ["info", "solve", "bounds", "export-ip", "verify", "simulate"])
def test_capacity_of_10_to_30_is_refused(tmp_path, cmd) -> None:
    f = _write(tmp_path / "huge.json", {"M": 10**30, "jobs": [{"id": "a", "prompt": 2, "output": 3}]})
    argv = {"verify": [cmd, f, _write(tmp_path / "S.json", {"starts": {"a": 0}})],
            "export-ip": [cmd, f, "-o", tmp_path / "m.mps"]}.get(cmd, [cmd, f])
    _clean_error(argv, "huge.json", "'M'")


def test_start_of_10_to_30_is_refused(tmp_path, inst_file) -> None:
    s = _write(tmp_path / "S.json", {"starts": {"a": 10**30}})
    _clean_error(["verify", inst_file, s], "S.json", "job 'a'")
    _clean_error(["solve", inst_file, "--hint", s, "--no-progress"], "S.json", "job 'a'")


def test_csv_cell_of_10_to_30_is_refused(tmp_path) -> None:
    f = _write(tmp_path / "t.csv", AZURE_HEAD + f"2023-11-16 18:15:46.68,{10**30},3\n")
    _clean_error(["trace", f, "--format", "azure", "--n", "1", "--seed", "0"], "t.csv:2", "ContextTokens")


def test_solution_variable_with_a_huge_start_is_refused(tmp_path, inst_file) -> None:
    sol = _write(tmp_path / "sol.txt", "y_c3_k99999999999999999999 1\n")
    _clean_error(["read-solution", inst_file, sol], "sol.txt:1", "y_c3_k99999999999999999999")


def test_huge_prompt_error_names_the_job(tmp_path) -> None:
    f = _write(tmp_path / "p.json", {"M": 10, "jobs": [{"id": "big", "prompt": 10**30, "output": 1}]})
    _clean_error(["info", f], "job 'big'", "'prompt'")


# ------------------------------------------------------------------ defect 3: deep JSON; 11: duplicates
def test_deeply_nested_json_is_refused_everywhere(tmp_path, inst_file) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    f = _write(tmp_path / "deep.json", '{"M": 10, "meta": ' + deep + ', "jobs": []}')
    _clean_error(["info", f], "deep.json", "nested")
    s = _write(tmp_path / "deep_s.json", '{"starts": ' + deep + "}")
    _clean_error(["verify", inst_file, s], "deep_s.json", "nested")
    m = _write(tmp_path / "m.jsonl", '{"timestamp": 0, "input_length": 3, "output_length": 2, "x": ' + deep + "}\n")
    _clean_error(["trace", m, "--format", "mooncake", "--n", "1", "--seed", "0"], "m.jsonl:1", "nested")


def test_json_reader_limits() -> None:
    ok = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert parse_json(ok, "x", InstanceError) is not None
    with pytest.raises(InstanceError, match="nested"):
        parse_json("[" + ok + "]", "x", InstanceError)
    assert parse_json('{"a": "[[[[", "b": 1}', "x", InstanceError) == {"a": "[[[[", "b": 1}  # brackets in strings
    for text, part in [('{"M": 10, "M": 5}', "duplicate key 'M'"), ('{"a": NaN}', "NaN"),
                       ('{"a": 1e400}', "out of range"), ('{"a": ' + "9" * 5000 + "}", "digits")]:
        with pytest.raises(InstanceError, match=part):
            parse_json(text, "x", InstanceError)


def test_duplicate_key_is_refused_naming_it(tmp_path) -> None:
    f = _write(tmp_path / "d.json", '{"M": 10, "M": 5, "jobs": []}')
    _clean_error(["info", f], "d.json", "duplicate key 'M'")


# ------------------------------------------------------------------ defect 8: bad option values
@pytest.mark.parametrize("argv, part", [
    (["solve", "{I}", "--seed", "-1"], "--seed"),
    (["solve", "{I}", "--seed", "1180591620717411303424"], "--seed"),
    (["generate", "paper", "--seed", "-1"], "--seed"),
    (["generate", "paper", "--seed", "1", "--alpha", "1e-300"], "alpha"),
    (["generate", "paper", "--seed", "1", "--concurrency", "nan"], "--concurrency"),
    (["sweep", "{spec}", "--workers", "-1"], "--workers"),
    (["solve", "{I}", "--workers", "1000000"], "--workers"),
    (["solve", "{I}", "--time-limit", "nan"], "--time-limit"),
    (["export-ip", "{I}", "-o", "{tmp}/m.mps", "--time-limit", "0"], "--time-limit"),
    (["adversary", "--policy", "amin", "--alpha", "1e-300", "--n", "3", "-o", "{tmp}/a.json"], "alpha"),
])
def test_bad_option_values_are_clean_errors(tmp_path, inst_file, argv, part) -> None:
    spec = _write(tmp_path / "s.toml", 'name = "x"\n[[instances]]\ngenerator = "paper"\nn = 2\n')
    names = {"I": inst_file, "spec": spec, "tmp": tmp_path}
    msg = _clean_error([a.format(**names) for a in argv], part)
    assert "time_limit" not in msg  # the option's name, not the parameter's


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_solution_value_that_is_not_finite_is_refused(tmp_path, inst_file, value) -> None:
    sol = _write(tmp_path / "sol.txt", f"y_c0_k2 {value}\n")
    _clean_error(["read-solution", inst_file, sol], "sol.txt:1", "y_c0_k2")


def test_binary_trace_file_is_a_clean_error(tmp_path) -> None:
    f = tmp_path / "bin.csv"
    f.write_bytes(bytes(range(256)) * 4)
    _clean_error(["trace", f, "--format", "azure", "--n", "1", "--seed", "0"], "bin.csv")


# ------------------------------------------------------------------ defect 11: silent acceptances
def test_trace_offset_and_window_are_checked(tmp_path) -> None:
    f = _write(tmp_path / "t.csv", AZURE_HEAD + "2023-11-16 18:15:46.68,3,3\n2023-11-16 18:15:47.68,3,3\n")
    base = ["trace", f, "--format", "azure", "--n", "1", "--seed", "0"]
    _clean_error([*base, "--offset", "-1"], "--offset")
    _clean_error([*base, "--window", "nan", "nan"], "--window")
    _clean_error([*base, "--window", "5", "1"], "--window")


def test_mooncake_lengths_must_be_json_numbers(tmp_path) -> None:
    f = _write(tmp_path / "m.jsonl", '{"timestamp": 0, "input_length": "10", "output_length": 2}\n')
    with pytest.raises(TraceError, match="input_length' must be a JSON number"):
        list(iter_trace(f, "mooncake"))


# ------------------------------------------------------------------ defect 12: unclear messages
@pytest.mark.parametrize("opt, value, arrivals", [("--rate", "1e-300", "poisson"), ("--time-scale", "1e-300", "trace"),
                                                  ("--round-seconds", "1e-300", "trace")])
def test_extreme_time_options_blame_the_option(tmp_path, opt, value, arrivals) -> None:
    f = _write(tmp_path / "t.csv", AZURE_HEAD + "2023-11-16 18:15:46.68,3,3\n2023-11-16 18:15:50.68,3,3\n")
    argv = ["trace", f, "--format", "azure", "--n", "2", "--seed", "0", "--arrivals", arrivals, opt, value]
    if opt != "--rate" and arrivals == "poisson":
        argv += ["--rate", "1"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        _clean_error(argv, opt.lstrip("-").replace("-", "_"))


def test_unknown_parameters_do_not_leak_function_names(tmp_path) -> None:
    msg = _clean_error(["construct", "prompt_trap", "--param", "foo=1", "-o", tmp_path / "c.json"], "'foo'")
    assert "()" not in msg
    f = _write(tmp_path / "t.csv", AZURE_HEAD + "2023-11-16 18:15:46.68,3,3\n")
    msg = _clean_error(["trace", f, "--format", "azure", "--n", "1", "--seed", "0", "--intervals", "spread",
                        "--interval-param", "alpha=0.5", "--interval-param", "bogus=1"], "'bogus'")
    assert "spread_intervals" not in msg


@pytest.mark.parametrize("param", ["alpha=nan", "alpha=1e-300", "n=99999999999999999999", "M=inf"])
@pytest.mark.parametrize("name", ["amin_harmonic", "amax_reservation"])
def test_construction_parameters_are_checked(tmp_path, name, param) -> None:
    _clean_error(["construct", name, "--param", param, "-o", tmp_path / "c.json"], param.split("=")[0])


def test_policy_option_must_be_finite(inst_file) -> None:
    _clean_error(["simulate", inst_file, "--option", "watermark=nan"], "watermark")


def test_schedule_errors_name_the_file(tmp_path, inst_file) -> None:
    s = _write(tmp_path / "mysched.json", {"starts": {"zz": 0}})
    _clean_error(["verify", inst_file, s], "mysched.json", "job 'zz'")
    with pytest.raises(ScheduleError, match=r"^mine: "):
        verify_schedule(Instance.from_arrays(M=5, prompt=[1], output=[1]), {"0": -1}, source="mine")


def test_csv_with_a_byte_order_mark_is_read(tmp_path) -> None:
    f = tmp_path / "bom.csv"
    f.write_bytes(("\ufeff" + AZURE_HEAD + "2023-11-16 18:15:46.68,3,4\n").encode())
    rows = list(iter_trace(f, "azure"))
    assert [(r.prompt, r.output) for r in rows] == [(3, 4)]


def test_mean_busy_bound_stays_below_the_optimum_at_the_token_limit() -> None:
    # one job alone: OPT = its output; the bound sums r·(s + r) over its rounds, exact below the limit
    inst = Instance.from_arrays(M=MAX_TOKENS, prompt=[0], output=[MAX_TOKENS])
    bounds = lower_bounds(inst)
    assert bounds.bound <= MAX_TOKENS and all(v <= MAX_TOKENS for v in bounds.values.values())


def test_valid_input_at_the_limits_still_works(tmp_path) -> None:
    f = _write(tmp_path / "edge.json", {"M": MAX_TOKENS, "jobs": [{"id": "a", "prompt": MAX_TOKENS - 1, "output": 1,
                                                                   "arrival": 5}]})
    s = _write(tmp_path / "S.json", {"starts": {"a": 5}})
    res = run_cli(["verify", str(f), str(s), "--json"])
    assert res.code == 0 and json.loads(res.out)["tel"] == 1
    assert json.loads(res.out)["peak_memory"] == MAX_TOKENS
    assert np.int64(MAX_ROUND) < 2**63
