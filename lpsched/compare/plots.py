"""Plots of a sweep (matplotlib, written as PNG files).

* :func:`plot_ratio_vs_alpha` – worst and mean ratio per α for each policy on a log α axis, with
  the theory curves of :mod:`lpsched.compare.theory` and the A_min log fit overlaid;
* :func:`plot_ratio_distributions` – the distribution of ratios per policy;
* :func:`plot_memory_stacked` – for one instance, the memory of every round stacked per job under
  several schedules (OPT, H-SF, A_min, A_max): where A_max leaves memory idle, where A_min evicts;
* :func:`plot_database` – all of the above from a results database, returning the file paths.

Each ``figure_*`` function returns the matplotlib figure; ``plot_*`` writes it as a PNG.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..errors import OutputError
from ..fileio import atomic_output
from ..instance import Instance
from ..memory import memory_profile
from .report import RATIO_KINDS, amin_fit, pick_kind, worst_by_alpha
from .theory import amax_lower, amax_upper, amin_log_curve

__all__ = ["figure_ratio_vs_alpha", "figure_ratio_distributions", "figure_memory_stacked", "plot_ratio_vs_alpha",
           "plot_ratio_distributions", "plot_memory_stacked", "plot_database"]

_SHORT = {"ratio_opt": "TEL / OPT", "ratio_lb": "TEL / lower bound (≥ true ratio)", "ratio_hsf": "TEL / TEL(H-SF)"}


def figure_ratio_vs_alpha(
    rows: Sequence[Mapping[str, Any]],
    kind: str | None = None,
    extra_series: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> Figure:
    """Worst (solid) and mean (dotted) ratio per α for each policy, with theory curves.

    ``kind`` is the ratio column (default: against the proven optimum when every row has one, else
    against the lower bound). ``extra_series`` adds named (α, ratio) series, e.g. the worst ratios an
    adversarial search found.
    """
    rows = [dict(r) for r in rows]
    labels = sorted({r["label"] for r in rows if r["label"] != "opt"})
    kind = kind or ("ratio_opt" if all(r["ratio_opt"] is not None for r in rows) else "ratio_lb")
    fig, ax = plt.subplots(figsize=(10, 5.5))
    all_alpha: list[float] = []
    for i, label in enumerate(labels):
        alphas, worst = worst_by_alpha(rows, label, kind)
        if alphas.size == 0:
            continue
        all_alpha += alphas.tolist()
        color = f"C{i % 10}"
        ax.plot(alphas, worst, "o-", color=color, label=f"{label} (worst)")
        means = [
            np.mean([r[kind] for r in rows if r["label"] == label and r["alpha"] == a and r[kind] is not None])
            for a in alphas
        ]
        ax.plot(alphas, means, ":", color=color, alpha=0.7, label=f"{label} (mean)")
    for j, (name, (a, r)) in enumerate((extra_series or {}).items()):
        ax.plot(a, r, "k" + "*Pdv^s"[j % 6], markersize=9, linestyle="none", label=name)
        all_alpha += list(a)
    if all_alpha:
        grid = np.geomspace(min(all_alpha), 1.0, 100)
        ymax = ax.get_ylim()[1]
        for fn, style, name in (
            (amax_upper, "--", "A_max upper bound (reconstructed)"),
            (amax_lower, "-.", "A_max lower bound (reconstructed)"),
        ):
            y = fn(grid)
            keep = y <= max(ymax * 1.5, 2.0)
            ax.plot(grid[keep], y[keep], "k" + style, linewidth=1, label=name)
        fit = amin_fit(rows) if "amin" in labels and kind == pick_kind(rows, "amin") else None
        if fit is not None:
            f = fit[1]
            ax.plot(
                grid,
                amin_log_curve(grid, f.log_a, f.log_b),
                color="gray",
                linewidth=2,
                alpha=0.5,
                label=f"A_min fit {f.log_a:.2f} + {f.log_b:.2f}·log2(1/α)",
            )
    ax.set_xscale("log", base=2)
    ax.invert_xaxis()
    ax.set_xlabel("α = l/u (log scale; wider intervals to the right)")
    ax.set_ylabel(_SHORT[kind])
    ax.set_title(f"Competitive ratio versus α: {RATIO_KINDS[kind].split(' (')[0]}")
    ax.axhline(1.0, color="k", linewidth=0.5)
    ax.grid(True, which="both", alpha=0.3)
    ys = [y for line in ax.get_lines() if line.get_label() and not line.get_label().startswith(("A_", "_"))
          for y in np.asarray(line.get_ydata(), dtype=float) if y > 0]
    if ys and max(ys) / min(ys) > 8:  # adversarial series reach far above random instances: log scale
        ax.set_yscale("log", base=2)
        ax.set_ylim(min(ys) / 1.1, max(ys) * 1.5)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    return fig


def figure_ratio_distributions(rows: Sequence[Mapping[str, Any]], kind: str = "ratio_hsf") -> Figure:
    """Box plot of one ratio column per policy label (all α together)."""
    labels = sorted({r["label"] for r in rows if r.get(kind) is not None})
    data = [[r[kind] for r in rows if r["label"] == lab and r.get(kind) is not None] for lab in labels]
    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(labels) + 2), 4.5))
    if data:
        ax.boxplot(data, tick_labels=labels, showmeans=True)
    ax.set_xlabel("policy")
    ax.set_ylabel(_SHORT[kind])
    ax.set_title(f"Distribution of {RATIO_KINDS[kind].split(' (')[0]} per policy")
    ax.axhline(1.0, color="k", linewidth=0.5)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def figure_memory_stacked(
    instance: Instance,
    runs_by_label: Mapping[str, Sequence[tuple[int, int, int, int]]],
    title: str | None = None,
) -> Figure:
    """Memory of every round, stacked per job, one panel per schedule.

    ``runs_by_label`` maps a label to runs ``(job index, start, kept tokens, length)``; a plain
    schedule is one run per job ``(i, k_i, 0, o_i)``. Runs that do not complete their job (evicted)
    are drawn hatched, so wasted memory is visible.
    """
    labels = list(runs_by_label)
    horizon = max((k + L for runs in runs_by_label.values() for (_, k, _, L) in runs), default=1)
    fig, axes = plt.subplots(len(labels), 1, figsize=(9, 2.2 * len(labels) + 0.6), sharex=True, squeeze=False)
    cmap = plt.get_cmap("tab20")
    tau = np.arange(1, horizon + 1)
    for ax, label in zip(axes[:, 0], labels, strict=True):
        runs = list(runs_by_label[label])
        bottom = np.zeros(horizon, dtype=float)
        for j, k, kept, L in sorted(runs, key=lambda r: (r[1], r[0])):
            mem = memory_profile([int(instance.prompt[j]) + kept], [k], [L], horizon)[1:]
            final = kept + L == int(instance.output[j])
            ax.bar(
                tau,
                mem,
                bottom=bottom,
                width=1.0,
                color=cmap(j % 20),
                edgecolor="none",
                hatch=None if final else "////",
                alpha=1.0 if final else 0.55,
            )
            bottom += mem
        ax.axhline(instance.M, color="red", linewidth=1)
        ax.set_ylabel("KV tokens")
        ax.set_title(f"{label}: peak {int(bottom.max())} of M = {instance.M}", fontsize=9)
    axes[-1, 0].set_xlabel("round")
    fig.suptitle(title or f"Memory per round, stacked per job ({instance.name or 'instance'})", fontsize=10)
    fig.tight_layout()
    return fig


def _save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` whole (:func:`lpsched.fileio.atomic_output`) and close it."""
    path = Path(path)
    try:
        with atomic_output(path, option="--plots", suffix=path.suffix) as tmp:
            fig.savefig(tmp, dpi=120)
    finally:
        plt.close(fig)
    return path


