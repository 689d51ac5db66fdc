"""Output files (issue 32, defects 5-7 and 9): one rule for every writer. Missing folders are made;
an input, a device or a folder is never written; files are replaced whole (a failed write leaves the
old file as it was and no temporary file); a database lpsched did not create is never touched."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hostile_cases import run_cli

from lpsched import Instance, save_instance
from lpsched.errors import OutputError
from lpsched.fileio import atomic_output, check_output, write_text_atomic

REPO = Path(__file__).resolve().parents[1]
I = {"M": 10, "jobs": [{"id": "a", "prompt": 2, "output": 3}, {"id": "b", "prompt": 1, "output": 4}]}
AZURE = "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,3,4\n2023-11-16 18:15:47.68,2,2\n"


@pytest.fixture
def inst_file(tmp_path: Path) -> Path:
    p = tmp_path / "I.json"
    p.write_text(json.dumps(I))
    return p


def _error(argv: list, *parts: str) -> str:
    res = run_cli([str(a) for a in argv])
    assert res.exception is None, res.exception
    assert res.code == 2, (res.code, res.out, res.err)
    lines = res.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lpsched: error: "), res.err
    for p in parts:
        assert p in lines[0], lines[0]
    return lines[0]


def _ok(argv: list) -> str:
    res = run_cli([str(a) for a in argv])
    assert res.exception is None and res.code == 0, (res.code, res.err, res.exception)
    return res.out


def _writers(tmp_path: Path, inst_file: Path, out: Path) -> dict[str, list]:
    trace = tmp_path / "t.csv"
    trace.write_text(AZURE)
    sol = tmp_path / "sol.txt"
    sol.write_text("y_c0_k0 1\ny_c1_k4 1\n")
    return {
        "simulate": ["simulate", inst_file, "-o", out],
        "solve": ["solve", inst_file, "--time-limit", "2", "--workers", "1", "--no-progress", "-o", out],
        "generate": ["generate", "paper", "--seed", "1", "--n", "3", "-o", out],
        "trace": ["trace", trace, "--format", "azure", "--n", "2", "--seed", "0", "-o", out],
        "construct": ["construct", "prompt_trap", "-o", out],
        "read-solution": ["read-solution", inst_file, sol, "-o", out],
        "export-ip": ["export-ip", inst_file, "-o", out, "--time-limit", "2"],
    }


# ------------------------------------------------------------------ defect 5: one rule for folders
@pytest.mark.parametrize("cmd", ["simulate", "solve", "generate", "trace", "construct", "read-solution", "export-ip"])
def test_missing_folders_are_created_by_every_writer(tmp_path, inst_file, cmd) -> None:
    out = tmp_path / "no" / "dir" / "x.json"
    _ok(_writers(tmp_path, inst_file, out)[cmd])
    assert out.is_file() and json.loads(out.read_text()) if cmd != "export-ip" else out.read_text().strip()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temporary file left


@pytest.mark.parametrize("cmd", ["simulate", "generate", "trace", "construct", "export-ip"])
def test_unwritable_folder_is_one_clean_error(tmp_path, inst_file, cmd) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder\n")
    _error(_writers(tmp_path, inst_file, blocker / "sub" / "x.json")[cmd], "-o", "cannot")


# ------------------------------------------------------------------ defect 6: inputs and devices
@pytest.mark.parametrize("cmd", ["simulate", "solve", "export-ip", "read-solution"])
def test_output_equal_to_the_input_is_refused(tmp_path, inst_file, cmd) -> None:
    before = inst_file.read_bytes()
    _error(_writers(tmp_path, inst_file, inst_file)[cmd], "input file")
    assert inst_file.read_bytes() == before


def test_trace_output_equal_to_its_csv_is_refused(tmp_path) -> None:
    trace = tmp_path / "t.csv"
    trace.write_text(AZURE)
    _error(["trace", trace, "--format", "azure", "--n", "2", "--seed", "0", "-o", trace], "input file")
    link = tmp_path / "link.json"
    link.symlink_to(trace)
    _error(["trace", trace, "--format", "azure", "--n", "2", "--seed", "0", "-o", link], "input file")
    assert trace.read_text() == AZURE


def test_solve_may_resume_into_its_hint_file(tmp_path, inst_file) -> None:
    hint = tmp_path / "best.json"
    _ok(["simulate", inst_file, "-o", hint])
    _ok(["solve", inst_file, "--hint", hint, "-o", hint, "--time-limit", "2", "--workers", "1", "--no-progress"])
    assert json.loads(hint.read_text())["status"] == "OPTIMAL"


def test_non_regular_targets_are_refused(tmp_path, inst_file) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    _error(["simulate", inst_file, "-o", fifo], "not a regular file")
    _error(["simulate", inst_file, "-o", tmp_path], "directory")  # click's own check
    assert fifo.exists() and not fifo.is_file()
    with pytest.raises(OutputError, match="not a regular file"):
        check_output(os.devnull)
    with pytest.raises(OutputError, match="a folder"):
        check_output(tmp_path)


# ------------------------------------------------------------------ defect 7: whole files only
def test_atomic_write_leaves_the_old_file_on_failure(tmp_path) -> None:
    target = tmp_path / "keep.json"
    target.write_text('{"old": true}\n')
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_text('{"new": ')
        raise RuntimeError("writer died")
    assert target.read_text() == '{"old": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.json"]
    write_text_atomic(target, '{"new": true}\n')
    assert target.read_text() == '{"new": true}\n'


_FSIZE = """
import resource, sys
from lpsched.cli import main
resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))
main(sys.argv[1:])
"""


@pytest.mark.parametrize("cmd", ["generate", "export-ip"])
def test_a_write_cut_short_by_the_file_size_limit_keeps_the_old_file(tmp_path, inst_file, cmd) -> None:
    out = tmp_path / "out.json"
    old = '{"previous": "output"}\n'
    out.write_text(old)
    argv = {"generate": ["generate", "paper", "--seed", "1", "--n", "400", "-o", str(out)],
            "export-ip": ["export-ip", str(inst_file), "-o", str(out), "--time-limit", "2"]}[cmd]
    if cmd == "export-ip":  # a model big enough to pass the limit
        big = Instance.from_arrays(M=40, prompt=[1] * 12, output=list(range(3, 15)))
        save_instance(big, inst_file)
    proc = subprocess.run([sys.executable, "-c", _FSIZE, *argv], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "cannot write" in proc.stderr
    assert out.read_text() == old
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# ------------------------------------------------------------------ defect 9: foreign databases
def _spec(tmp_path: Path) -> Path:
    spec = tmp_path / "s.toml"
    spec.write_text(textwrap.dedent("""
        name = "w"
        seeds = [0]
        policies = ["hsf"]
        [optimum]
        method = "none"
        [[instances]]
        generator = "paper"
        n = 3
        alpha = [1.0]
    """))
    return spec


def test_sweep_and_report_refuse_a_text_file(tmp_path) -> None:
    db = tmp_path / "notes.txt"
    db.write_text("my notes\n")
    _error(["sweep", _spec(tmp_path), "--db", db, "--workers", "0", "--no-progress"], "not an SQLite database")
    _error(["report", db], "not an SQLite database")
    assert db.read_text() == "my notes\n"


def test_foreign_sqlite_database_is_left_untouched(tmp_path) -> None:
    db = tmp_path / "foreign.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE cells (id INTEGER, colour TEXT)")
    con.execute("INSERT INTO cells VALUES (1, 'red')")
    con.commit()
    con.close()
    before = db.read_bytes()
    _error(["sweep", _spec(tmp_path), "--db", db, "--workers", "0", "--no-progress"], "did not create")
    _error(["report", db], "did not create")
    assert db.read_bytes() == before
    assert not Path(f"{db}-wal").exists()


def test_report_on_an_empty_file_writes_nothing(tmp_path) -> None:
    db = tmp_path / "empty.db"
    db.write_bytes(b"")
    _error(["report", db], "empty file")
    assert db.read_bytes() == b""
    _error(["report", tmp_path / "missing.db"], "no such results database")
    assert not (tmp_path / "missing.db").exists()


def test_our_database_and_a_legacy_one_are_accepted(tmp_path) -> None:
    db = tmp_path / "ours.db"
    out = _ok(["sweep", _spec(tmp_path), "--db", db, "--workers", "0", "--no-progress", "--json"])
    assert json.loads(out)["ran"] == 1
    con = sqlite3.connect(db)
    assert dict(con.execute("SELECT key, value FROM lpsched_store").fetchall())["format"] == "lpsched-sweep"
    con.execute("DROP TABLE lpsched_store")  # as written before the marker existed
    con.commit()
    con.close()
    assert "ratio" in _ok(["report", db])
