"""The tuning parameters of :func:`~lpsched.offline.pipeline.solve_hindsight`: :class:`SolverParams`.

Every field decides *when* a step of the pipeline runs, *how much* of the budget it gets, or how
the step is set up (window sizes, LP rows, capacity fractions); none changes what a result means
(every schedule is verified and every bound is certified whatever the values). The defaults are
the measured ones; each field's line says why, and the measurements are in the research log,
``docs/research/offline-log.md``, under the section named in brackets.

**Where the values go.** The pipeline reads ``params`` and passes each value down as a plain
keyword argument (``solve_lp(..., growth_rounds=params.growth_rounds)``); no lower-layer function
reads a params object. The lower layers' keyword defaults are these defaults
(``growth_rounds: int = SolverParams.growth_rounds``), so a direct call behaves as the pipeline with
default params. This module imports nothing from lpsched: it sits below every offline layer.

**Not tuning.** A few module constants of the offline package stay where they are, because they
decide neither what the solver tries nor how it shares the budget
(``tests/test_offline_params.py`` holds the list and fails on any other module-level numeric
constant in ``lpsched/offline``):

- limits of what is built or written: ``formulation.model.MAX_MODEL_VARIABLES`` (a model beyond it
  would not fit a machine's memory: refused before it is built) and
  ``export.EXPLICIT_MAX_ENTRIES`` (the MPS file with explicit memory rows is refused beyond it);
- process management of the HiGHS child (``backends.highs``): ``CHILD_GRACE`` (HiGHS gets this
  many seconds less than the caller's limit, as it checks its limit only between steps),
  ``KILL_AFTER`` (seconds past the caller's limit before the child is killed), ``WATCH_SECONDS``
  (how often its improving-solution file is read), ``IMPROVING_FILE_ALWAYS`` (the file is written
  also when nobody listens, for a killed child's last solution): they keep the caller's time limit
  and collect what the child found, whatever the search does;
- the work caps of the closed-form clique bound (``bounds.conflict``): ``MAX_CLIQUES_PER_STEP``,
  ``MAX_WEIGHT_CLIQUE_JOBS``, ``MAX_CANDIDATES``, ``MAX_EDGES``: they keep ``lower_bounds`` (which
  ``lpsched info`` calls, without parameters) cheap on any instance; the bound stays valid whatever
  cliques they let it find, and the pipeline's own relaxations are not affected;
- ``backends.cpsat.SOLUTION_REPORT_SECONDS``: how often CP-SAT's improving solutions are passed
  to a progress listener (reporting, not search).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SolverParams"]


@dataclass(frozen=True)
class SolverParams:
    """Thresholds and budget shares of the hindsight pipeline (defaults: the measured values).

    Attributes
    ----------
    heuristic_seconds_max, heuristic_share : float
        The heuristics' local search gets ``min(heuristic_seconds_max, heuristic_share·time_limit)``
        unless ``heuristic_seconds`` is given: enough to reach the cheap schedules' plateau, small
        next to the proof [the first solver; not measured on its own].
    large_probe_jobs : int
        From this many jobs on, ``auto`` first builds the model on the cheap heuristics' schedule to
        see whether it exceeds ``large_model_variables`` (paper regime: from n ≈ 100 at α = 1/8 the
        model comes close); below, the probe is not worth its cost [large-instance path].
    large_model_variables : int
        ``auto`` takes the large-instance search when the strong model has more start variables:
        from there the integer path neither proves nor improves in 60 s and the large search does
        [large-instance path].
    handoff_min_seconds, handoff_min_share : float
        The large search hands the rest of the budget to the integer path when at least this many
        seconds and this share of the limit are left [hand-off from the large path].
    auto_strong_share : float
        On tight instances ``auto`` gives ``strong`` this share before ``cumulative``: ``strong``
        proves small tight instances in about a second where ``cumulative`` stalls, and
        ``cumulative`` proves reduced Jaillet instances ``strong`` leaves open [tight portfolio].
    chain_max_variables : int
        Tight instances whose model has at most this many start variables get the chain LP before
        the LP (Jaillet regime, n = 50: 40,000 variables, ~18 s) [chain LP].
    chain_share : float
        Share of the time limit the chain LP may take: on tight instances no proof is in reach
        without it [chain LP].
    lp_share, lp_share_core_rows : float
        Share of the time limit for the LP relaxation, and with core rows (slower, stronger LP)
        [core no-overlap rows].
    lp_guided_share, lp_guided_polish_share : float
        LP-guided schedules get at most this share of the limit (and ``lp_guided_rest_share`` of what
        is left); a better one is polished by the local search with the second share
        [LP-guided schedules].
    lp_guided_rest_share, lp_guided_horizon_factor : float
        The share of the remaining budget LP-guided schedules may take at most (a quarter, so the
        integer solver keeps most of it), and their horizon as a multiple of the incumbent's makespan
        (room for a rounded LP to place jobs later than the incumbent) [LP-guided schedules].
    stage_min_seconds : float
        The least time a stage (a solver after the incumbent, the second member of the auto
        portfolio) is given when the budget is nearly spent, so that it can at least return its
        bound [the tight portfolio].
    window_min_variables, window_min_gap : int, float
        Window search runs before the integer solver when more start variables than this are left
        after fixing and the bound is more than this fraction below the incumbent, on instances
        that are not tight: the solvers proved the paper regime up to n = 50 with 300–2,200
        variables left and from n = 100 (5,000 and more) neither proved nor improved [window search].
    window_share : float
        Share of the remaining time window search may use (it stops earlier when a pass over the
        schedule finds nothing) [window search].
    window_jobs, window_seconds : int, float
        Jobs per window and CP-SAT seconds per window [window search].
    order_min_variables, order_min_gap : int, float
        On tight instances the order search runs before the integer solver above this many
        variables left and gap: CP-SAT proves reduced Jaillet instances up to ≈ 3,600 variables, and
        at 30,000–100,000 the order search finds schedules 0.5–2 % better [order search].
    order_min_variables_not_tight : int
        On the other instances the order step runs between this many and ``window_min_variables``
        variables left [order search].
    order_share : float
        Share of the remaining time of the order step (half order search, half ruin-and-recreate)
        [order search].
    order_short_share : float
        The short order step, where a proof is in reach but the incumbent is more than
        ``window_min_gap`` above the bound: each unit less fixes more variables and lets HiGHS'
        cut-off prune earlier [short order step].
    order_search_max_jobs : int
        The order steps, and the order search of the heuristics, run up to this many jobs: it gains
        1–3 % up to n = 150 on the paper regime; above, the fluid-paced starts that win are far
        from any list schedule [order search].
    highs_pair_max_variables : int
        Fixed models of at most this many start variables run two HiGHS searches with the cut-off
        and different seeds instead of CP-SAT next to one HiGHS: HiGHS' time to proof swings by a
        factor of two between seeds [HiGHS pair].
    backend_min_seconds : float
        In the first stage of the tight portfolio, the integer solver is not started on a model of
        more than ``order_min_variables`` variables with less time than this: building its rows
        takes longer (9.5 s for 2.9 s of solver time at 100,000 variables) [tight portfolio].
    tune_min_jobs : int
        From this many jobs on, the heuristics spend half their budget on the pace tuning: below,
        the time is better spent on local search; at n = 1000, α = 1/32 the tuned pace is 5.7 %
        better than any fixed one [tuned release pace].
    pilot_max_jobs, pilot_share : int, float
        Up to this many jobs, and with at most this share of their budget, the heuristics run the
        pilot method: its time grows about as ``n^3``; it beats every cheap candidate on Jaillet
        et al.'s instances, while from n = 100 the fluid-paced schedules win [pilot].
    lp_colgen_min_variables : int
        The LP of a model with more start variables (and no core rows) is solved by column
        generation around the incumbent [compact LP, column generation].
    growth_rounds : int
        The LP solved whole gets the growth rows of window lengths ``1..growth_rounds`` (none under
        column generation: at n = 1000 GLOP did not converge in 120 s with them) [growth rows].
    chain_colgen_min_variables : int
        The chain LP of a model with more start variables is solved by column generation around
        the incumbent [chain LP].
    lp_guided_fractions : tuple of float
        Capacity fractions ``f`` of the LPs at ``f·M`` whose roundings are LP-guided incumbents
        [LP-guided schedules].
    large_lp_variables_per_second : int
        The large search skips its LP bound (the time goes to the pace tuning) when the truncated
        model has more start variables than this per second of LP budget: only LPs several times
        beyond the measured speed of the column generation [large-instance path].
    large_lp_resume_share : float
        When the large search's LP ran out of its share without converging, this share of the
        total budget is taken from the window search to resume its column generation at the end
        [resuming the LP].
    large_lp_share, large_guided_share, large_tune_share, large_local_search_share : float
        The large search's shares of its budget: LP bound, LP-guided schedules, pace tuning, local
        search; kept from the splits measured at n = 1000 with 60 s (LP 20 % / guided 10 % /
        tuning 15 % / local search 5 % gave larger gaps) [large-instance path].
    large_window_share, large_tune_without_lp_share : float
        Its window search's share (at least; it gets what the others leave, 5 % stays for the
        bounds and the verification), and the further share the pace tuning gets when the LP is
        skipped (not when it ran without converging: the windows gain more there)
        [large-instance path].
    large_guided_fractions : tuple of float
        Its LP-guided schedules' capacity fractions (0.96 as well was 8–14 % worse in every row
        measured) [large-instance path].
    large_window_jobs, large_window_seconds : int, float
        Jobs and CP-SAT seconds per window of its window search: at 60 s, many short windows gain
        more than few long ones [large-instance path].
    """

    heuristic_seconds_max: float = 5.0
    heuristic_share: float = 0.1
    large_probe_jobs: int = 100
    large_model_variables: int = 60_000
    handoff_min_seconds: float = 10.0
    handoff_min_share: float = 0.2
    auto_strong_share: float = 0.5
    chain_max_variables: int = 150_000
    chain_share: float = 0.8
    lp_share: float = 0.25
    lp_share_core_rows: float = 0.5
    lp_guided_share: float = 0.1
    lp_guided_polish_share: float = 0.05
    lp_guided_rest_share: float = 0.25
    lp_guided_horizon_factor: float = 1.25
    stage_min_seconds: float = 0.5
    window_min_variables: int = 4_000
    window_min_gap: float = 0.01
    window_share: float = 0.5
    window_jobs: int = 50
    window_seconds: float = 4.0
    order_min_variables: int = 8_000
    order_min_gap: float = 0.03
    order_min_variables_not_tight: int = 2_500
    order_share: float = 0.5
    order_short_share: float = 0.1
    order_search_max_jobs: int = 150
    highs_pair_max_variables: int = 2_500
    backend_min_seconds: float = 5.0
    tune_min_jobs: int = 200
    pilot_max_jobs: int = 80
    pilot_share: float = 0.25
    lp_colgen_min_variables: int = 20_000
    growth_rounds: int = 3
    chain_colgen_min_variables: int = 8_000
    lp_guided_fractions: tuple[float, ...] = (0.98, 0.96, 0.95, 0.94, 0.92, 0.9)
    large_lp_variables_per_second: int = 20_000
    large_lp_resume_share: float = 0.06
    large_lp_share: float = 0.12
    large_guided_share: float = 0.13
    large_tune_share: float = 0.15
    large_local_search_share: float = 0.1
    large_window_share: float = 0.45
    large_tune_without_lp_share: float = 0.25
    large_guided_fractions: tuple[float, ...] = (0.95, 0.94)
    large_window_jobs: int = 30
    large_window_seconds: float = 1.0

    def heuristic_seconds(self, time_limit: float) -> float:
        """The default local-search budget of the heuristics for ``time_limit``."""
        return min(self.heuristic_seconds_max, self.heuristic_share * time_limit)
