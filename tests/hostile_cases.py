"""Hostile inputs for the CLI: seeded mutations of valid files, an in-process runner, and the checks
every outcome must pass. Used by tests/test_fuzz_cli.py (a few hundred cases in the default suite)
and benchmarks/hostile_inputs.py (the issue's cases and more, with counts).

The contract checked (docs/cli.md): exit 0 or 1 with a result an independent check confirms, or exit
2 with exactly one line ``lpsched: error: ...`` on stderr; no exception escapes ``main``; an input
file is never modified; an output file that existed before is either unchanged or complete.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lpsched.cli import main

BASE_INSTANCE: dict[str, Any] = {
    "name": "fuzz-base",
    "M": 12,
    "meta": {"note": "base"},
    "jobs": [
        {"id": "a", "prompt": 2, "output": 3},
        {"id": "b", "arrival": 1, "prompt": 1, "output": 4, "lower": 2, "upper": 6},
        {"id": "c", "prompt": 3, "output": 2, "predicted": 2, "arrival_time": 0.5},
    ],
}
BASE_SCHEDULE: dict[str, Any] = {"starts": {"a": 0, "b": 1, "c": 3}}
AZURE_CSV = ("TIMESTAMP,ContextTokens,GeneratedTokens\n"
             "2023-11-16 18:15:46.6805900,374,44\n"
             "2023-11-16 18:15:50.9951690,396,109\n"
             "2023-11-16 18:15:51.2000000,12,3\n")
MOONCAKE_ROWS = [{"timestamp": 0, "input_length": 30, "output_length": 5, "hash_ids": [1, 2]},
                 {"timestamp": 250, "input_length": 12, "output_length": 9, "hash_ids": [3]},
                 {"timestamp": 900, "input_length": 7, "output_length": 2, "hash_ids": []}]
BASE_SPEC: dict[str, Any] = {
    "name": "fuzz",
    "seeds": [0],
    "policies": ["hsf", "amin"],
    "optimum": {"method": "none"},
    "instances": [{"generator": "paper", "n": 3, "s": 1, "lower": 2, "concurrency": 2, "alpha": [1.0, 0.5]}],
    "variants": [{"policy": "amin", "label": "amin-fewest", "options": {"eviction": "fewest"}}],
}

#: Values a hostile user puts into fields.
HOSTILE: list[Any] = [
    -1, 0, 1, 2**31 - 1, 2**31, 2**38 + 1, 2**63 - 1, 2**63, 10**30, 1.5, 1e308, -0.0, "10", "", None,
    True, [], {}, [1], "x" * 200, "\u00e9\u0000",
]
#: Raw JSON fragments that are not plain values.
HOSTILE_TEXT = ["NaN", "Infinity", "-Infinity", "1e400", "9" * 5000, "[" * 5000 + "]" * 5000, "\"\\ud800\""]


# ------------------------------------------------------------------ running
@dataclass
class Outcome:
    """What one CLI call did."""

    argv: list[str]
    code: int | None
    out: str
    err: str
    exception: str | None = None  # a traceback: an exception escaped main


def run_cli(argv: list[str]) -> Outcome:
    """Run ``lpsched ARGV`` in this process, capturing output and the exit code."""
    out, err = io.StringIO(), io.StringIO()
    code: int | None = None
    exc_text = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        except BaseException:  # anything else escaping main is a bug: recorded, not raised
            exc_text = traceback.format_exc()
    return Outcome(argv, code, out.getvalue(), err.getvalue(), exc_text)


# ------------------------------------------------------------------ independent checks
def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def independent_verify(instance: dict[str, Any], starts: dict[str, Any]) -> tuple[bool, int] | None:
    """Feasibility and TEL of ``starts`` from the model's definition alone, in Python integers
    (memory of a run started at ``k``: ``s + (τ - k)`` in rounds ``k < τ <= k + o``; the memory only
    peaks at some job's completion round). ``None`` if the instance is not a plain valid one."""
    try:
        M = instance["M"]
        jobs = instance["jobs"]
        rows = []
        for pos, j in enumerate(jobs):
            jid = str(j.get("id", pos))
            a, s, o = j.get("arrival", 0), j["prompt"], j["output"]
            if not all(_int(x) for x in (M, a, s, o)) or not _int(starts.get(jid)):
                return None
            rows.append((starts[jid], a, s, o))
    except (KeyError, TypeError, AttributeError):
        return None
    if len(rows) > 400:
        return None
    feasible = all(k >= a for k, a, _, _ in rows)
    for tau in {k + o for k, _, _, o in rows}:
        mem = sum(s + (tau - k) for k, _, s, o in rows if k < tau <= k + o)
        if mem > M:
            feasible = False
    return feasible, sum(k + o - a for k, a, _, o in rows)


# ------------------------------------------------------------------ checks
@dataclass
class Verdict:
    """How an outcome is classified (benchmarks/hostile_inputs.py counts these)."""

    #: clean_error, ok, traceback, wrong_exit, bad_message, silent_acceptance, damaged_file, wrong_answer
    kind: str
    detail: str = ""


@dataclass
class Case:
    """One CLI call: its argv, the files it reads, the output it may write, and what it expects.

    ``expect`` is ``"error"`` (must exit 2), ``"ok"`` (must succeed) or ``"any"`` (a mutation whose
    validity is not known in advance: either outcome, if well-formed). ``check`` inspects a success.
    """

    name: str
    argv: list[str]
    inputs: list[Path] = field(default_factory=list)
    output: Path | None = None
    expect: str = "any"
    ok_codes: tuple[int, ...] = (0,)
    check: Callable[[Outcome], str | None] | None = None


def _snapshot(paths: list[Path]) -> dict[Path, bytes | None]:
    snap: dict[Path, bytes | None] = {}
    for p in paths:
        try:
            snap[p] = p.read_bytes() if p.is_file() else None
        except OSError:
            snap[p] = None
    return snap


def run_case(case: Case) -> tuple[Outcome, Verdict]:
    """Run ``case`` and classify its outcome (the first problem found wins)."""
    before_in = _snapshot(case.inputs)
    before_out = _snapshot([case.output]) if case.output is not None else {}
    res = run_cli(case.argv)
    v = classify(case, res, before_in, before_out)
    return res, v


def classify(case: Case, res: Outcome, before_in: dict[Path, bytes | None],
             before_out: dict[Path, bytes | None]) -> Verdict:
    """The verdict of one outcome (module text)."""
    for p, data in before_in.items():
        if data is not None and p.is_file() and p.read_bytes() != data:
            return Verdict("damaged_file", f"input {p.name} was modified")
    if res.exception is not None:
        return Verdict("traceback", res.exception.strip().splitlines()[-1])
    if "Traceback" in res.err:
        return Verdict("traceback", res.err.strip().splitlines()[-1])
    for p, data in before_out.items():
        now = p.read_bytes() if p.is_file() else None
        if data is not None and now != data and not _complete(now):
            return Verdict("damaged_file", f"output {p.name} is incomplete")
        if res.code != 0 and now != data:
            return Verdict("damaged_file", f"output {p.name} changed although the command failed")
    if res.code == 2:
        lines = res.err.strip().splitlines()
        if len(lines) != 1 or not lines[0].startswith("lpsched: error: "):
            return Verdict("bad_message", f"stderr has {len(lines)} lines: {res.err[:200]!r}")
        if case.expect == "ok":
            return Verdict("wrong_exit", f"exit 2 on valid input: {lines[0]}")
        return Verdict("clean_error", lines[0])
    if res.code not in case.ok_codes:
        return Verdict("wrong_exit", f"exit {res.code}: {res.err[:200]!r}")
    if case.expect == "error":
        return Verdict("silent_acceptance", f"exit {res.code}: {res.out[:200]!r}")
    if case.output is not None and case.output.exists() and not _complete(case.output.read_bytes()):
        return Verdict("damaged_file", f"output {case.output.name} is not complete strict JSON")
    if case.check is not None:
        problem = case.check(res)
        if problem is not None:
            return Verdict("wrong_answer", problem)
    return Verdict("ok")


def _complete(data: bytes | None) -> bool:
    """A file we write is complete if it is strict JSON (or a non-JSON text file ending in a newline)."""
    if data is None:
        return True
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return False
    if not text.lstrip().startswith(("{", "[")):
        return text.endswith("\n")
    try:
        json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except (ValueError, RecursionError):
        return False
    return True


# ------------------------------------------------------------------ mutations
def _dump(obj: Any) -> str:
    return json.dumps(obj)


def mutate_json_text(rng: random.Random, obj: dict[str, Any], targets: list[list[Any]]) -> str:
    """One mutation of ``obj`` as JSON text: a hostile value at a target path, a deleted or unknown
    field, a duplicate key, a raw fragment (NaN, deep nesting, a 5000-digit integer), truncation,
    byte damage or a byte-order mark."""
    kind = rng.choice(["value", "value", "value", "delete", "unknown", "duplicate", "fragment", "truncate",
                       "bytes", "bom", "empty"])
    obj = json.loads(json.dumps(obj))
    path = rng.choice(targets)
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if kind == "value":
        parent[last] = rng.choice(HOSTILE)
        return _dump(obj)
    if kind == "delete" and isinstance(parent, dict):
        parent.pop(last, None)
        return _dump(obj)
    if kind == "unknown" and isinstance(parent, dict):
        parent["bogus"] = 1
        return _dump(obj)
    text = _dump(obj)
    if kind == "duplicate":
        return text.replace("{", '{"M": 5, ', 1) if rng.random() < 0.5 else text.replace('"a"', '"a", "id": "z"', 1)
    if kind == "fragment":
        marker = "__HOSTILE__"
        parent[last] = marker
        return _dump(obj).replace(json.dumps(marker), rng.choice(HOSTILE_TEXT))
    if kind == "truncate":
        return text[: rng.randrange(len(text))]
    if kind == "bytes":
        chars = list(text)
        for _ in range(rng.randint(1, 4)):
            chars[rng.randrange(len(chars))] = rng.choice(["\x00", "}", "[", '"', "\\", "\udcff", "9"])
        return "".join(chars)
    if kind == "bom":
        return "\ufeff" + text
    return ""


def instance_targets(inst: dict[str, Any]) -> list[list[Any]]:
    """Paths of the instance's fields (and of places for new ones)."""
    paths: list[list[Any]] = [["M"], ["jobs"], ["name"], ["meta"]]
    for i, job in enumerate(inst["jobs"]):
        paths += [["jobs", i, k] for k in (*job, "arrival", "lower", "upper", "predicted", "arrival_time")]
    return paths


def schedule_targets(sched: dict[str, Any]) -> list[list[Any]]:
    """Paths of the schedule's fields."""
    return [["starts"], *[["starts", k] for k in sched["starts"]], ["starts", "zz"]]


def mutate_csv(rng: random.Random, text: str) -> bytes:
    """One mutation of a CSV trace: a hostile cell, a BOM, a lost column, binary data, NUL bytes, a
    huge field."""
    lines = text.splitlines()
    kind = rng.choice(["cell", "cell", "cell", "bom", "header", "binary", "nul", "huge", "short"])
    if kind == "cell":
        r = rng.randrange(1, len(lines))
        cells = lines[r].split(",")
        cells[rng.randrange(len(cells))] = str(rng.choice([*HOSTILE, "1e10", "9" * 30, "-5", " 7 ", "0x10", "²"]))
        lines[r] = ",".join(cells)
        return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    if kind == "bom":
        return ("\ufeff" + text).encode()
    if kind == "header":
        lines[0] = lines[0].replace("ContextTokens", "Context")
        return ("\n".join(lines) + "\n").encode()
    if kind == "binary":
        return bytes(rng.randrange(256) for _ in range(300))
    if kind == "nul":
        return text.replace(",", ",\x00", 1).encode()
    if kind == "huge":
        return (text + "2023-11-16 18:15:52.0," + "1" * 200_000 + ",3\n").encode()
    return (text + "2023-11-16 18:15:53.0,5\n").encode()


def mutate_mooncake(rng: random.Random) -> str:
    """A Mooncake JSONL trace with one mutated row."""
    rows = [json.dumps(r) for r in MOONCAKE_ROWS]
    i = rng.randrange(len(rows))
    targets = [[k] for k in MOONCAKE_ROWS[i]]
    rows[i] = mutate_json_text(rng, dict(MOONCAKE_ROWS[i]), targets).replace("\n", " ")
    return "\n".join(rows) + "\n"


def _toml_value(v: Any) -> str | None:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v) if -(2**63) <= v < 2**63 else None
    if isinstance(v, float):
        return "nan" if v != v else ("inf" if v == float("inf") else repr(v))
    if isinstance(v, str):
        return json.dumps(v) if "\\ud" not in json.dumps(v) and "\x00" not in v else None
    if isinstance(v, list):
        items = [_toml_value(x) for x in v]
        return None if None in items else "[" + ", ".join(items) + "]"  # type: ignore[arg-type]
    if isinstance(v, dict):
        items = [(k, _toml_value(x)) for k, x in v.items()]
        if any(x is None for _, x in items):
            return None
        return "{" + ", ".join(f"{json.dumps(k)} = {x}" for k, x in items) + "}"
    return None


