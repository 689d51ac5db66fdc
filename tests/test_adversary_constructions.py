"""Constructions: each reaches its documented target ratio on its defaults; seeds only permute rows."""

from __future__ import annotations

import pytest

from lpsched.adversary import certify, quick_ratio
from lpsched.adversary.constructions import (
    CONSTRUCTIONS,
    amax_reservation,
    amin_harmonic,
    arrival_trap,
    construct,
    prompt_trap,
)
from lpsched.errors import OptionError


def test_amax_reservation_exact_target() -> None:
    inst = amax_reservation(0)  # alpha = 1/8: u = 8, M = 15, n = 45
    c = certify(inst, "amax", time_limit=10)
    target = inst.meta["construction"]["target_ratio"]
    assert c.proven and c.opt_method == "bounds"
    assert c.ratio == pytest.approx(target)  # s = 0: the target is the exact ratio
    assert target == pytest.approx((3 * inst.M + 1) / 4)


def test_amin_harmonic_reaches_measured_target() -> None:
    inst = amin_harmonic(0)  # alpha = 1/16
    target = inst.meta["construction"]["target_ratio"]
    c = certify(inst, "amin", time_limit=20)
    assert c.ratio_at_least >= target
    assert c.evictions >= 20  # estimates climb through many evictions


@pytest.mark.parametrize("policy", ["amin", "amax", "hsf", "mcsf", "svf", "fcfs"])
def test_arrival_trap_every_policy(policy: str) -> None:
    inst = arrival_trap(0, policy=policy, m=6, K=40)
    target = inst.meta["construction"]["target_ratio"]
    assert inst.meta["construction"]["adaptive"]["t0"] == 0
    q = quick_ratio(inst, policy)
    assert q.value >= target - 1e-12  # against a verified schedule: the true ratio is at least this
    assert target > 3


def test_arrival_trap_default_proven() -> None:
    inst = arrival_trap(0)
    c = certify(inst, "amin", time_limit=20)
    assert c.proven and c.ratio >= inst.meta["construction"]["target_ratio"] - 1e-12


def test_prompt_trap_sf_vs_svf() -> None:
    inst = prompt_trap(0)
    target = inst.meta["construction"]["target_ratio"]
    for pol in ("hsf", "mcsf", "amin", "amax"):
        assert quick_ratio(inst, pol).value >= target
    c_sf, c_svf = certify(inst, "hsf", time_limit=20), certify(inst, "svf", time_limit=20)
    assert c_sf.proven and c_svf.proven
    assert c_sf.ratio > 1.5 * c_svf.ratio  # ordering by volume escapes the trap


@pytest.mark.parametrize("name", list(CONSTRUCTIONS))
def test_seed_only_permutes_rows(name: str) -> None:
    pol = CONSTRUCTIONS[name][0](0).meta["construction"]["policies"][0]
    small = {"amax_reservation": {"alpha": 0.25}, "amin_harmonic": {"alpha": 0.25, "n": 8},
             "amin_epochs": {"alpha": 0.25, "n": 8}, "amin_blockers": {"alpha": 0.25, "n": 8, "c": 2},
             "arrival_trap": {"m": 3, "K": 10}, "prompt_trap": {"k": 3, "m": 6}}[name]
    a, b = construct(name, 0, **small), construct(name, 7, **small)
    assert a.ids != b.ids or a.n == 1
    assert sorted(a.output.tolist()) == sorted(b.output.tolist())
    assert quick_ratio(a, pol).tel == quick_ratio(b, pol).tel


def test_bad_parameters() -> None:
    with pytest.raises(OptionError):
        construct("nope")
    with pytest.raises(OptionError):
        construct("amax_reservation", alpha=2.0)
    with pytest.raises(OptionError):
        construct("prompt_trap", big=5, M=40)
    with pytest.raises(OptionError):
        construct("amin_harmonic", bogus=1)
