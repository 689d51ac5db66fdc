"""HiGHS backend of the hindsight IP: the MIP solver bundled with OR-Tools, through MathOpt.

The model is the compact LP of :mod:`~lpsched.offline.bounds.lp` (start counts, ``N_τ``, ``Q_τ``; the
core rows if the model has them) with every variable integer, handed to HiGHS as a MathOpt
``ModelProto`` built from the sparse arrays (no per-variable Python objects), so building costs
about as much as the LP's. HiGHS is the HiGHS inside OR-Tools' own library; the separate
``highspy`` wheel is not used (installing it next to OR-Tools breaks OR-Tools' import).

The objective window ``objective_lb <= cost <= objective_ub`` of the common backend signature is
added as a row only with ``objective_window="rows"``: on the models the ``strong`` pipeline hands
over, HiGHS proved fewer of them with the rows than without (docs/research/offline-log.md, "HiGHS
objective window"). The rows only restate what the caller knows: a solution at or above
``objective_ub`` proves the caller's incumbent optimal as infeasibility would, and the dual bound
is a bound of every schedule the model holds.

Instead, ``objective_ub`` is by default (``objective_window="cutoff"``) HiGHS' own cut-off (its
``objective_bound`` option, set to ``objective_ub + 0.5``; MathOpt's generic ``cutoff_limit`` is
refused for HiGHS, INVALID_ARGUMENT): a node whose LP bound exceeds it is pruned at once, as if
HiGHS held a solution of that value. MathOpt's HiGHS takes no hint, so without it HiGHS prunes
nothing until it has found a schedule of its own. The dual bound HiGHS then reports covers the
solutions within the cut-off; every other solution costs at least ``objective_ub + 1``, so the
bound returned is the smaller of the two. With the cut-off HiGHS proved as many of the measured
models, and its time to proof changed with its random seed as much as with the cut-off (same log
entry), which is why the portfolio runs two seeds. ``objective_window="none"`` runs HiGHS with
neither (the model as it is).

HiGHS is run with a zero relative gap and an absolute gap below one unit (the objective is
integral), so its ``OPTIMAL`` is a proof; the dual bound it reports is kept also when it stops on
the time limit, with or without a solution: every solution of the model costs at least that much.
MathOpt's HiGHS interface takes no solution hint, so the ``hint`` argument is accepted for the
common backend signature and ignored.

While it runs, HiGHS appends each improving solution to a file (``mip_improving_solution_file``)
that a watcher thread reads (:class:`_ImprovingFile`): ``on_solution`` sees the solutions as they
come (progress, ``lpsched solve -o`` checkpoints), and a child that is killed or stopped still
returns the last one.

HiGHS runs in a child Python process (the model and parameters go in as serialized protos, the
result comes back the same way; ~0.2 s of start-up). MathOpt's HiGHS interface neither honours
a solve interrupter nor calls callbacks (both measured), so a child process is the only way to
stop HiGHS early when another solver of the portfolio already has the proof: it is killed. It
also keeps a crash inside HiGHS (seen with solution hints through OR-Tools' ``model_builder``)
out of the caller's process.
"""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import scipy.sparse as sp
from ortools.math_opt import model_pb2, parameters_pb2, result_pb2, solution_pb2

from ...errors import OptionError
from ..formulation.compact import compact_matrix
from ..formulation.model import TimeIndexedModel
from .outcome import BackendOutcome, StopSignal, require_exact_model

__all__ = ["solve_highs"]

#: The child process: reads the model and parameter protos from stdin, solves with HiGHS, writes
#: the result proto to the file named by its argument (stdout stays free for HiGHS' log).
_CHILD = """
import sys
from ortools.math_opt import model_pb2, parameters_pb2
from ortools.math_opt.core.python import solver
from ortools.math_opt.python import callback, init_arguments, model_parameters
data = sys.stdin.buffer.read()
n = int.from_bytes(data[:8], "little")
model = model_pb2.ModelProto.FromString(data[8:8 + n])
params = parameters_pb2.SolveParametersProto.FromString(data[8 + n:])
res = solver.solve(model, parameters_pb2.SOLVER_TYPE_HIGHS,
                   init_arguments.StreamableSolverInitArguments().to_proto(), params,
                   model_parameters.ModelSolveParameters().to_proto(), None,
                   callback.CallbackRegistration().to_proto(), None, None)
with open(sys.argv[1], "wb") as f:
    f.write(res.SerializeToString())
"""

#: HiGHS checks its time limit only between steps (at paper n = 150 its root node ran 17 s past
#: it), so it is given this many seconds less than the caller's limit (but at least half of it),
#: and its child process is killed :data:`KILL_AFTER` seconds after the caller's limit. A killed
#: child gives no solution and no bound (status ``TIME_LIMIT_KILLED``): the caller's budget
#: comes first.
CHILD_GRACE = 2.0
KILL_AFTER = 0.5