def to_toml(spec: dict[str, Any]) -> str | None:
    """A spec dict as TOML (``None`` if a value has no TOML form, e.g. ``None``)."""
    lines: list[str] = []
    tables: list[str] = []
    for k, v in spec.items():
        if isinstance(v, dict) and k == "optimum":
            tables.append(f"[{k}]")
            for kk, vv in v.items():
                t = _toml_value(vv)
                if t is None:
                    return None
                tables.append(f"{json.dumps(kk)} = {t}")
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v) and k in ("instances", "variants"):
            for block in v:
                tables.append(f"[[{k}]]")
                for kk, vv in block.items():
                    t = _toml_value(vv)
                    if t is None:
                        return None
                    tables.append(f"{json.dumps(kk)} = {t}")
        else:
            t = _toml_value(v)
            if t is None:
                return None
            lines.append(f"{json.dumps(k)} = {t}")
    return "\n".join(lines + tables) + "\n"


def mutate_spec(rng: random.Random) -> dict[str, Any]:
    """The base sweep spec with one hostile change anywhere (top level, [optimum], a block, a variant)."""
    spec = json.loads(json.dumps(BASE_SPEC))
    where = rng.choice(["top", "optimum", "block", "block", "variant", "seeds", "axis"])
    value = rng.choice([*HOSTILE, float("nan"), float("inf"), [], [[1.0]], ["half"], [0.0], [1, 1], "gurobi"])
    if where == "top":
        spec[rng.choice(["name", "seeds", "policies", "lp_bound", "description", "bogus", "optimum"])] = value
    elif where == "optimum":
        spec["optimum"][rng.choice(["method", "time_limit", "workers", "backend", "foo"])] = value
    elif where == "block":
        spec["instances"][0][rng.choice(["n", "s", "lower", "alpha", "concurrency", "M", "dist", "bogus",
                                         "generator"])] = value
    elif where == "variant":
        spec["variants"][0][rng.choice(["policy", "label", "options", "foo"])] = value
    elif where == "seeds":
        spec["seeds"] = rng.choice([[-1], [1, 1], [], 0, 2**63, [2**63 - 1], "3", [0.5]])
    else:
        spec["instances"][0]["alpha"] = rng.choice([[], [float("nan")], [0.0], ["half"], [[1.0]], [1.0, 1.0],
                                                     [1e-300], [0.5]])
    return spec


