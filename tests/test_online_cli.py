"""CLI: ``lpsched simulate``."""

import json

import pytest
from click.testing import CliRunner

from lpsched.cli import cli, main
from lpsched.generate import paper
from lpsched.instance import save_instance


@pytest.fixture
def inst_file(tmp_path):
    p = tmp_path / "inst.json"
    save_instance(paper(2, n=15, alpha=0.25, concurrency=2), p)
    return str(p)


def test_simulate_json_keys_and_schedule(inst_file, tmp_path):
    out = tmp_path / "s.json"
    r = CliRunner().invoke(cli, ["simulate", inst_file, "--policy", "amin", "--json", "-o", str(out)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    for key in ("policy", "tel", "starts", "evictions", "wasted_tokens", "peak_memory", "seconds"):
        assert key in d
    assert json.loads(out.read_text())["starts"] == d["starts"]
    r = CliRunner().invoke(cli, ["verify", inst_file, str(out)])
    assert r.exit_code == 0


def test_simulate_all_and_options(inst_file):
    r = CliRunner().invoke(cli, ["simulate", inst_file, "--policy", "all"])
    assert r.exit_code == 0 and "hsf" in r.output and "fcfs" in r.output
    r = CliRunner().invoke(cli, ["simulate", inst_file, "--policy", "amin", "--option", "engine=round",
                                 "--option", "eviction=fewest", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["engine"] == "round"


@pytest.mark.parametrize("args", [["--policy", "nope"], ["--option", "foo=1"], ["--option", "bad"]])
def test_simulate_bad_input_exits_2(inst_file, args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["simulate", inst_file, *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("lpsched: error:") and err.count("\n") == 1
