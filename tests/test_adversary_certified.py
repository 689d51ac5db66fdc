"""The certified objective at scale: its interval never overstates, its certificate verifies; the
theorem-setting families are deterministic and stay in the setting."""

from __future__ import annotations

import numpy as np
import pytest

from lpsched.adversary import certify
from lpsched.adversary.certify import EXACT, LOWER_BOUND, certified_ratio
from lpsched.adversary.constructions import THEOREM_FAMILIES, amin_epochs
from lpsched.errors import OptionError
from lpsched.online import simulate
from lpsched.verify import verify_schedule

SMALL = [(fam, c, inv) for fam in THEOREM_FAMILIES for c in (1, 2) for inv in (4, 16)]


@pytest.mark.parametrize("fam,c,inv", SMALL, ids=[f"{f}-c{c}-a1_{i}" for f, c, i in SMALL])
def test_interval_brackets_the_proven_ratio(fam: str, c: float, inv: int) -> None:
    inst = THEOREM_FAMILIES[fam](0, alpha=1 / inv, lower=2, prompt=2, n=7, c=c)
    proven = certify(inst, "amin", time_limit=30)
    assert proven.proven
    # no IP: the heuristics' schedule only; the true ratio must lie inside the interval
    cr = certified_ratio(inst, "amin", seconds=0.2, ip_max_n=0)
    assert cr.ratio_lower <= proven.ratio + 1e-12 <= cr.ratio_upper + 2e-12
    assert cr.schedule_tel >= proven.best_schedule and cr.lower_bound <= proven.best_schedule
    assert (cr.kind == EXACT) == (cr.lower_bound == cr.schedule_tel)
    # with the IP allowed, the ratio is exact and equal to the proven one
    ex = certified_ratio(inst, "amin", seconds=0.2, ip_max_n=16, ip_time_limit=30)
    assert ex.kind == EXACT and ex.ratio_lower == pytest.approx(proven.ratio)


def test_certificate_verifies_at_a_thousand_jobs() -> None:
    inst = THEOREM_FAMILIES["harmonic"](0, alpha=1 / 64, n=1000)
    cr = certified_ratio(inst, "amin", seconds=0.0)
    res = verify_schedule(inst, cr.certificate()["starts"])
    assert res.feasible and res.tel == cr.certificate()["tel"] == cr.schedule_tel
    assert cr.tel == simulate(inst, "amin").tel
    assert cr.kind == LOWER_BOUND and 1.0 < cr.ratio_lower <= cr.ratio_upper
    assert cr.ratio_lower == pytest.approx(cr.tel / cr.schedule_tel)
    d = cr.to_dict()
    assert "starts" not in d and cr.to_dict(with_starts=True)["starts"] == cr.starts


@pytest.mark.parametrize("fam", sorted(THEOREM_FAMILIES))
@pytest.mark.parametrize("c", [1, 2.5, 4])
def test_family_in_theorem_setting(fam: str, c: float) -> None:
    inst = THEOREM_FAMILIES[fam](3, alpha=1 / 32, lower=3, prompt=5, n=40, c=c)
    u = 96
    assert inst.n == 40 and (inst.arrival == 0).all() and (inst.prompt == 5).all()
    assert (inst.lower == 3).all() and (inst.upper == u).all()
    assert ((inst.output >= 3) & (inst.output <= u)).all()
    assert inst.M == round(c * (5 + u))
    assert inst.meta["construction"]["params"]["c"] == pytest.approx(inst.M / (5 + u))


@pytest.mark.parametrize("fam", sorted(THEOREM_FAMILIES))
def test_family_deterministic_given_seed(fam: str) -> None:
    gen = THEOREM_FAMILIES[fam]
    a, b = gen(7, alpha=1 / 64, n=50, c=2), gen(7, alpha=1 / 64, n=50, c=2)
    assert a.to_dict() == b.to_dict()
    other = gen(8, alpha=1 / 64, n=50, c=2)
    # the seed only permutes the rows: same jobs by id, same policy outcome
    rows = sorted(zip(a.ids, a.output.tolist(), strict=True))
    assert rows == sorted(zip(other.ids, other.output.tolist(), strict=True))
    assert simulate(a, "amin").tel == simulate(other, "amin").tel


def test_epochs_lengths_and_orders() -> None:
    inst = amin_epochs(0, alpha=1 / 16, lower=2, n=8)  # u = 32, k = 4 epochs of 2 jobs: 32, 16, 8, 4
    by_id = dict(zip(inst.ids, inst.output.tolist(), strict=True))
    assert [by_id[f"j{i}"] for i in range(8)] == [32, 32, 16, 16, 8, 8, 4, 4]
    rr = amin_epochs(0, alpha=1 / 16, lower=2, n=8, order="round_robin")
    by_id = dict(zip(rr.ids, rr.output.tolist(), strict=True))
    assert [by_id[f"j{i}"] for i in range(8)] == [32, 16, 8, 4, 32, 16, 8, 4]
    with pytest.raises(OptionError):
        amin_epochs(0, order="random")
    with pytest.raises(OptionError):
        amin_epochs(0, c=0.5)


def test_double_reading_bounds_restarts() -> None:
    inst = THEOREM_FAMILIES["harmonic"](0, alpha=1 / 256, n=32)
    default = simulate(inst, "amin")
    double = simulate(inst, "amin", after_eviction="double")
    assert double.max_job_evictions < default.max_job_evictions
    # restarts per job: each one at least doubles the estimate, from l up to the cap M - s
    assert double.max_job_evictions <= int(np.ceil(np.log2((inst.M - 4) / 4))) + 1
    assert simulate(inst, "amin", after_eviction="double", engine="round").tel == double.tel
