"""Sweep specs are validated entirely when loaded (issue 32, defect 10): every mistake the issue
lists exits 2 before any cell runs, naming the file, the key and the value; nothing is written."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hostile_cases import run_cli

from lpsched.compare import expand_cells, load_spec

HEAD = 'name = "v"\nseeds = [0]\npolicies = ["hsf"]\n[optimum]\nmethod = "none"\n'
BLOCK = '[[instances]]\ngenerator = "paper"\nn = 3\nalpha = [1.0]\n'


def _spec(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "spec.toml"
    p.write_text(textwrap.dedent(text))
    return p


CASES = [
    ("unknown key in a block", HEAD + BLOCK + "bogus = 1\n", "bogus"),
    ("top-level key after the block", HEAD + BLOCK + "lp_bound = true\n", "lp_bound"),
    ("n = 0", HEAD + BLOCK.replace("n = 3", "n = 0"), "'n'"),
    ("n as a string", HEAD + BLOCK.replace("n = 3", 'n = "8"'), "'n'"),
    ("n = 8.5", HEAD + BLOCK.replace("n = 3", "n = 8.5"), "'n'"),
    ("alpha as words", HEAD + BLOCK.replace("[1.0]", '["half"]'), "'alpha'"),
    ("alpha = 0", HEAD + BLOCK.replace("[1.0]", "[0.0]"), "'alpha'"),
    ("alpha = nan", HEAD + BLOCK.replace("[1.0]", "[nan]"), "'alpha'"),
    ("alpha nested", HEAD + BLOCK.replace("[1.0]", "[[1.0]]"), "'alpha'"),
    ("alpha empty", HEAD + BLOCK.replace("[1.0]", "[]"), "'alpha'"),
    ("alpha twice", HEAD + BLOCK.replace("[1.0]", "[0.5, 0.5]"), "twice"),
    ("time_limit = -1", HEAD + "time_limit = -1\n" + BLOCK, "time_limit"),
    ("time_limit as a word", HEAD + 'time_limit = "fast"\n' + BLOCK, "time_limit"),
    ("time_limit = nan", HEAD + "time_limit = nan\n" + BLOCK, "time_limit"),
    ("workers = 0", HEAD + "workers = 0\n" + BLOCK, "workers"),
    ("backend gurobi", HEAD + 'backend = "gurobi"\n' + BLOCK, "gurobi"),
    ("unknown key in optimum", HEAD + "foo = 1\n" + BLOCK, "foo"),
    ("negative seed", HEAD.replace("seeds = [0]", "seeds = [-1]") + BLOCK, "seeds"),
    ("seed twice", HEAD.replace("seeds = [0]", "seeds = [1, 1]") + BLOCK, "twice"),
    ("trace without path", HEAD + '[[instances]]\ngenerator = "trace"\nfmt = "azure"\nn = 3\n', "'path'"),
    ("unknown key in a variant", HEAD + BLOCK + '[[variants]]\npolicy = "amin"\nlabel = "x"\nfoo = 1\n', "foo"),
    ("lp_bound as a string", 'lp_bound = "yes"\n' + HEAD + BLOCK, "lp_bound"),
    ("optimum as a string", 'name = "v"\noptimum = "ip"\n' + BLOCK, "optimum"),
    ("M below the peak", HEAD + BLOCK.replace("n = 3", "n = 3\nM = 2"), "M = 2"),
    ("unknown generator", HEAD + BLOCK.replace('"paper"', '"nope"'), "generator"),
]


@pytest.mark.parametrize("text, part", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_spec_exits_2_before_any_cell_runs(tmp_path, text, part) -> None:
    spec = _spec(tmp_path, text)
    db = tmp_path / "spec.db"
    res = run_cli(["sweep", str(spec), "--workers", "0", "--no-progress"])
    assert res.exception is None, res.exception
    assert res.code == 2, (res.out, res.err)
    lines = res.err.strip().splitlines()
    assert len(lines) == 1 and str(spec) in lines[0] and part in lines[0], lines
    assert not db.exists()  # validated before the database is opened


def test_valid_spec_counts_match_stored_cells(tmp_path) -> None:
    spec = load_spec(_spec(tmp_path, HEAD.replace("seeds = [0]", "seeds = [3, 1]") + BLOCK.replace("[1.0]",
                                                                                                  "[1.0, 0.5]")))
    cells = expand_cells(spec)
    assert len(cells) == 4 and len({c.key for c in cells}) == 4


def test_repository_specs_still_load() -> None:
    root = Path(__file__).resolve().parents[1]
    for p in [*sorted((root / "experiments").glob("*.toml")), root / "lpsched" / "data" / "demo.toml"]:
        if "replay" in p.name:
            continue  # a replay-study spec, not a sweep
        assert expand_cells(load_spec(p))