#: How the objective window reaches HiGHS (:func:`solve_highs`, module text).
OBJECTIVE_WINDOWS = ("cutoff", "rows", "none")


def _model_proto(model: TimeIndexedModel, objective_lb: int | None, objective_ub: int | None) -> tuple[Any, int]:
    """The MathOpt model (integer compact LP + objective window) and the number of start variables."""
    A, lo, up, obj, rhs = compact_matrix(model)
    rlo, rup = rhs[0], rhs[1]
    if objective_lb is not None or objective_ub is not None:
        A = sp.vstack([A, sp.csr_matrix(obj.reshape(1, -1))])
        rlo = np.r_[rlo, -np.inf if objective_lb is None else float(objective_lb)]
        rup = np.r_[rup, np.inf if objective_ub is None else float(objective_ub)]
    return sparse_proto(A, lo, up, obj, rlo, rup, name="hindsight"), model.n_variables


def sparse_proto(A: Any, lo: np.ndarray, up: np.ndarray, obj: np.ndarray, rlo: np.ndarray, rup: np.ndarray, *,
                 name: str, var_names: list[str] | None = None, row_names: list[str] | None = None) -> Any:
    """A MathOpt ``ModelProto`` of ``min obj·x`` s.t. ``rlo <= A x <= rup``, ``lo <= x <= up``, every
    variable integer, built from sparse arrays (no per-variable Python objects). Names are optional
    (HiGHS does not need them; the MPS export of :mod:`~lpsched.offline.export` does)."""
    A = A.tocsr()
    A.sum_duplicates()
    A.sort_indices()
    nv, nr = A.shape[1], A.shape[0]
    p = model_pb2.ModelProto(name=name)
    p.variables.ids.extend(range(nv))
    p.variables.lower_bounds.extend(np.asarray(lo, dtype=float).tolist())
    p.variables.upper_bounds.extend(np.asarray(up, dtype=float).tolist())
    p.variables.integers.extend([True] * nv)
    if var_names is not None:
        p.variables.names.extend(var_names)
    nz = np.flatnonzero(obj)
    p.objective.linear_coefficients.ids.extend(nz.tolist())
    p.objective.linear_coefficients.values.extend(np.asarray(obj, dtype=float)[nz].tolist())
    p.linear_constraints.ids.extend(range(nr))
    p.linear_constraints.lower_bounds.extend(np.asarray(rlo, dtype=float).tolist())
    p.linear_constraints.upper_bounds.extend(np.asarray(rup, dtype=float).tolist())
    if row_names is not None:
        p.linear_constraints.names.extend(row_names)
    rows = np.repeat(np.arange(nr), np.diff(A.indptr))
    p.linear_constraint_matrix.row_ids.extend(rows.tolist())
    p.linear_constraint_matrix.column_ids.extend(A.indices.tolist())
    p.linear_constraint_matrix.coefficients.extend(A.data.astype(float).tolist())
    return p


def _solve_in_child(proto: Any, params: Any, time_limit: float, log: bool,
                    stop: StopSignal | None) -> tuple[Any, str]:
    """Run HiGHS on ``proto`` in a child Python process: ``(result proto, "done")``, or
    ``(None, "stopped")`` if ``stop`` killed it, or ``(None, "killed")`` if it was still running
    :data:`KILL_AFTER` seconds after ``time_limit``. Raises ``RuntimeError`` if the child fails
    (its stderr is in the message)."""
    body = proto.SerializeToString()
    data = len(body).to_bytes(8, "little") + body + params.SerializeToString()
    fd, out_path = tempfile.mkstemp(prefix="lpsched-highs-", suffix=".pb")
    os.close(fd)
    try:
        proc = subprocess.Popen([sys.executable, "-c", _CHILD, out_path], stdin=subprocess.PIPE,
                                stdout=None if log else subprocess.DEVNULL, stderr=subprocess.PIPE)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            proc.kill()

        if stop is not None:
            stop.on_stop(kill)
        try:
            _, err = proc.communicate(data, timeout=time_limit + KILL_AFTER)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return None, "killed"
        if killed.is_set():
            return None, "stopped"
        if proc.returncode != 0:
            tail = err.decode(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"HiGHS child process failed (exit {proc.returncode}): {' / '.join(tail)}")
        with open(out_path, "rb") as f:
            return result_pb2.SolveResultProto.FromString(f.read()), "done"
    finally:
        os.unlink(out_path)


