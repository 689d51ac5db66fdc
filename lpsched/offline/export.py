"""The hindsight IP as an MPS file for any MIP solver, and a solver's solution read back as a verified schedule.

:func:`export_ip` writes the time-indexed IP of docs/model.md §6 exactly as :func:`solve_hindsight`
builds it (class aggregation, the provably valid horizon of the best heuristic schedule,
optionally reduced-cost fixing), so that a solver lpsched does not ship (Gurobi, CPLEX, SCIP,
…) can solve it:

* ``MODEL.mps`` — free MPS, minimisation. Integer variables ``y_c{c}_k{k}``: the number of jobs of
  class ``c`` that start at round ``k``; the objective is the TEL (``Σ (k + o_c − a_c)·y``), no
  constant. ``rows="explicit"`` states one memory row per round (``mem_t{τ}``: Jaillet et al.'s
  eq. 3, aggregated); ``rows="compact"`` the equivalent compact form of :mod:`~lpsched.offline.bounds.lp`
  with integer ``N_t{τ}`` (jobs running in round ``τ``) and ``Q_t{τ}`` (tokens held, ``<= M``),
  which HiGHS solved faster (docs/research/offline-log.md). Rows ``assign_c{c}``
  give every class its job count.
* ``MODEL.mps.json`` — the manifest: the instance's content hash, the job ids of every class, the
  horizon, the heuristic schedule used (TEL and starts), a certified lower bound, and whether
  variables were fixed.
* ``MODEL.mst`` — the heuristic schedule as a MIP start (``name value`` lines, the format Gurobi
  and others read), when every variable it needs is in the model.

With ``fixing=True`` the LP relaxation is solved and every variable that is in no schedule
better than the heuristic one is removed (the pipeline's reduced-cost fixing): the model then
holds every schedule of TEL at most ``incumbent − 1`` and possibly some others, so a solver that
proves it infeasible, or proves its optimum ``>= incumbent``, has proved the manifest's heuristic
schedule optimal. Without fixing the model's optimum is the hindsight optimum.

:func:`read_solution` reads a solver's solution file back: any text in which each variable
appears as its name followed by its value on one line (Gurobi's ``.sol``, SCIP's, CBC's, HiGHS'
``name value`` listings). Counts per class and start are turned into per-job starts (earliest
starts to the first jobs of the class, :func:`~lpsched.offline.formulation.classes.disaggregate`) and the
schedule is verified (:func:`~lpsched.verify.verify_schedule`); a solution that does not assign
every job, names a class the instance does not have, or breaks memory is one
:class:`~lpsched.errors.ScheduleError` naming the class or the round. An external solver's claim
of optimality is not checked here: lpsched reports the schedule's TEL, verified, and the bounds it
can certify itself.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from ortools.math_opt.io.python import mps_converter

from ..errors import OptionError, ScheduleError
from ..fileio import read_json, read_text, write_text_atomic
from ..instance import Instance
from ..limits import MAX_ROUND
from ..verify import require_feasible, verify_schedule
from .backends.highs import sparse_proto
from .bounds.lp import integer_bound, solve_lp
from .bounds.report import lower_bounds
from .formulation.classes import JobClasses, aggregate, class_counts, disaggregate
from .formulation.compact import compact_matrix
from .formulation.model import TimeIndexedModel, build_model, restrict
from .schedules.heuristics import best_schedule

__all__ = ["ExportedIP", "export_ip", "read_solution", "ROW_FORMS"]

#: The two ways of stating the memory constraints (module text).
ROW_FORMS = ("explicit", "compact")
#: Explicit memory rows above this many matrix entries are refused (an MPS file of some 300 MB);
#: the compact form has about five entries per start variable.
EXPLICIT_MAX_ENTRIES = 10_000_000

_VAR = re.compile(r"^y_c(\d+)_k(\d+)$")


@dataclass
class ExportedIP:
    """What :func:`export_ip` wrote (also the content of the manifest, without the class lists)."""

    path: str
    manifest: str
    start_file: str | None
    rows: str
    fixing: bool
    n_variables: int
    n_constraints: int
    horizon: int
    incumbent_tel: int
    lower_bound: int
    lower_bound_name: str
    instance_hash: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def export_ip(instance: Instance, path: str | Path, *, rows: str = "explicit", fixing: bool = False,
              time_limit: float = 30.0, hint: np.ndarray | None = None, seed: int = 0) -> ExportedIP:
    """Write the hindsight IP of ``instance`` to ``path`` (MPS), with its manifest and MIP start.

    Parameters
    ----------
    instance : Instance
    path : str or Path
        The MPS file; the manifest is ``path + ".json"``, the MIP start ``path`` with suffix ``.mst``.
    rows : {"explicit", "compact"}
        How the memory constraints are stated (module text).
    fixing : bool
        Remove, by the LP's reduced costs, every variable that is in no schedule better than the
        heuristic one (module text: the model's meaning changes).
    time_limit : float
        Seconds for the heuristics (at most a tenth, up to 5 s) and the LP.
    hint : int array, optional
        A schedule (one start per job) to use as the incumbent if it is feasible and better.
    seed : int
        Seed of the local search.

    Returns
    -------
    ExportedIP

    Raises
    ------
    OptionError
        For an unknown ``rows``, a ``time_limit`` that is not positive, or an instance without jobs.
    """
    if rows not in ROW_FORMS:
        raise OptionError(f"unknown rows '{rows}' (known: {', '.join(ROW_FORMS)})")
    if not time_limit > 0:
        raise OptionError(f"time_limit must be > 0, got {time_limit}")
    if instance.n == 0:
        raise OptionError("the instance has no jobs: there is no model to write")
    extra = {"hint": np.asarray(hint, dtype=np.int64)} if hint is not None else None
    inc, inc_name, _ = best_schedule(instance, seconds=min(5.0, 0.1 * time_limit), seed=seed, extra=extra,
                                     orders=False)
    ub = int(require_feasible(verify_schedule(instance, inc), f"export_ip heuristic ({inc_name})").tel)
    report = lower_bounds(instance)
    lb, lb_name = report.bound, report.name
    model = build_model(instance, ub)
    notes = [f"heuristic schedule: {inc_name}, TEL {ub}"]
    if fixing:
        model, fixing, lp_bound = _fixed(model, inc, ub, time_limit, notes)
        if lp_bound is not None and lp_bound > lb:
            lb, lb_name = lp_bound, "lp_relaxation"
    entries = int(model.classes.output[model.var_class].sum())  # each start touches o rows
    if rows == "explicit" and entries > EXPLICIT_MAX_ENTRIES:
        raise OptionError(f"the explicit memory rows would have {entries:,} entries (limit "
                          f"{EXPLICIT_MAX_ENTRIES:,}): use rows='compact' (--rows compact), about "
                          f"{5 * model.n_variables:,} entries here")
    A, lo, up, obj, rlo, rup, var_names, row_names = _matrix(model, rows)
    proto = sparse_proto(A, lo, up, obj, rlo, rup, name="lpsched_hindsight", var_names=var_names,
                         row_names=row_names)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(p, mps_converter.model_proto_to_mps(proto))
    start_file = _write_start(model, inc, var_names, p.with_suffix(".mst"))
    out = ExportedIP(
        path=str(p), manifest=str(p) + ".json", start_file=start_file, rows=rows, fixing=fixing,
        n_variables=int(A.shape[1]), n_constraints=int(A.shape[0]), horizon=int(model.horizon),
        incumbent_tel=ub, lower_bound=min(lb, ub), lower_bound_name=lb_name, instance_hash=instance.content_hash(),
        notes=notes,
    )
    manifest = {
        **out.to_dict(),
        "variables": "y_c{c}_k{k}: number of jobs of class c starting at round k (objective: TEL)",
        "classes": [[instance.ids[i] for i in m] for m in model.classes.members],
        "incumbent_starts": {instance.ids[i]: int(k) for i, k in enumerate(inc)},
    }
    write_text_atomic(out.manifest, json.dumps(manifest, indent=1, allow_nan=False) + "\n")
    return out


def _fixed(model: TimeIndexedModel, inc: np.ndarray, ub: int, time_limit: float,
           notes: list[str]) -> tuple[TimeIndexedModel, bool, int | None]:
    """Reduced-cost fixing below the heuristic schedule's TEL ``ub`` (with ``0.9·time_limit`` for the
    LP): the model left, whether it was fixed (the LP converged), and the LP's certified bound
    (``None`` if GLOP gave no duals); what was done goes to ``notes``."""
    lp = solve_lp(model, time_limit=max(1.0, 0.9 * time_limit), start_hint=inc)
    lp_bound = integer_bound(lp.bound) if np.isfinite(lp.bound) else None
    if not lp.converged:
        notes.append("the LP did not converge in the time limit: no variable fixed")
        return model, False, lp_bound
    keep = lp.bound + lp.reduced_costs <= ub - 1 + 1e-3 + 1e-6 * ub
    notes.append(f"reduced-cost fixing kept {int(keep.sum())} of {keep.size} start variables: the model "
                 f"holds every schedule of TEL <= {ub - 1}; infeasible or optimum >= {ub} proves the "
                 "heuristic schedule optimal")
    return restrict(model, keep)[0], True, lp_bound


def _matrix(model: TimeIndexedModel, rows: str) -> tuple[Any, ...]:
    """Sparse data of the model in the chosen row form, with variable and row names."""
    nc, nx = model.classes.n_classes, model.n_variables
    y_names = [f"y_c{c}_k{k}" for c, k in zip(model.var_class.tolist(), model.var_start.tolist(), strict=True)]
    if rows == "compact":
        A, lo, up, obj, rhs = compact_matrix(model)
        T = int(model.horizon)  # columns: starts, N_1..N_T, Q_1..Q_T (an exact model has no late ones)
        var_names = y_names + [f"N_t{t}" for t in range(1, T + 1)] + [f"Q_t{t}" for t in range(1, T + 1)]
        n_core = A.shape[0] - nc - 2 * T
        row_names = ([f"assign_c{c}" for c in range(nc)] + [f"running_t{t}" for t in range(1, T + 1)]
                     + [f"tokens_t{t}" for t in range(1, T + 1)] + [f"core_{r}" for r in range(n_core)])
        return A, lo, up, obj, rhs[0], rhs[1], var_names, row_names
    parts_r, parts_c, parts_v = [model.var_class], [np.arange(nx)], [np.ones(nx)]
    row_names = [f"assign_c{c}" for c in range(nc)]
    for r, (tau, v, cf) in enumerate(model.rows):
        parts_r.append(np.full(v.size, nc + r))
        parts_c.append(v)
        parts_v.append(cf.astype(float))
        row_names.append(f"mem_t{tau}" if tau >= 1 else f"core_{r}")
    nr = nc + len(model.rows)
    A = sp.csr_matrix((np.concatenate(parts_v), (np.concatenate(parts_r), np.concatenate(parts_c))), shape=(nr, nx))
    count = model.classes.count.astype(float)
    rlo = np.r_[count, np.full(len(model.rows), -np.inf)]
    rup = np.r_[count, np.full(len(model.rows), float(model.M))]
    return (A, np.zeros(nx), model.var_ub.astype(float), model.var_cost.astype(float), rlo, rup, y_names,
            row_names)


def _write_start(model: TimeIndexedModel, starts: np.ndarray, var_names: list[str], path: Path) -> str | None:
    """The schedule as a MIP start (``name value``), or ``None`` if the model lacks one of its variables."""
    var_of = {(int(c), int(k)): j for j, (c, k) in enumerate(zip(model.var_class, model.var_start, strict=True))}
    counts = class_counts(model.classes, starts)
    if any(key not in var_of for key in counts):
        path.unlink(missing_ok=True)
        return None
    lines = ["# MIP start written by lpsched: the heuristic schedule of the manifest"]
    lines += [f"{var_names[var_of[key]]} {m}" for key, m in sorted(counts.items())]
    write_text_atomic(path, "\n".join(lines) + "\n")
    return str(path)


def read_solution(instance: Instance, path: str | Path, manifest: str | Path | None = None) -> np.ndarray:
    """Per-job starts (instance order) from a solver's solution file of an exported model.

    Parameters
    ----------
    instance : Instance
        The instance the model was exported from.
    path : str or Path
        The solution: lines holding a variable name and then its value (module text); lines
        without a start variable are skipped.
    manifest : str or Path, optional
        The model's manifest: checked to belong to ``instance`` (same content hash, same classes).

    Returns
    -------
    numpy.ndarray
        A verified schedule.

    Raises
    ------
    ScheduleError
        If the file is unreadable, holds no start variable, names a class the instance does not
        have, gives a class more or fewer starts than it has jobs, a value that is not a
        non-negative integer, or a schedule that breaks memory; or the manifest belongs to another
        instance.
    """
    p = Path(path)
    classes = aggregate(instance)
    if manifest is not None:
        _check_manifest(instance, classes, manifest)
    counts: dict[tuple[int, int], int] = {}
    for line_no, line in enumerate(read_text(p, "solution file", ScheduleError).splitlines(), start=1):
        tokens = line.replace("=", " ").split()
        for i, tok in enumerate(tokens[:-1]):
            m = _VAR.match(tok)
            if m is None:
                continue
            c, k, count = _solution_entry(classes, tok, m, tokens[i + 1], f"{p}:{line_no}")
            if count:
                counts[(c, k)] = counts.get((c, k), 0) + count
                if counts[(c, k)] > int(classes.count[c]):
                    raise ScheduleError(f"{p}:{line_no}: {tok}: {counts[(c, k)]} starts for class {c}, which "
                                        f"has {int(classes.count[c])} jobs")
            break
    if not counts:
        raise ScheduleError(f"{p}: no start variable (y_c<class>_k<start>) with a value in the file")
    got = np.zeros(classes.n_classes, dtype=np.int64)
    for (c, k), m in counts.items():
        if k < int(classes.arrival[c]):
            raise ScheduleError(f"{p}: y_c{c}_k{k}: class {c} arrives at round {int(classes.arrival[c])}")
        got[c] += m
    bad = np.flatnonzero(got != classes.count)
    if bad.size:
        c = int(bad[0])
        ids = ", ".join(instance.ids[i] for i in classes.members[c][:5])
        raise ScheduleError(f"{p}: class {c} (jobs {ids}{', …' if classes.count[c] > 5 else ''}) has "
                            f"{int(got[c])} starts for {int(classes.count[c])} jobs")
    starts = disaggregate(classes, counts, instance.n)
    res = verify_schedule(instance, starts)
    if not res.feasible:
        raise ScheduleError(f"{p}: the solution is not a feasible schedule: {res.reason}")
    return starts


def _solution_entry(classes: JobClasses, tok: str, m: re.Match[str], text: str, where: str) -> tuple[int, int, int]:
    """Class, start and count of one ``y_c<class>_k<start> value`` entry, each checked: the class
    exists, the start is within ``MAX_ROUND``, the value is a finite non-negative integer."""
    if len(m.group(1)) > 9 or len(m.group(2)) > 12 or int(m.group(2)) > MAX_ROUND:
        raise ScheduleError(f"{where}: {tok}: class or start beyond the limits (start <= {MAX_ROUND}, "
                            "docs/formats.md)")
    c, k = int(m.group(1)), int(m.group(2))
    try:
        value = float(text)
    except ValueError:
        raise ScheduleError(f"{where}: {tok}: value '{text}' is not a number") from None
    if not math.isfinite(value):
        raise ScheduleError(f"{where}: {tok}: value '{text}' is not a finite number")
    if value < -1e-4 or abs(value - round(value)) > 1e-4:
        raise ScheduleError(f"{where}: {tok} = {value} is not a non-negative integer")
    if c >= classes.n_classes:
        raise ScheduleError(f"{where}: {tok}: the instance has no class {c} ({classes.n_classes} classes): a "
                            "solution of another instance?")
    count = round(value)
    if count > int(classes.count[c]):
        raise ScheduleError(f"{where}: {tok} = {value}: class {c} has {int(classes.count[c])} jobs")
    return c, k, count


def _check_manifest(instance: Instance, classes: JobClasses, manifest: str | Path) -> None:
    data = read_json(manifest, "model manifest", ScheduleError)
    if not isinstance(data, dict) or "instance_hash" not in data or "classes" not in data:
        raise ScheduleError(f"{manifest}: not a model manifest of lpsched export")
    if data["instance_hash"] != instance.content_hash():
        raise ScheduleError(f"{manifest}: the model was exported from another instance (content hash differs)")
    mine = [[instance.ids[i] for i in m] for m in classes.members]
    if data["classes"] != mine:
        raise ScheduleError(f"{manifest}: the classes differ from this version's aggregation of the instance")