# ------------------------------------------------------------------ success checks
def check_verify(instance_text: str, schedule_text: str) -> Callable[[Outcome], str | None]:
    """A ``verify --json`` success must agree with :func:`independent_verify`."""
    def check(res: Outcome) -> str | None:
        inst, sched = json.loads(instance_text), json.loads(schedule_text)
        truth = independent_verify(inst, sched["starts"])
        if truth is None:
            return None
        got = json.loads(res.out)
        if got["feasible"] != truth[0] or (truth[0] and got["tel"] != truth[1]):
            return f"verify says feasible={got['feasible']} tel={got['tel']}, independently {truth}"
        if (res.code == 0) != truth[0]:
            return f"exit {res.code} for feasible={truth[0]}"
        return None
    return check


def check_schedule_file(instance_text: str, path: Path) -> Callable[[Outcome], str | None]:
    """A written schedule must be feasible for the instance, independently checked."""
    def check(res: Outcome) -> str | None:
        if not path.exists():
            return "no schedule written"
        starts = json.loads(path.read_text())["starts"]
        truth = independent_verify(json.loads(instance_text), starts)
        if truth is not None and not truth[0]:
            return "the written schedule is infeasible"
        return None
    return check


# ------------------------------------------------------------------ case generation
def fuzz_cases(rng: random.Random, folder: Path, count: int) -> list[Case]:
    """``count`` seeded cases over instances, schedules, CSV and JSONL traces and sweep specs."""
    folder.mkdir(parents=True, exist_ok=True)
    good_inst = folder / "good_instance.json"
    good_inst.write_text(json.dumps(BASE_INSTANCE))
    good_sched = folder / "good_schedule.json"
    good_sched.write_text(json.dumps(BASE_SCHEDULE))
    cases: list[Case] = []
    for i in range(count):
        kind = rng.choice(["instance", "instance", "instance", "schedule", "schedule", "csv", "mooncake", "spec"])
        f = folder / f"case{i}"
        out = folder / f"out{i}.json"
        if rng.random() < 0.5:  # an earlier output that must survive a failure whole
            out.write_text(json.dumps({"starts": {"a": 0}, "note": "previous"}) + "\n")
        if kind == "instance":
            text = mutate_json_text(rng, BASE_INSTANCE, instance_targets(BASE_INSTANCE))
            f = f.with_suffix(".json")
            f.write_bytes(text.encode("utf-8", "surrogatepass"))
            cmd = rng.choice(["info", "verify", "simulate", "bounds", "simulate-all", "solve"])
            if cmd == "verify":
                argv = ["verify", str(f), str(good_sched), "--json"]
                cases.append(Case(f"verify-mutated-instance-{i}", argv, [f, good_sched], ok_codes=(0, 1),
                                  check=check_verify(_safe(text), json.dumps(BASE_SCHEDULE))))
            elif cmd == "simulate":
                argv = ["simulate", str(f), "--policy", rng.choice(["amin", "amax", "hsf", "fcfs"]), "-o", str(out)]
                cases.append(Case(f"simulate-mutated-instance-{i}", argv, [f], out,
                                  check=check_schedule_file(_safe(text), out)))
            elif cmd == "simulate-all":
                cases.append(Case(f"simulate-all-{i}", ["simulate", str(f), "--policy", "all", "--json"], [f]))
            elif cmd == "solve":
                argv = ["solve", str(f), "--time-limit", "2", "--workers", "1", "--no-progress", "-o", str(out)]
                cases.append(Case(f"solve-mutated-instance-{i}", argv, [f], out,
                                  check=check_schedule_file(_safe(text), out)))
            else:
                cases.append(Case(f"{cmd}-mutated-instance-{i}", [cmd, str(f), "--json"], [f]))
        elif kind == "schedule":
            text = mutate_json_text(rng, BASE_SCHEDULE, schedule_targets(BASE_SCHEDULE))
            f = f.with_suffix(".json")
            f.write_bytes(text.encode("utf-8", "surrogatepass"))
            cases.append(Case(f"verify-mutated-schedule-{i}", ["verify", str(good_inst), str(f), "--json"],
                              [good_inst, f], ok_codes=(0, 1),
                              check=check_verify(json.dumps(BASE_INSTANCE), _safe(text))))
        elif kind == "csv":
            f = f.with_suffix(".csv")
            f.write_bytes(mutate_csv(rng, AZURE_CSV))
            argv = ["trace", str(f), "--format", "azure", "--n", "2", "--seed", "0", "-o", str(out),
                    "--arrivals", rng.choice(["zero", "trace"]), "--M", "1000"]
            cases.append(Case(f"trace-mutated-csv-{i}", argv, [f], out))
        elif kind == "mooncake":
            f = f.with_suffix(".jsonl")
            f.write_bytes(mutate_mooncake(rng).encode("utf-8", "surrogatepass"))
            argv = ["trace", str(f), "--format", "mooncake", "--n", "2", "--seed", "0", "-o", str(out), "--M", "100"]
            cases.append(Case(f"trace-mutated-mooncake-{i}", argv, [f], out))
        else:
            toml = to_toml(mutate_spec(rng))
            if toml is None:
                continue
            f = f.with_suffix(".toml")
            f.write_text(toml)
            db = folder / f"sweep{i}.db"
            argv = ["sweep", str(f), "--db", str(db), "--workers", "0", "--no-progress", "--json"]
            cases.append(Case(f"sweep-mutated-spec-{i}", argv, [f], check=_sweep_ran_clean))
    return cases


def _sweep_ran_clean(res: Outcome) -> str | None:
    """A spec that loads must run every cell without a stored error (errors are load-time)."""
    d = json.loads(res.out)
    return None if d["errors"] == 0 else f"{d['errors']} cells failed: {d['error_messages'][:1]}"


def _safe(text: str) -> str:
    """The text if it is strict JSON the checks can read, else a stand-in that makes them skip."""
    try:
        json.loads(text)
        return text
    except (ValueError, RecursionError):
        return json.dumps({"unreadable": True})