def plot_ratio_vs_alpha(rows: Sequence[Mapping[str, Any]], path: str | Path, kind: str | None = None,
                        extra_series: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None) -> Path:
    """Write :func:`figure_ratio_vs_alpha` to ``path``."""
    return _save(figure_ratio_vs_alpha(rows, kind, extra_series), path)


def plot_ratio_distributions(rows: Sequence[Mapping[str, Any]], path: str | Path, kind: str = "ratio_hsf") -> Path:
    """Write :func:`figure_ratio_distributions` to ``path``."""
    return _save(figure_ratio_distributions(rows, kind), path)


def plot_memory_stacked(instance: Instance, runs_by_label: Mapping[str, Sequence[tuple[int, int, int, int]]],
                        path: str | Path, title: str | None = None) -> Path:
    """Write :func:`figure_memory_stacked` to ``path``."""
    return _save(figure_memory_stacked(instance, runs_by_label, title), path)


def plot_database(
    db: str | Path,
    outdir: str | Path,
    memory_labels: Sequence[str] = ("opt", "hsf", "amin", "amax"),
    adversarial_dir: str | Path | None = None,
) -> list[Path]:
    """Write the sweep's plots into ``outdir``; returns the paths.

    The ratio-versus-α plot also shows, per policy of the sweep, the worst ratio found by the
    adversarial search (:func:`lpsched.adversary.library.worst_found_series`, from
    ``adversarial_dir``, default ``instances/adversarial/``) as a separate "worst found" series.

    The memory picture uses the instance with the smallest α whose optimum was proven (else the
    smallest α): OPT's starts come from its database row; the online policies are re-simulated with
    their history (deterministic), and their TEL is checked against the database row.
    """
    from ..online import simulate
    from .cell import make_instance
    from .report import _open
    from .spec import Cell
    from .store import read_cells, read_results

    out = Path(outdir)
    con = _open(db)  # first: a database that is not ours stops here, before any folder is made
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        con.close()
        raise OutputError(f"--plots {out}: cannot create the folder ({exc.strerror})") from None
    try:
        rows = read_results(con)
        cells = [c for c in read_cells(con) if c["status"] == "ok"]
    finally:
        con.close()
    from ..adversary.library import worst_found_series

    worst = worst_found_series(sorted({r["label"] for r in rows}), adversarial_dir)
    paths = [plot_ratio_vs_alpha(rows, out / "ratio_vs_alpha.png", extra_series=worst)]
    if any(r["ratio_hsf"] is not None for r in rows):
        paths.append(plot_ratio_vs_alpha(rows, out / "ratio_hsf_vs_alpha.png", kind="ratio_hsf"))
    paths.append(
        plot_ratio_distributions(
            rows, out / "ratio_distributions.png", kind=pick_kind(rows, "hsf") if rows else "ratio_hsf"
        )
    )
    if cells:
        cells.sort(key=lambda c: (c["opt_status"] != "OPTIMAL", c["alpha"], c["n"]))
        c = cells[0]
        cell = Cell(c["cell_key"], c["sweep"], c["generator"], json.loads(c["params"]), c["seed"], (), {})
        inst = make_instance(cell)
        runs: dict[str, list[tuple[int, int, int, int]]] = {}
        for label in memory_labels:
            row = next((r for r in rows if r["cell_key"] == c["cell_key"] and r["label"] == label), None)
            if row is None:
                continue
            if row["policy"] == "ip":
                if row["starts"] is None:
                    continue
                starts = json.loads(row["starts"])
                runs["OPT" if row["opt_status"] == "OPTIMAL" else "best IP schedule"] = [
                    (i, int(starts[jid]), 0, int(inst.output[i])) for i, jid in enumerate(inst.ids)
                ]
            else:
                sim = simulate(inst, row["policy"], record_history=True, **json.loads(row["options"] or "{}"))
                if sim.tel != row["tel"]:
                    raise AssertionError(
                        f"re-simulated {label} TEL {sim.tel} != database row {row['id']} TEL {row['tel']}"
                    )
                runs[label] = [(r.job, r.start, r.kept, r.length) for r in sim.history]
        if runs:
            paths.append(
                plot_memory_stacked(
                    inst,
                    runs,
                    out / "memory_per_round.png",
                    title=f"Memory per round, stacked per job: {inst.name} (α = {c['alpha']:.3g})",
                )
            )
    return paths
