"""Hostile-input sweep of the CLI (issue 32): the issue's cases, more of the same kind, and seeded
fuzz cases, each classified as a clean error, a correct result, a traceback, a wrong exit code, a
silent acceptance, a bad message, a wrong answer or a damaged file (tests/hostile_cases.py).

    PYTHONPATH=$PWD python benchmarks/hostile_inputs.py --fuzz 1000 --json benchmarks/results/hostile_inputs.json

Everything runs in-process through ``lpsched.cli.main`` in a temporary folder; no device or system
file is ever named as an output. The issue's defect 4 (a valid instance whose model exhausts memory)
and 13 (``info`` speed) are not run here.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from hostile_cases import (  # the tests folder is put on the path above
    AZURE_CSV,
    Case,
    check_schedule_file,
    check_verify,
    fuzz_cases,
    run_case,
)

from lpsched.fileio import write_text_atomic

I = {"M": 10, "jobs": [{"id": "a", "prompt": 2, "output": 3}]}
I2 = {"M": 10, "jobs": [{"id": "a", "prompt": 2, "output": 3}, {"id": "b", "prompt": 1, "output": 4}]}
HEAD = 'name = "v"\nseeds = [0]\npolicies = ["hsf"]\n[optimum]\nmethod = "none"\n'
BLOCK = '[[instances]]\ngenerator = "paper"\nn = 3\nalpha = [1.0]\n'
DEEP = "[" * 100_000 + "]" * 100_000


def issue_cases(d: Path) -> list[Case]:
    """The issue's cases (and neighbours), each with its expected outcome."""
    d.mkdir(parents=True, exist_ok=True)
    serial = itertools.count()

    def w(name: str, content: object) -> Path:
        p = d / name.replace("#", str(next(serial)))
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content if isinstance(content, str) else json.dumps(content))
        return p

    inst, inst2 = w("I.json", I), w("I2.json", I2)
    good_s = w("S_ok.json", {"starts": {"a": 0}})
    cases: list[Case] = []

    def err(name: str, argv: list, inputs: list[Path], output: Path | None = None) -> None:
        cases.append(Case(name, [str(a) for a in argv], inputs, output, expect="error"))

    def ok(name: str, argv: list, inputs: list[Path], output: Path | None = None, codes=(0,), check=None) -> None:
        cases.append(Case(name, [str(a) for a in argv], inputs, output, expect="ok", ok_codes=codes, check=check))

    # defect 1 / 2: overflow and huge integers
    for v in (2**63 - 1, 2**63, 10**30, 2**38 + 1, -1, 1.5, "3", None, True):
        s = w("S_#.json", {"starts": {"a": v}})
        err(f"verify start {v!r}", ["verify", inst, s], [inst, s])
        err(f"solve --hint start {v!r}", ["solve", inst, "--hint", s, "--time-limit", "1", "--no-progress"], [inst, s])
    for field in ("M", "prompt", "output", "arrival", "lower", "upper", "predicted"):
        for v in (2**63 - 1, 10**30, 2**31, -5):
            data = json.loads(json.dumps(I))
            if field == "M":
                data["M"] = v
            else:
                data["jobs"][0][field] = v
            f = w(f"I_{field}_#.json", data)
            for cmd in ("info", "simulate", "solve", "bounds", "verify", "export-ip"):
                argv = {"verify": [cmd, f, good_s], "export-ip": [cmd, f, "-o", d / "m.mps"]}.get(cmd, [cmd, f])
                if cmd == "solve":
                    argv += ["--time-limit", "1", "--no-progress"]
                if field in ("upper", "arrival") and v == 2**31:
                    continue  # within the limits (an arrival may reach 2^38; upper only needs >= lower)
                err(f"{cmd} {field}={v}", argv, [f])
    for v in (2**63 - 1, 10**30, "-4", "abc", "1e5"):
        f = w("az_#.csv", f"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6,{v},3\n")
        err(f"trace ContextTokens={v}", ["trace", f, "--format", "azure", "--n", "1", "--seed", "0"], [f])
    for at in (1e10, -1, "soon"):
        f = w("at_#.json", {"M": 10, "jobs": [{"id": "a", "prompt": 2, "output": 3,
                                                                      "arrival_time": at}]})
        err(f"replay arrival_time={at}", ["replay", f, "--policy", "fcfs"], [f])
    for line in ("y_c3_k99999999999999999999 1", "y_c0_k2 nan", "y_c0_k2 inf", "y_c0_k2 -inf", "y_c0_k2 1e400",
                 "y_c99999999999_k0 1", "y_c0_k0 x"):
        f = w("sol_#.txt", line + "\n")
        err(f"read-solution {line}", ["read-solution", inst, f], [inst, f])
    # defect 3: deep nesting; 11: duplicates, NaN
    for name, text in [("meta", '{"M": 10, "meta": ' + DEEP + ', "jobs": []}'), ("dup", '{"M":10,"M":5,"jobs":[]}'),
                       ("nan", '{"M": 10, "meta": {"x": NaN}, "jobs": []}'), ("digits", '{"M": ' + "9" * 5000 + "}"),
                       ("dupjob", '{"M":10,"jobs":[{"id":"a","prompt":1,"prompt":2,"output":1}]}')]:
        f = w(f"bad_{name}.json", text)
        for cmd in ("info", "simulate", "solve", "bounds"):
            err(f"{cmd} {name}", [cmd, f], [f])
    s = w("deep_s.json", '{"starts": ' + DEEP + "}")
    err("verify deep schedule", ["verify", inst, s], [inst, s])
    m = w("deep.jsonl", '{"timestamp": 0, "input_length": 3, "output_length": 2, "x": ' + DEEP + "}\n")
    err("trace deep mooncake row", ["trace", m, "--format", "mooncake", "--n", "1", "--seed", "0"], [m])
    m = w("str.jsonl", '{"timestamp": 0, "input_length": "10", "output_length": 2}\n')
    err("trace mooncake string length", ["trace", m, "--format", "mooncake", "--n", "1", "--seed", "0"], [m])
    # defect 5-7: outputs
    csv = w("t.csv", AZURE_CSV)
    blocker = w("blocker", "a file, not a folder\n")
    for cmd, argv in [("simulate", ["simulate", inst, "-o"]), ("generate", ["generate", "paper", "--seed", "1", "-o"]),
                      ("trace", ["trace", csv, "--format", "azure", "--n", "2", "--seed", "0", "-o"]),
                      ("construct", ["construct", "prompt_trap", "-o"]), ("export-ip", ["export-ip", inst, "-o"])]:
        err(f"{cmd} -o under a file", [*argv, blocker / "sub" / "x.json"], [inst, csv, blocker])
        out = d / f"new_{cmd}" / "sub" / "x.json"
        ok(f"{cmd} -o into a new folder", [*argv, out], [inst, csv], out)
    for cmd, argv, src in [("simulate", ["simulate", inst, "-o", inst], inst),
                           ("solve", ["solve", inst, "--time-limit", "1", "--no-progress", "-o", inst], inst),
                           ("export-ip", ["export-ip", inst, "-o", inst], inst),
                           ("trace", ["trace", csv, "--format", "azure", "--n", "2", "--seed", "0", "-o", csv], csv)]:
        err(f"{cmd} -o equal to its input", argv, [src])
    prev = w("prev.json", '{"starts": {"a": 0}, "note": "previous"}\n')
    err("simulate -o kept on bad input", ["simulate", w("neg.json", {"M": -1, "jobs": []}), "-o", prev], [], prev)
    ok("simulate -o replaces whole", ["simulate", inst2, "-o", prev], [inst2], prev,
       check=check_schedule_file(json.dumps(I2), prev))
    # defect 8: options
    for argv in (["solve", inst, "--seed", "-1"], ["solve", inst, "--seed", "1180591620717411303424"],
                 ["generate", "paper", "--seed", "-1"], ["generate", "paper", "--seed", "1", "--alpha", "1e-300"],
                 ["generate", "paper", "--seed", "1", "--concurrency", "nan"],
                 ["generate", "paper", "--seed", "1", "--concurrency", "inf"],
                 ["generate", "paper", "--seed", "1", "--alpha", "nan"],
                 ["generate", "paper", "--seed", "1", "--n", "0"],
                 ["solve", inst, "--workers", "1000000"], ["solve", inst, "--workers", "0"],
                 ["solve", inst, "--time-limit", "nan"], ["solve", inst, "--time-limit", "-1"],
                 ["export-ip", inst, "-o", d / "z.mps", "--time-limit", "0"],
                 ["adversary", "--policy", "amin", "--alpha", "1e-300", "--n", "3", "-o", d / "adv.json"],
                 ["adversary", "--policy", "amin", "--alpha", "0.5", "--n", "-3", "-o", d / "adv.json"],
                 ["construct", "prompt_trap", "--param", "foo=1", "-o", d / "c.json"],
                 ["construct", "prompt_trap", "--seed", "-1", "-o", d / "c.json"]):
        err(" ".join(str(a) for a in argv[:5]), argv, [inst])
    bin_f = w("bin.csv", bytes(range(256)) * 8)
    err("trace binary file", ["trace", bin_f, "--format", "azure", "--n", "1", "--seed", "0"], [bin_f])
    base = ["trace", csv, "--format", "azure", "--n", "2", "--seed", "0"]
    for extra in (["--offset", "-1"], ["--window", "nan", "nan"], ["--window", "5", "1"],
                  ["--arrivals", "poisson", "--rate", "1e-300"], ["--arrivals", "trace", "--time-scale", "1e-300"],
                  ["--arrivals", "trace", "--round-seconds", "1e-300"], ["--rate", "nan", "--arrivals", "poisson"],
                  ["--intervals", "spread", "--interval-param", "bogus=1"], ["--M", "99999999999999"]):
        err("trace " + " ".join(extra), [*base, *extra], [csv])
    bom = w("bom.csv", ("\ufeff" + AZURE_CSV).encode())
    ok("trace BOM CSV", ["trace", bom, "--format", "azure", "--n", "2", "--seed", "0"], [bom])
    # defect 9: databases
    spec_ok = w("ok.toml", HEAD + BLOCK)
    txt = w("notes.txt", "my notes\n")
    empty = w("empty.db", b"")
    err("sweep --db text file", ["sweep", spec_ok, "--db", txt, "--workers", "0", "--no-progress"], [txt])
    err("report text file", ["report", txt], [txt])
    err("report empty file", ["report", empty], [empty])
    err("report missing", ["report", d / "missing.db"], [])
    ok("sweep valid", ["sweep", spec_ok, "--db", d / "ok.db", "--workers", "0", "--no-progress"], [spec_ok])
    ok("report ours", ["report", d / "ok.db"], [])
    err("sweep --workers -1", ["sweep", spec_ok, "--workers", "-1"], [spec_ok])
    # defect 10: specs
    specs = {"bogus": HEAD + BLOCK + "bogus = 1\n", "after": HEAD + BLOCK + "lp_bound = true\n",
             "n0": HEAD + BLOCK.replace("n = 3", "n = 0"), "n8": HEAD + BLOCK.replace("n = 3", 'n = "8"'),
             "n85": HEAD + BLOCK.replace("n = 3", "n = 8.5"), "half": HEAD + BLOCK.replace("[1.0]", '["half"]'),
             "a0": HEAD + BLOCK.replace("[1.0]", "[0.0]"), "anan": HEAD + BLOCK.replace("[1.0]", "[nan]"),
             "ann": HEAD + BLOCK.replace("[1.0]", "[[1.0]]"), "aempty": HEAD + BLOCK.replace("[1.0]", "[]"),
             "tl-1": HEAD + "time_limit = -1\n" + BLOCK, "tlfast": HEAD + 'time_limit = "fast"\n' + BLOCK,
             "tlnan": HEAD + "time_limit = nan\n" + BLOCK, "w0": HEAD + "workers = 0\n" + BLOCK,
             "gurobi": HEAD + 'backend = "gurobi"\n' + BLOCK, "seed-1": HEAD.replace("[0]", "[-1]") + BLOCK,
             "seed11": HEAD.replace("[0]", "[1, 1]") + BLOCK,
             "nopath": HEAD + '[[instances]]\ngenerator = "trace"\nfmt = "azure"\nn = 3\n',
             "varfoo": HEAD + BLOCK + '[[variants]]\npolicy = "amin"\nlabel = "x"\nfoo = 1\n',
             "lpyes": 'lp_bound = "yes"\n' + HEAD + BLOCK, "optstr": 'name = "v"\noptimum = "ip"\n' + BLOCK,
             "Mlow": HEAD + BLOCK.replace("n = 3", "n = 3\nM = 2"), "deep": HEAD + "x = " + "[" * 5000 + "]" * 5000}
    for name, text in specs.items():
        f = w(f"spec_{name}.toml", text)
        err(f"sweep spec {name}", ["sweep", f, "--db", d / f"spec_{name}.db", "--workers", "0", "--no-progress"], [f])
    # a few valid runs that must give verified answers
    s2 = w("S2.json", {"starts": {"a": 0, "b": 3}})
    ok("verify feasible", ["verify", inst2, s2, "--json"], [inst2, s2], codes=(0, 1),
       check=check_verify(json.dumps(I2), json.dumps({"starts": {"a": 0, "b": 3}})))
    s3 = w("S3.json", {"starts": {"a": 0, "b": 0}})
    ok("verify infeasible", ["verify", inst2, s3, "--json"], [inst2, s3], codes=(0, 1),
       check=check_verify(json.dumps(I2), json.dumps({"starts": {"a": 0, "b": 0}})))
    out = d / "solved.json"
    ok("solve -o", ["solve", inst2, "--time-limit", "2", "--workers", "1", "--no-progress", "-o", out], [inst2], out,
       check=check_schedule_file(json.dumps(I2), out))
    return cases


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fuzz", type=int, default=1000, help="Seeded fuzz cases (in batches of 100).")
    ap.add_argument("--json", type=Path, help="Also write the counts here.")
    ap.add_argument("--show", type=int, default=20, help="Print up to this many problems.")
    args = ap.parse_args()
    t0 = time.perf_counter()
    counts: dict[str, Counter[str]] = {"issue": Counter(), "fuzz": Counter()}
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        groups = {"issue": issue_cases(Path(tmp) / "issue")}
        groups["fuzz"] = [c for b in range((args.fuzz + 99) // 100)
                          for c in fuzz_cases(random.Random(b), Path(tmp) / f"fuzz{b}", min(100, args.fuzz - 100 * b))]
        for group, cases in groups.items():
            for case in cases:
                _, v = run_case(case)
                counts[group][v.kind] += 1
                if v.kind not in ("ok", "clean_error"):
                    problems.append(f"[{group}] {case.name}: {v.kind}: {v.detail[:200]}")
    total = counts["issue"] + counts["fuzz"]
    print(f"{sum(total.values())} cases in {time.perf_counter() - t0:.1f} s")
    for group, c in [*counts.items(), ("all", total)]:
        print(f"  {group:<6}" + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
    for p in problems[: args.show]:
        print("  " + p)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"command": " ".join(sys.argv), "counts": {k: dict(v) for k, v in counts.items()},
                   "problems": problems}
        write_text_atomic(args.json, json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":
    main()
