"""Search: deterministic, respects the space, its proxy is a certified lower bound, and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from lpsched.adversary import SearchSpace, certify, local_search, random_search
from lpsched.cli import cli
from lpsched.errors import OptionError
from lpsched.instance import load_instance
from lpsched.verify import verify_schedule


def _space() -> SearchSpace:
    return SearchSpace(n=6, lower=1, upper=8, M=16, m_range=(8, 24))


def test_same_seed_same_result() -> None:
    a = local_search("amax", _space(), budget=120, seed=3)
    b = local_search("amax", _space(), budget=120, seed=3)
    assert a.best_value == b.best_value and a.trace == b.trace
    assert a.best.content_hash() == b.best.content_hash()
    assert a.evaluations == 120


def test_stays_in_space() -> None:
    sp = SearchSpace(n=5, lower=2, upper=8, prompt=1, M=20, m_range=(11, 30), arrival_max=4, prompt_max=3)
    r = local_search("amin", sp, budget=150, seed=1)
    for _, inst in [(r.best_value, r.best), *r.top]:
        assert np.all((inst.output >= 2) & (inst.output <= 8))
        assert np.all(inst.lower == 2) and np.all(inst.upper == 8)
        assert 11 <= inst.M <= 30 and np.all(inst.arrival <= 4) and np.all(inst.prompt <= 3)


def test_proxy_is_below_true_ratio() -> None:
    r = local_search("amin", _space(), budget=150, seed=0)
    c = certify(r.best, "amin", time_limit=10)
    assert c.proven
    assert r.best_value <= c.ratio + 1e-12  # TEL/UB never overstates
    assert c.ratio_at_least <= c.ratio <= c.ratio_at_most


def test_search_beats_random_uniform_on_amax() -> None:
    sp = SearchSpace(n=10, lower=1, upper=16, M=32, m_range=(16, 48))
    loc = local_search("amax", sp, budget=300, seed=0)
    rnd = random_search("amax", sp, budget=300, seed=0)
    assert loc.best_value > 1.3 * rnd.best_value


def test_bad_space() -> None:
    with pytest.raises(OptionError):
        SearchSpace(n=0, lower=1, upper=2)
    with pytest.raises(OptionError):
        SearchSpace(n=3, lower=3, upper=2)
    with pytest.raises(OptionError):
        SearchSpace(n=3, lower=1, upper=8, M=5)
    with pytest.raises(OptionError):
        local_search("amax", _space(), budget=10, moves=("teleport",))


def test_cli_adversary(tmp_path) -> None:
    out = tmp_path / "w.json"
    res = CliRunner().invoke(cli, ["adversary", "--policy", "amax", "--alpha", "0.25", "--n", "5", "--budget", "80",
                                   "--seed", "2", "--quiet", "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    meta = json.loads(out.read_text())["meta"]["adversary"]
    assert d["ratio"] == meta["ratio"] and meta["seed"] == 2 and meta["budget"] == 80
    assert meta["opt_status"] == "OPTIMAL" and meta["ratio"] >= 1
    # the file carries its certificate: a schedule that verifies with the recorded TEL
    inst = load_instance(out)
    check = verify_schedule(inst, meta["certificate"]["starts"])
    assert check.feasible and check.tel == meta["certificate"]["tel"] == meta["best_schedule"]
    assert meta["policy_tel"] == meta["tel"] and meta["ratio_kind"] == "exact"


def test_cli_construct_and_errors(tmp_path) -> None:
    out = tmp_path / "c.json"
    res = CliRunner().invoke(cli, ["construct", "prompt_trap", "--param", "k=3", "-o", str(out)])
    assert res.exit_code == 0, res.output
    from lpsched.cli import main

    for argv in (["adversary", "--policy", "nope", "--alpha", "0.5", "--n", "3", "-o", str(out)],
                 ["construct", "nope", "-o", str(out)]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