#: How often the watcher of :func:`solve_highs` reads HiGHS' improving-solution file (seconds).
WATCH_SECONDS = 0.5
#: Have HiGHS write its improving solutions to a file (:class:`_ImprovingFile`) also when no
#: ``on_solution`` listens (then only for the last solution of a killed child).
IMPROVING_FILE_ALWAYS = True


class _ImprovingFile:
    """HiGHS' improving-solution file (``mip_improving_solution_file``), read as it grows.

    HiGHS appends one block per improving solution: ``Objective v``, ``# Columns n``, then the ``n``
    column values, one per line. :meth:`poll` reads what was appended since the last call (up to the
    last complete line), parses the complete blocks, and returns the newest as ``(objective,
    {start variable: value})`` (the first ``nx`` columns, non-zero values); a block whose values do
    not round to integers is skipped. A context manager: the temporary file is removed on exit.
    """

    def __init__(self, n_cols: int, nx: int) -> None:
        fd, self.path = tempfile.mkstemp(prefix="lpsched-highs-sol-", suffix=".txt")
        os.close(fd)
        self.n_cols, self.nx = n_cols, nx
        self.pos = 0
        self.lines: list[str] = []
        self.best: tuple[float, dict[int, int]] | None = None
        self.lock = threading.Lock()
        self.error: str | None = None

    def __enter__(self) -> _ImprovingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    def poll(self) -> tuple[float, dict[int, int]] | None:
        """The newest solution (read so far), or ``None`` if there is none."""
        with self.lock:
            try:
                with open(self.path, "rb") as f:
                    f.seek(self.pos)
                    data = f.read()
            except OSError:
                return self.best
            end = data.rfind(b"\n")
            if end < 0:
                return self.best
            self.pos += end + 1
            self.lines.extend(data[:end].decode(errors="replace").splitlines())
            n = self.n_cols
            while len(self.lines) >= n + 2:
                head, cols = self.lines[0].split(), self.lines[1].split()
                if not (len(head) == 2 and head[0] == "Objective" and cols[-1:] == [str(n)]):
                    self.lines.pop(0)  # not the start of a block: resynchronise
                    continue
                block, self.lines = self.lines[2:n + 2], self.lines[n + 2:]
                try:
                    vals = np.array([float(x) for x in block[:self.nx]])
                except ValueError:
                    continue
                ints = np.rint(vals)
                if np.all(np.abs(vals - ints) <= 1e-6):
                    nzj = np.flatnonzero(ints)
                    self.best = (float(head[1]), {int(j): int(ints[j]) for j in nzj})
            return self.best

    def watch(self, on_solution: Callable[[dict[int, int]], None] | None) -> Callable[[], None]:
        """Poll every :data:`WATCH_SECONDS` in a daemon thread and pass each newer solution to
        ``on_solution``; the returned function ends the thread and waits for it, so no call comes
        after it returns (no thread without ``on_solution``)."""
        done = threading.Event()
        if on_solution is None:
            return done.set

        def run() -> None:
            seen = None
            while not done.wait(WATCH_SECONDS):
                last = self.poll()
                if last is not None and last is not seen:
                    seen = last
                    try:
                        on_solution(last[1])
                    except Exception as exc:  # a reporting error must not end the solve: kept for info
                        self.error = f"{type(exc).__name__}: {exc}"
                        return

        thread = threading.Thread(target=run, daemon=True, name="highs-solutions")
        thread.start()

        def stop() -> None:
            done.set()
            thread.join()

        return stop


