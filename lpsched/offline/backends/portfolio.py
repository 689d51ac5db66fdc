"""The integer backends side by side: which solvers run on a time-indexed model
(:func:`run_backend`), and :func:`run_portfolio`, which runs several on one model at once.

Each solver's outcome is returned on its own (nothing is merged here): the pipeline absorbs each
one (:meth:`lpsched.offline.state.SolveState.absorb_solvers`), so a proof from one solver counts
whatever the others did. :func:`portfolio_status` and :func:`portfolio_info` say what ran for
``SolveResult.info``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..formulation.model import TimeIndexedModel
from .cbc import solve_cbc
from .cpsat import solve_cpsat
from .highs import solve_highs
from .outcome import BackendOutcome, StopSignal

__all__ = ["run_backend", "run_portfolio", "portfolio_status", "portfolio_info", "proof_params", "PortfolioRun"]

#: What :func:`run_portfolio` returns: each member's outcome, and each failed member's error.
PortfolioRun = tuple[dict[str, BackendOutcome], dict[str, BaseException]]


def run_backend(backend: str, model: TimeIndexedModel, *, strong: bool, portfolio: bool, workers: int,
                highs_pair_max_variables: int, **kw: Any) -> tuple[PortfolioRun, str]:
    """The integer backend on the time-indexed model: each solver's outcome (one, or the members
    of a portfolio) and what ran (``"cpsat"``, ``"highs_cutoff+highs_cutoff_2"``, …).

    ``cpsat`` on the ``strong`` model of an instance that is not tight (``portfolio``), with at
    least two workers, runs :func:`run_portfolio`: CP-SAT (``workers − 1``) and HiGHS without the
    cut-off, or on models of at most ``highs_pair_max_variables`` start variables two HiGHS
    searches with the cut-off and random seeds ``seed`` and ``seed + 1`` (and CP-SAT on
    ``workers − 2`` from three workers on). The ``plain`` model is Jaillet et al.'s as written
    (explicit memory rows only, CP-SAT's default workers). ``kw``: the common backend keywords.
    """
    if backend == "pulp":
        return ({"pulp": solve_cbc(model, workers=workers, **kw)}, {}), "pulp"
    if backend == "highs":
        return ({"highs": solve_highs(model, workers=workers, **kw)}, {}), "highs"
    if strong and portfolio and workers >= 2:
        pair = model.n_variables <= highs_pair_max_variables
        cpsat_workers = workers - 2 if pair else workers - 1
        members: dict[str, Callable[..., BackendOutcome]] = {}  # in the order they are reported
        if cpsat_workers >= 1:
            members["cpsat"] = functools.partial(solve_cpsat, model, params=proof_params(cpsat_workers),
                                                 memory="both", workers=cpsat_workers)
        if pair:
            members["highs_cutoff"] = functools.partial(solve_highs, model, workers=1, objective_window="cutoff")
            members["highs_cutoff_2"] = functools.partial(_reseeded, solve_highs, model, workers=1,
                                                          objective_window="cutoff")
        else:
            members["highs"] = functools.partial(solve_highs, model, workers=1, objective_window="none")
        return run_portfolio(members, **kw), "+".join(members)
    out = solve_cpsat(model, params=proof_params(workers) if strong else None,
                      memory="both" if strong else "explicit", workers=workers, **kw)
    return ({"cpsat": out}, {}), "cpsat"


def _reseeded(solver: Callable[..., BackendOutcome], *args: Any, seed: int = 0, **kw: Any) -> BackendOutcome:
    """``solver`` with the next random seed: the second member of a pair of the same solver."""
    return solver(*args, seed=seed + 1, **kw)


def run_portfolio(members: Mapping[str, Callable[..., BackendOutcome]], **kw: Any) -> PortfolioRun:
    """The ``members`` (name -> solver taking the common backend keywords and ``stop``) side by
    side on the same model, one thread each; the first proof (optimal or infeasible) stops the
    others.

    On the paper regime HiGHS proves instances CP-SAT leaves open and HiGHS' time to proof swings
    with its cut-off setting and seed, so no single solver is the better choice (research log,
    docs/research/offline-log.md, "portfolio"). Returns each member's outcome and each failed
    member's exception (a member that fails is left out); if all fail, the first error is raised.
    """
    stop = StopSignal()
    with ThreadPoolExecutor(max_workers=len(members)) as pool:
        futs = {name: pool.submit(fn, stop=stop, **kw) for name, fn in members.items()}
        for fut in futs.values():
            fut.add_done_callback(lambda f: stop.stop() if f.exception() is None and
                                  (f.result().proven_optimal or f.result().infeasible) else None)
        while not all(f.done() for f in futs.values()):
            if stop.stopped:
                stop.stop()  # again, in case another solver had not started its search yet
            time.sleep(0.05)
    errors = {name: f.exception() for name, f in futs.items() if f.exception() is not None}
    outs = {name: f.result() for name, f in futs.items() if name not in errors}
    if not outs:
        raise next(iter(errors.values()))
    return outs, errors


def portfolio_status(outs: Mapping[str, BackendOutcome]) -> str:
    """The solvers' own status names: one solver's alone, several as ``"name STATUS, …"``."""
    if len(outs) == 1:
        return next(iter(outs.values())).status
    return ", ".join(f"{name} {o.status}" for name, o in outs.items())


def portfolio_info(outs: Mapping[str, BackendOutcome], errors: Mapping[str, BaseException]) -> dict[str, Any]:
    """The solvers' statistics: one solver's alone; for several, per name, ``proved_by`` (the
    first that proved optimality or infeasibility) and ``<name>_error`` for a failed one."""
    if len(outs) == 1 and not errors:
        return next(iter(outs.values())).info
    info: dict[str, Any] = {name: o.info for name, o in outs.items()}
    proved = [name for name, o in outs.items() if o.proven_optimal or o.infeasible]
    info["proved_by"] = proved[0] if proved else None
    info.update({f"{name}_error": repr(e) for name, e in errors.items()})
    return info


def proof_params(workers: int) -> dict[str, Any]:
    """CP-SAT workers for the ``strong`` model, which starts from a good incumbent.

    With 2 workers CP-SAT's default runs one full-problem search (``default_lp``) and spends the
    other worker on interleaved LNS, which mostly improves schedules; since the incumbent already
    comes from the heuristics and the LP-guided schedules, the second worker goes to
    ``lb_tree_search`` (a best-first search on the LP bound): it loses no proof the default finds
    on the paper regime (research log, docs/research/offline-log.md, "CP-SAT workers"). With other
    worker counts the default portfolio is kept (from 8 workers on it includes ``lb_tree_search``).
    """
    if workers == 2:
        return {"subsolvers": ["default_lp", "lb_tree_search"], "num_full_subsolvers": 2}
    return {}


