"""What a hindsight solve carries from phase to phase: :class:`SolveState`, its :class:`Budget`, and
the one merge of what a phase found (a :class:`Finding`) into it, :meth:`SolveState.absorb`.

The state holds the best *verified* schedule, the best *certified* bound, the details reported in
``SolveResult.info`` and the solver's status. :meth:`SolveState.absorb` is the only place they
change: it verifies a schedule before it keeps it, never lets the objective rise or the bound fall,
and reports the progress event. A solver's outcome becomes findings in :func:`solver_findings`,
which is where a proof becomes a bound: a solver that proves its solution optimal raises the bound
to that solution's TEL, and a solver whose model holds every schedule of TEL at most ``cutoff`` and
that proves the model infeasible raises it to ``cutoff + 1`` (no better schedule exists).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..instance import Instance
from ..verify import require_feasible, verify_schedule
from .backends.outcome import BackendOutcome
from .formulation.model import TimeIndexedModel, starts_of_values
from .formulation.objective import tel_of
from .progress import Reporter
from .result import SolveResult

__all__ = ["Budget", "Finding", "SolveState", "solver_findings", "result_status"]


@dataclass(frozen=True)
class Budget:
    """A wall-clock budget of ``limit`` seconds from ``t0`` (``time.perf_counter``)."""

    limit: float
    t0: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def left(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.limit - self.elapsed())

    def share(self, fraction: float) -> float:
        """``fraction`` of the seconds left."""
        return fraction * self.left()


@dataclass(frozen=True)
class Finding:
    """What a phase found: a schedule (``starts``, named ``source``) and/or a certified ``bound``.

    ``wins_ties``: the schedule replaces the current one also at equal TEL (the integer solvers'
    schedules do; the searches' must be strictly better). ``stage`` and ``detail`` are the progress
    event's.
    """

    stage: str
    starts: np.ndarray | None = None
    source: str = ""
    bound: int | None = None
    wins_ties: bool = False
    detail: str = ""


@dataclass
class SolveState:
    """The running best of a solve (see the module text)."""

    instance: Instance
    rep: Reporter
    starts: np.ndarray
    source: str
    objective: int
    bound: int
    info: dict[str, Any] = field(default_factory=dict)
    status: str = "not run"
    n_variables: int = 0
    n_constraints: int = 0
    horizon: int = 0

    @classmethod
    def start(cls, instance: Instance, rep: Reporter, starts: np.ndarray, source: str, info: dict[str, Any],
              stage: str = "incumbent") -> SolveState:
        """The state of a verified first schedule (raises if it is not feasible), bound unknown (0)."""
        objective = require_feasible(verify_schedule(instance, starts), f"offline incumbent ({source})").tel
        state = cls(instance, rep, np.asarray(starts, dtype=np.int64), source, int(objective), 0, info)
        rep.note(stage, objective=state.objective, detail=source, starts=state.starts)
        return state

    @property
    def open(self) -> bool:
        """The bound is below the objective: there is something left to prove."""
        return self.bound < self.objective

    def absorb(self, finding: Finding, *, report: bool = True) -> bool:
        """Merge ``finding``: its schedule is verified (an infeasible one raises
        ``ScheduleVerificationError``) and kept if better (or equal, with ``wins_ties``); its bound
        raises the bound, unless it exceeds the TEL of the verified schedule (then it is no bound:
        ignored, with a warning in ``info``), so that ``bound <= objective`` always. Reports the
        progress event (unless ``report`` is false); returns whether the schedule was kept."""
        kept = False
        if finding.starts is not None:
            producer = finding.source or finding.stage
            tel = require_feasible(verify_schedule(self.instance, finding.starts), producer).tel
            if tel < self.objective or (finding.wins_ties and tel == self.objective):
                self.starts, self.source = np.asarray(finding.starts, dtype=np.int64), finding.source
                self.objective = tel
                kept = True
        if finding.bound is not None and int(finding.bound) > self.objective:
            # a certified bound never exceeds the TEL of a verified schedule: this "proof" is wrong
            self.info["warning"] = (f"{finding.source or finding.stage}: bound {int(finding.bound):,} above the "
                                    f"verified TEL {self.objective:,}; bound ignored")
        elif finding.bound is not None:
            self.bound = max(self.bound, int(finding.bound))
        if report:
            self.note(finding.stage, finding.detail)
        return kept

    def note(self, stage: str, detail: str = "") -> None:
        """Report the progress event of ``stage`` with the running best."""
        self.rep.note(stage, objective=self.objective, bound=self.bound, detail=detail, starts=self.starts)

    def absorb_solvers(self, findings: list[tuple[str, Finding | None]]) -> None:
        """Absorb each solver's finding (:func:`solver_findings`) without reporting (the caller
        reports the stage once); a solver that found the model infeasible without a cut-off leaves
        a warning in ``info``."""
        for _, finding in findings:  # the schedules first, so that every bound meets the best of them
            if finding is None:
                self.info["warning"] = "solver reported the model infeasible; incumbent kept without proof"
            elif finding.starts is not None:
                self.absorb(replace(finding, bound=None), report=False)
        for _, finding in findings:
            if finding is not None and finding.bound is not None:
                self.absorb(replace(finding, starts=None), report=False)

    def result(self, seconds: float, **fields: Any) -> SolveResult:
        """The verified result: status ``OPTIMAL`` only when the bound reaches the objective."""
        obj = require_feasible(verify_schedule(self.instance, self.starts), f"solve_hindsight ({self.source})").tel
        status, bound, gap = result_status(obj, self.bound)
        self.info["solver_status"] = self.info.get("solver_status", self.status)
        return SolveResult(status=status, objective=obj, bound=bound, gap=gap,
                           starts={jid: int(k) for jid, k in zip(self.instance.ids, self.starts, strict=True)},
                           seconds=seconds, n_variables=self.n_variables, n_constraints=self.n_constraints,
                           horizon=self.horizon, incumbent=self.source, info=self.info, **fields)


def result_status(objective: int, bound: float) -> tuple[str, int, float]:
    """Status, bound (never above the objective) and gap of a schedule of TEL ``objective``:
    ``OPTIMAL`` only when the certified bound reaches it."""
    b = int(min(bound, objective))
    return ("OPTIMAL" if b >= objective else "FEASIBLE"), b, (objective - b) / objective if objective else 0.0


def solver_findings(instance: Instance, outcomes: Mapping[str, BackendOutcome], *, cutoff: int | None,
                    model: TimeIndexedModel | None = None) -> list[tuple[str, Finding | None]]:
    """What integer solvers run side by side on one model found: one ``(name, finding)`` per solver,
    in order; the caller absorbs each (:meth:`SolveState.absorb_solvers`).

    ``model`` turns a solution's variable values into starts (the interval model's outcomes carry
    their starts). ``cutoff``: the model holds every schedule of TEL at most ``cutoff`` (reduced-
    cost fixing below the incumbent, and the solvers' objective cut-off), ``None`` when not. Each
    solver's proof counts on its own, whatever the others did (one stopped, failed, or returned a
    schedule above the cut-off):

    * proven optimal: its schedule, and the bound rises to that schedule's TEL;
    * infeasible with a ``cutoff``: no schedule of TEL ``<= cutoff`` exists, the bound rises to
      ``cutoff + 1`` (its schedule, if it returned one, is still offered);
    * infeasible without one: ``(name, None)``, nothing is proved (the caller warns);
    * otherwise its schedule, and its proven bound on the model's objective rounded up, if any.
    """
    found: list[tuple[str, Finding | None]] = []
    for name, out in outcomes.items():
        cand = out.starts
        if cand is None and model is not None and out.values is not None:
            cand = starts_of_values(model, out.values)
        bound: int | None = None
        if out.proven_optimal and cand is not None:
            bound = tel_of(instance, cand)
        elif out.infeasible and cutoff is not None:
            bound = cutoff + 1
        elif out.infeasible:
            found.append((name, None))
            continue
        elif out.bound is not None:
            bound = math.ceil(out.bound - 1e-6)
        found.append((name, Finding("solver", starts=cand, source="solver", bound=bound, wins_ties=True)))
    return found
