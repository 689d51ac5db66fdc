"""The stored worst cases (``instances/adversarial/``) and the worst ratio found per α and c.

Every file there is a normal instance named ``<policy>-a1_<1/α>-c<c>-<method>.json`` (``c = M/(s + u)``)
whose ``meta["adversary"]`` records how it was found and certified (see :func:`adversary_meta`), and
carries its **certificate**: ``certificate = {"starts": {id: round}, "tel": int}``, a schedule anyone
can check with :func:`lpsched.verify.verify_schedule`, ``policy_tel`` (the policy's TEL, re-simulated
with ``policy_options``) and ``ratio_kind`` (``exact`` or ``lower bound``). Files are written whole
and strict (:func:`write_library_instance`: no NaN, temporary file, fsync, rename).

:func:`worst_found` reads them back and returns, per α, the worst *certified-from-below* ratio of a
policy (optionally at one c): the exact ratio when OPT is proven, else ``TEL / best verified
schedule`` (the conservative direction; never the ratio against a lower bound).
:func:`counterexample_for` returns the library's worst A_min case at a given c, for the growth
verdict of :mod:`lpsched.compare.theory`. Both read only the instances in the theorem's setting (all
jobs at time 0, a common prompt and interval: :func:`~.outside.dropped_assumptions` is empty); the
files outside it (method names ending in ``_outside``, ``meta.adversary.drops`` naming what they drop)
are reported apart.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..instance import Instance, load_instance, save_instance
from .certify import CertifiedRatio, RatioCertificate
from .outside import dropped_assumptions
from .search import SearchResult

__all__ = ["DEFAULT_DIR", "adversary_meta", "certificate_meta", "memory_factor", "library_name",
           "write_library_instance", "load_library", "worst_found", "worst_found_series", "counterexample_for",
           "reading_of"]

#: ``instances/adversarial`` of the source tree this package lives in.
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "instances" / "adversarial"


def adversary_meta(result: SearchResult, cert: RatioCertificate, *, certify_time_limit: float) -> dict[str, Any]:
    """The ``meta["adversary"]`` record of a search result and its certificate."""
    return {
        "policy": cert.policy, "policy_options": cert.policy_options, "alpha": result.space.alpha,
        "method": result.method, "budget": result.budget, "evaluations": result.evaluations,
        "seed": result.seed, "space": result.space.to_dict(),
        "objective": "TEL(policy) / TEL(best heuristic schedule) (a certified lower bound on the ratio)",
        "search_value": result.best_value if math.isfinite(result.best_value) else None,
        "ratio": cert.ratio, "ratio_at_least": cert.ratio_at_least, "ratio_at_most": cert.ratio_at_most,
        "opt_status": cert.opt_status, "opt_method": cert.opt_method, "opt_value": cert.best_schedule
        if cert.proven else None, "best_schedule": cert.best_schedule, "lower_bound": cert.lower_bound,
        "tel": cert.tel, "evictions": cert.evictions, "wasted_tokens": cert.wasted_tokens,
        "certify_time_limit": certify_time_limit, "moves_accepted": result.moves_accepted,
        "certificate": None if cert.schedule_starts is None else {"starts": dict(cert.schedule_starts),
                                                                  "tel": cert.best_schedule},
        "policy_tel": cert.tel, "ratio_kind": "exact" if cert.proven else "lower bound",
    }


def memory_factor(instance: Instance) -> float:
    """``c = M / (s + u)`` with the largest prompt and upper end (the theorem's memory in peaks)."""
    return instance.M / float(int(instance.prompt.max()) + int(instance.upper.max()))


def _c_tag(c: float) -> str:
    return f"{round(c, 2):g}"


def library_name(policy: str, alpha: float, c: float, method: str) -> str:
    """``<policy>-a1_<1/α>-c<c>-<method>.json`` (c rounded to 2 decimals)."""
    return f"{policy}-a1_{round(1 / alpha)}-c{_c_tag(c)}-{method}.json"


def certificate_meta(instance: Instance, cr: CertifiedRatio) -> dict[str, Any]:
    """The certificate fields of ``meta["adversary"]`` from a :func:`~.certify.certified_ratio` result."""
    return {
        "certificate": cr.certificate(), "policy_tel": cr.tel, "policy_options": dict(cr.policy_options),
        "ratio_kind": cr.kind, "ratio_at_least": cr.ratio_lower, "ratio_at_most": cr.ratio_upper,
        "ratio": cr.ratio_lower if cr.kind == "exact" else None, "best_schedule": cr.schedule_tel,
        "best_schedule_method": cr.schedule_method, "lower_bound": cr.lower_bound, "tel": cr.tel,
        "evictions": cr.evictions, "wasted_tokens": cr.wasted_tokens, "c": memory_factor(instance),
    }


def _finite(x: Any) -> Any:
    """``x`` with every non-finite float replaced by ``None`` (strict JSON)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


def write_library_instance(instance: Instance, path: str | Path) -> None:
    """Write ``instance`` whole and strict: non-finite numbers in ``meta`` become ``null``, then
    :func:`~lpsched.instance.save_instance` (temporary file, fsync, rename)."""
    save_instance(instance.replace(meta=_finite(dict(instance.meta))), path)


def reading_of(options: dict[str, Any]) -> str:
    """A short name of the policy options (``default`` when none)."""
    return ",".join(f"{k}={v}" for k, v in sorted(options.items())) or "default"


def load_library(directory: str | Path | None = None) -> list[tuple[Path, Instance]]:
    """Every instance file in ``directory`` (default :data:`DEFAULT_DIR`) that has ``meta["adversary"]``."""
    d = Path(directory) if directory is not None else DEFAULT_DIR
    if not d.is_dir():
        return []
    out = []
    for p in sorted(d.glob("*.json")):
        inst = load_instance(p)
        if isinstance(inst.meta.get("adversary"), dict):
            out.append((p, inst))
    return out


def _recorded_ratio(m: dict[str, Any], proven_only: bool) -> float | None:
    r = m.get("ratio")
    if r is None and not proven_only:
        r = m.get("ratio_at_least")
    return None if r is None else float(r)


def _worst(policy: str, directory: str | Path | None, proven_only: bool, keep) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    best: dict[float, float] = {}
    for _, inst in load_library(directory):
        m = inst.meta["adversary"]
        if m.get("policy") != policy or not keep(memory_factor(inst)) or dropped_assumptions(inst):
            continue
        r = _recorded_ratio(m, proven_only)
        if r is None:
            continue
        a = round(float(m["alpha"]), 12)
        best[a] = max(best.get(a, 0.0), r)
    alphas = np.array(sorted(best, reverse=True))
    return alphas, np.array([best[a] for a in alphas])


def worst_found(policy: str, directory: str | Path | None = None, *, proven_only: bool = False,
                c: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(α values descending, worst ratio found at each α) for ``policy`` from the stored instances in
    the theorem's setting.

    The ratio of a file is ``meta.adversary.ratio`` when OPT was proven, else ``ratio_at_least``
    (skipped with ``proven_only``). With ``c``, only files whose ``M/(s + u)`` rounds (2 decimals)
    to ``c``.
    """
    return _worst(policy, directory, proven_only, lambda x: c is None or round(x, 2) == round(c, 2))


def worst_found_series(policies: list[str] | tuple[str, ...], directory: str | Path | None = None
                       ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"<policy> worst found (c in [k, k'))": (alphas, ratios)}``: one series per policy and band of
    the memory factor ``c = M/(s + u)`` (bands ``[1, 2)``, ``[2, 4)``, ``[4, 8)``, …: a construction's
    ``c`` may drift with α, e.g. ``(2u − 1)/u``), the ``extra_series`` of
    :func:`lpsched.compare.plots.plot_ratio_vs_alpha`."""
    out = {}
    lib = load_library(directory)
    for p in policies:
        bands = sorted({_band(memory_factor(inst)) for _, inst in lib if inst.meta["adversary"].get("policy") == p})
        for lo in bands:
            a, r = _worst(p, directory, False, lambda x, lo=lo: _band(x) == lo)
            if a.size:
                out[f"{p} worst found (c in [{lo:g}, {2 * lo:g}))"] = (a, r)
    return out


def _band(c: float) -> float:
    """The power of two ``k`` with ``k <= c < 2k`` (``c >= 1``)."""
    return float(2 ** math.floor(math.log2(max(c, 1.0)) + 1e-12))


def counterexample_for(c: float, policy: str = "amin", directory: str | Path | None = None,
                       ) -> tuple[str, dict[str, Any], Instance] | None:
    """The stored ``policy`` instance in the theorem's setting with the largest certified ratio at
    memory factor ``c`` (rounded to 2 decimals): ``(file name, meta["adversary"], instance)``, or ``None``."""
    best = None
    for path, inst in load_library(directory):
        m = inst.meta["adversary"]
        if m.get("policy") != policy or round(memory_factor(inst), 2) != round(c, 2) or dropped_assumptions(inst):
            continue
        r = _recorded_ratio(m, False)
        if r is not None and (best is None or r > best[0]):
            best = (r, path.name, m, inst)
    return None if best is None else best[1:]
