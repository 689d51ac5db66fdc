"""The completion-rank bound and its cuts (eleventh round; an experiment, not in the library).

In any schedule the ``k``-th completion ``C_(k)`` is at least ``T_k``, the least makespan of any
``k`` jobs scheduled alone (drop every other job from the schedule: memory only falls, so the
``k`` jobs that complete first form a feasible schedule of makespan ``C_(k)``). Hence

* ``TEL >= Σ_k T_k − Σ_i a_i`` (the *rank bound*), and
* for every round ``t``, at most ``K(t) = #{k : T_k <= t}`` jobs complete by ``t``: the *rank
  cuts* ``Σ_{i, k + o_i <= t} x_{i,k} <= K(t)`` are valid for the time-indexed IP, and the LP
  with them is a valid bound (any lower bound on ``T_k`` in place of ``T_k`` keeps both valid).

Unlike every LP row of the model, ``T_k`` is memory-exact (an integer problem), so the cuts carry
integrality into the LP. Per instance this prints: how many ``T_k`` CP-SAT proves (optional
intervals on the exact staircase cumulative, no-overlaps above ``M/2`` and of the cores, dominance
between jobs), its lower bounds ``lo`` (the larger of CP-SAT's and the matching bound of the long
jobs' chain: the ``k`` jobs include at least ``k − #short`` long ones, whose consecutive
completions are at least ``o_j − max(0, M − p_i − s_j)`` apart) and best schedules ``hi``, the rank
bound, and the LP and the chain LP on the valid horizon, each alone, with the rank cuts from ``lo``
(valid) and with the cuts from ``hi`` (NOT a bound: at most what exact ``T_k`` could give); LP
optima by GLOP (an experiment: not certified from duals as the library's bounds are), the best
schedule, and the optimum where ``--opt-seconds`` proves it.

    python benchmarks/bench_completion_rank.py --n 8,12 --seeds 1,2,3,4 --opt-seconds 60
    python benchmarks/bench_completion_rank.py --full 1 --per-k 4
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from ortools.linear_solver.python import model_builder_helper as mbh
from ortools.sat.python import cp_model
from rows import RowLog
from scipy import sparse
from scipy.optimize import linprog

from lpsched.generate import jaillet
from lpsched.instance import Instance
from lpsched.offline.backends.cpsat import proven_bound, run_cpsat
from lpsched.offline.bounds.chain import chain_matrix, chain_nodes, long_jobs
from lpsched.offline.formulation.cores import core_lengths, core_levels, dff_levels
from lpsched.offline.formulation.model import TimeIndexedModel, build_model
from lpsched.offline.formulation.objective import tel_of
from lpsched.offline.pipeline import solve_hindsight
from lpsched.offline.schedules.heuristics import best_schedule


def min_makespan_of_k(inst: Instance, k: int, ub: int, seconds: float, workers: int = 2) -> tuple[int, int | None]:
    """(proven lower bound, best value) of the least makespan of any ``k`` jobs alone, ``<= ub``."""
    n, M = inst.n, inst.M
    a, s, o = inst.arrival, inst.prompt, inst.output
    m = cp_model.CpModel()
    T = m.new_int_var(0, ub, "T")
    p = [m.new_bool_var(f"p{i}") for i in range(n)]
    st: list = []
    for i in range(n):
        if ub - int(o[i]) < int(a[i]):
            m.add(p[i] == 0)
            st.append(None)
        else:
            st.append(m.new_int_var(int(a[i]), ub - int(o[i]), f"k{i}"))
    m.add(sum(p) >= k)
    lay: dict[tuple[int, int], object] = {}

    def layer(i: int, j: int):
        if (i, j) not in lay:
            lay[i, j] = m.new_optional_fixed_size_interval_var(st[i] + (j - 1), int(o[i]) - j + 1, p[i], f"L{i}_{j}")
        return lay[i, j]

    ivs, dem, half = [], [], []
    half_level = dff_levels(M, 2)[0]
    for i in (i for i in range(n) if st[i] is not None):
        m.add(T >= st[i] + int(o[i])).only_enforce_if(p[i])
        ivs.append(layer(i, 1))
        dem.append(int(s[i]) + 1)
        for j in range(2, int(o[i]) + 1):
            ivs.append(layer(i, j))
            dem.append(1)
        j = max(1, half_level - int(s[i]))  # from this round on the job holds more than M/2
        if j <= int(o[i]):
            half.append(layer(i, j))
    m.add_cumulative(ivs, dem, M)
    if len(half) > 1:
        m.add_no_overlap(half)
    for P in core_levels(inst, 6):
        c = core_lengths(inst, P)
        sel = [layer(i, int(o[i]) - int(c[i]) + 1) for i in range(n) if c[i] >= 1 and st[i] is not None]
        if len(sel) > 1:
            m.add_no_overlap(sel)
    for i in range(n):  # a job no later, no larger and no longer than j can replace j
        for j in range(n):
            if i != j and a[i] <= a[j] and s[i] <= s[j] and o[i] <= o[j] and (
                    (a[i], s[i], o[i]) != (a[j], s[j], o[j]) or i < j):
                m.add_implication(p[j], p[i])
    m.minimize(T)
    solver, status = run_cpsat(m, time_limit=seconds, workers=workers, seed=0, log=False)
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    bound = proven_bound(solver, status)
    return (0 if bound is None else int(np.ceil(bound - 1e-6))), (round(solver.objective_value) if found else None)


def m_chain_bounds(inst: Instance) -> list[float]:
    """``b[m]``: a lower bound on the least makespan of any ``m`` long jobs (``m = 0..#long``):
    a matching relaxation of the path through them (source arc ``a_j + o_j``, arc ``i → j``
    ``o_j − max(0, M − p_i − s_j)``; each job entered and left at most once, the source left once;
    an LP with an integral polytope, solved by scipy)."""
    M, s, o, a = inst.M, inst.prompt, inst.output, inst.arrival
    long = np.flatnonzero(long_jobs(inst))
    L = len(long)
    arcs = []
    for y, j in enumerate(long):
        arcs.append((L, y, a[j] + o[j]))
        arcs += [(x, y, o[j] - max(0, M - s[i] - o[i] - s[j])) for x, i in enumerate(long) if x != y]
    cost = np.array([c for _, _, c in arcs], float)
    r = [y for _, y, _ in arcs] + [L + x for x, _, _ in arcs]
    A = sparse.csr_matrix((np.ones(len(r)), (r, list(range(len(arcs))) * 2)), shape=(2 * L + 1, len(arcs)))
    out = [0.0]
    for m in range(1, L + 1):
        eq = sparse.vstack([A[2 * L], sparse.csr_matrix(np.ones((1, len(arcs))))])
        res = linprog(cost, A_ub=A[:2 * L], b_ub=np.ones(2 * L), A_eq=eq, b_eq=[1, m], bounds=(0, 1), method="highs")
        out.append(float(res.fun))
    return out


def _glop(A: sparse.csr_matrix, lo: np.ndarray, up: np.ndarray, obj: np.ndarray, rlo: np.ndarray,
          rup: np.ndarray) -> float:
    builder = mbh.ModelBuilderHelper()
    builder.fill_model_from_sparse_data(lo, up, obj, rlo, rup, A)
    solver = mbh.ModelSolverHelper("glop")
    solver.set_solver_specific_parameters("use_preprocessing: false")
    solver.solve(builder)
    if solver.status() != mbh.SolveStatus.OPTIMAL:
        raise RuntimeError(f"GLOP: {solver.status()}")
    return float(solver.objective_value())


def lp_value(model: TimeIndexedModel, K: list[int] | None, chain: bool) -> float:
    """The LP (assignment and explicit memory rows of ``model``) or the chain LP
    (:func:`lpsched.offline.chain.chain_matrix`), with the rank cuts ``#completed by t <= K[t]``
    when ``K`` is given (columns ``z_t`` = completions up to ``t``, ``z_t − z_{t−1} − Σ_{C=t} y = 0``).
    The LP optimum (GLOP), not a certified bound: an experiment."""
    if chain:
        A, lo, up, obj, rhs = chain_matrix(model, chain_nodes(model))
        rlo, rup = rhs
    else:
        nc, nx = model.classes.n_classes, model.n_variables
        rows = model.rows
        r = np.concatenate([np.full(v.size, q) for q, (_, v, _) in enumerate(rows)])
        c = np.concatenate([v for _, v, _ in rows])
        d = np.concatenate([cf for _, _, cf in rows]).astype(float)
        A = sparse.vstack([sparse.csr_matrix((np.ones(nx), (model.var_class, np.arange(nx))), shape=(nc, nx)),
                           sparse.csr_matrix((d, (r, c)), shape=(len(rows), nx))]).tocsr()
        count = model.classes.count.astype(float)
        rlo = np.r_[count, np.full(len(rows), -np.inf)]
        rup = np.r_[count, np.full(len(rows), float(model.M))]
        lo, up, obj = np.zeros(nx), model.var_ub.astype(float), model.var_cost.astype(float)
    if K is None:
        return _glop(A, lo, up, obj, rlo, rup)
    H, nv = len(K), A.shape[1]
    C = model.var_start + model.classes.output[model.var_class]
    y = np.flatnonzero(C < H)
    t = np.arange(H)
    B = sparse.csr_matrix((np.r_[-np.ones(y.size), np.ones(H), -np.ones(H - 1)],
                           (np.r_[C[y], t, t[1:]], np.r_[y, nv + t, nv + t[:-1]])), shape=(H, nv + H))
    A2 = sparse.vstack([sparse.hstack([A, sparse.csr_matrix((A.shape[0], H))]), B]).tocsr()
    return _glop(A2, np.r_[lo, np.zeros(H)], np.r_[up, np.asarray(K, float)], np.r_[obj, np.zeros(H)],
                 np.r_[rlo, np.zeros(H)], np.r_[rup, np.zeros(H)])


def rank_counts(T: list[int], horizon: int) -> list[int]:
    """``K(t) = #{k : T_k <= t}`` for ``t = 0..horizon`` (``T`` non-decreasing)."""
    return [int(np.searchsorted(T, t, side="right")) for t in range(int(horizon) + 1)]


def rank_lower_bounds(inst: Instance, ub: np.ndarray, per_k: float,
                      chain_m: list[float] | None = None) -> tuple[list[int], list[int], int]:
    """``(lo, hi, proven)``: per ``k = 1..n`` a lower bound on ``T_k`` (CP-SAT's, or the long
    chain's matching bound when the ``k`` jobs must include long ones, made non-decreasing), a
    makespan of ``k`` jobs found (at most ``ub[k−1]``, a feasible ``k``-th completion, made
    non-increasing from the top), and how many ``T_k`` CP-SAT proved. ``chain_m``: the
    :func:`m_chain_bounds` of ``inst`` if the caller has them."""
    n_long = int(long_jobs(inst).sum())
    chain_m = m_chain_bounds(inst) if chain_m is None else chain_m
    lo: list[int] = []
    hi: list[int] = []
    proven = 0
    for k in range(1, inst.n + 1):
        b, val = min_makespan_of_k(inst, k, int(ub[k - 1]), per_k)
        proven += val is not None and b >= val
        b = max(b, int(np.ceil(chain_m[max(0, k - (inst.n - n_long))] - 1e-6)))
        lo.append(max(b, lo[-1] if lo else 0))
        hi.append(int(ub[k - 1]) if val is None else min(val, int(ub[k - 1])))
    for k in range(inst.n - 2, -1, -1):  # T_k <= T_{k+1}
        hi[k] = min(hi[k], hi[k + 1])
    return lo, hi, proven


def measure(inst: Instance, label: str, per_k: float, opt_seconds: float) -> dict:
    t0 = time.perf_counter()
    inc, _, _ = best_schedule(inst, seconds=3.0)
    ub = tel_of(inst, inc)
    model = build_model(inst, ub)  # on the valid horizon
    chain_m = m_chain_bounds(inst)
    lo, hi, proven = rank_lower_bounds(inst, np.sort(inc + inst.output), per_k, chain_m)
    t_rank = time.perf_counter() - t0

    row = {"instance": label, "n": inst.n, "M": inst.M, "schedule": ub, "T_proven": proven,
           "T_n_lo": lo[-1], "T_n_hi": hi[-1], "long_chain_makespan": round(chain_m[-1], 1),
           "rank_bound": sum(lo) - int(inst.arrival.sum()), "rank_seconds": round(t_rank, 1)}
    for chain in (False, True):
        name = "chain_lp" if chain else "lp"
        t1 = time.perf_counter()
        row[name] = round(lp_value(model, None, chain), 1)
        row[f"{name}_rank_cuts"] = round(lp_value(model, rank_counts(lo, model.horizon), chain), 1)
        row[f"{name}_rank_cuts_hi_not_a_bound"] = round(lp_value(model, rank_counts(hi, model.horizon), chain), 1)
        row[f"{name}_seconds"] = round(time.perf_counter() - t1, 1)
    if opt_seconds > 0:
        r = solve_hindsight(inst, time_limit=opt_seconds)
        row["opt" if r.status == "OPTIMAL" else "best_after_solve"] = r.objective
        row["solve_bound"] = r.bound
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", default="", help="reduced Jaillet instances (all at 0) of these sizes")
    ap.add_argument("--seeds", default="1,2,3,4")
    ap.add_argument("--full", default="", help="seeds of full Jaillet instances (all at 0)")
    ap.add_argument("--per-k", type=float, default=5.0, help="CP-SAT seconds per T_k")
    ap.add_argument("--opt-seconds", type=float, default=0.0, help="prove the optimum with solve_hindsight")
    ap.add_argument("--jsonl", default=None)
    args = ap.parse_args()
    cases = [(jaillet(seed, n=n), f"jaillet-zero s{seed} n{n}")
             for n in (int(x) for x in args.n.split(",") if x) for seed in (int(x) for x in args.seeds.split(","))]
    cases += [(jaillet(int(seed)), f"jaillet-zero s{seed}") for seed in args.full.split(",") if seed]
    log = RowLog(args.jsonl)
    for inst, label in cases:
        log.emit(measure(inst, label, args.per_k, args.opt_seconds))


if __name__ == "__main__":
    main()