def solve_highs(
    model: TimeIndexedModel,
    *,
    time_limit: float,
    workers: int,
    seed: int,
    log: bool,
    hint: dict[int, int] | None = None,
    objective_lb: int | None = None,
    objective_ub: int | None = None,
    stop: StopSignal | None = None,
    objective_window: str = "cutoff",
    on_solution: Callable[[dict[int, int]], None] | None = None,
) -> BackendOutcome:
    """Solve ``model`` with HiGHS (branch-and-cut) through OR-Tools' MathOpt.

    Parameters are those of :func:`~lpsched.offline.backends.cpsat.solve_cpsat`; ``seed`` is HiGHS' random
    seed; ``workers`` is not passed on (MathOpt sets HiGHS' threads only globally; its
    branch-and-cut is essentially sequential); ``hint`` is ignored (see the module text).
    ``objective_window`` says how ``objective_lb`` / ``objective_ub`` reach HiGHS (module text):
    ``"cutoff"`` (default) makes ``objective_ub`` HiGHS' ``objective_bound`` (nodes whose bound
    exceeds it are pruned, as if HiGHS held a solution of that value), so a model with no solution
    within it ends ``infeasible``; ``"rows"`` adds the window as a row; ``"none"`` ignores both.
    ``on_solution`` (optional) is called, from a watcher thread, with ``{variable index: value}`` of
    each improving solution while HiGHS runs (HiGHS appends them to a file, :class:`_ImprovingFile`,
    read every :data:`WATCH_SECONDS`). The same file gives a child killed at the limit or stopped
    by the portfolio its last solution back (before, such a child returned none).

    Returns
    -------
    BackendOutcome
        ``proven_optimal`` only when HiGHS terminated OPTIMAL *and* its dual bound, rounded up,
        reaches the solution's value; ``bound`` is HiGHS' dual bound (also on a time limit).
    """
    require_exact_model(model)
    if objective_window not in OBJECTIVE_WINDOWS:
        raise OptionError(f"objective_window must be one of {', '.join(OBJECTIVE_WINDOWS)}, got {objective_window!r}")
    t0 = time.perf_counter()
    if objective_window == "rows":
        proto, nx = _model_proto(model, objective_lb, objective_ub)
    else:
        proto, nx = _model_proto(model, None, None)
    params = parameters_pb2.SolveParametersProto(
        enable_output=bool(log), random_seed=int(seed),
        relative_gap_tolerance=0.0, absolute_gap_tolerance=0.5,
    )
    use_cutoff = objective_window == "cutoff" and objective_ub is not None
    if use_cutoff:  # a solution of value <= objective_ub survives it (values are integral)
        params.highs.double_options["objective_bound"] = float(objective_ub) + 0.5
    left = float(time_limit) - (time.perf_counter() - t0)
    params.time_limit.FromTimedelta(timedelta(seconds=max(0.01, 0.5 * left, left - CHILD_GRACE)))
    with _ImprovingFile(len(proto.variables.ids), nx) as found:
        if on_solution is not None or IMPROVING_FILE_ALWAYS:
            params.highs.bool_options["mip_improving_solution_save"] = True
            params.highs.string_options["mip_improving_solution_file"] = found.path
        end_watch = found.watch(on_solution)
        try:
            res, how = _solve_in_child(proto, params, max(0.01, left), log, stop)
        finally:
            end_watch()
        last = found.poll()
        watch_error = found.error
    if res is None:  # stopped from outside (another solver had the proof), or killed at the limit
        values = None if last is None else last[1]
        return BackendOutcome(False, False, values, None, "STOPPED" if how == "stopped" else "TIME_LIMIT_KILLED",
                              info={"wall_time": time.perf_counter() - t0, "nodes": 0, "simplex_iterations": 0,
                                    "recovered_solution": values is not None})
    return _outcome(res, nx, objective_ub if use_cutoff else None, t0, watch_error)


def _outcome(res: Any, nx: int, cutoff: int | None, t0: float, watch_error: str | None) -> BackendOutcome:
    """The outcome of HiGHS' result proto: its best feasible solution (start variables, non-zero),
    its dual bound (with a ``cutoff``: at most ``cutoff + 1``, the value of every solution the
    cut-off pruned), and ``proven_optimal`` only when HiGHS ended OPTIMAL and the bound reaches the
    solution's value."""
    reason = res.termination.reason
    values = None
    value = math.inf
    for sol in res.solutions:
        ps = sol.primal_solution
        if ps.feasibility_status == solution_pb2.SOLUTION_STATUS_FEASIBLE and ps.objective_value < value:
            ids = np.asarray(ps.variable_values.ids, dtype=np.int64)
            vals = np.rint(np.asarray(ps.variable_values.values)).astype(np.int64)
            sel = (ids < nx) & (vals != 0)
            values = {int(j): int(v) for j, v in zip(ids[sel], vals[sel], strict=True)}
            value = float(ps.objective_value)
    dual = float(res.termination.objective_bounds.dual_bound)
    infeasible = reason == result_pb2.TERMINATION_REASON_INFEASIBLE
    bound = dual if math.isfinite(dual) and not infeasible else None
    if cutoff is not None and bound is not None:
        # the tree bounds the solutions within the cut-off; every other one costs cutoff + 1
        bound = min(bound, float(cutoff) + 1)
    proven = (reason == result_pb2.TERMINATION_REASON_OPTIMAL and values is not None and bound is not None
              and math.ceil(bound - 1e-6) >= round(value))
    name = result_pb2.TerminationReasonProto.Name(reason).removeprefix("TERMINATION_REASON_")
    info = {"wall_time": time.perf_counter() - t0, "nodes": int(res.solve_stats.node_count),
            "simplex_iterations": int(res.solve_stats.simplex_iterations)}
    if watch_error is not None:
        info["on_solution_error"] = watch_error
    return BackendOutcome(proven_optimal=proven, infeasible=infeasible, values=values, bound=bound,
                          status=name, info=info)
