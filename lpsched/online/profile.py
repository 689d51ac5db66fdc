"""Kernel profiles (LLMServingSim format) and the step-time model composed from them.

A profile folder (``dense.csv``, ``per_sequence.csv``, ``attention.csv``, ``meta.yaml``) gives the
per-layer GPU kernel times of vLLM for one decoder layer. One engine step with ``T`` batched tokens
and ``S`` scheduled sequences costs, the way LLMServingSim composes it,

    step = L·(2·layernorm(T) + qkv_proj(T) + rotary_emb(T) + o_proj(T) + gate_up_proj(T)
              + act_fn(T) + down_proj(T) + attention(chunk, kv_prefill, n_decode, kv_decode))
           + embedding(T) + final_layernorm(T) + lm_head(S) + sampler(S)

(:func:`compose_step_us`). :class:`ProfileTiming` is this composition as a timing model of the timed
engines: the dense part and the per-sequence part are tabulated once per integer ``T`` and ``S``
(linear interpolation between profiled sizes), attention is interpolated multilinearly on the
profiled ``(prefill_chunk, kv_prefill, n_decode, kv_decode)`` grid, and decode-only steps are
tabulated per batch size over the ``kv_decode`` axis so that a run of decode steps costs one
vectorised interpolation. Holes of the grid (the RTX 4090 profile has no mixed step with 256
decodes) are filled from the nearest smaller profiled ``n_decode`` plus the decode-only difference;
outside the grid the interpolation extends the last segment linearly.
"""

from __future__ import annotations

import csv
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import LpschedInputError

__all__ = ["Profile", "load_profile", "compose_step_us", "ProfileTiming", "PER_LAYER_OPS", "PER_STEP_OPS"]

#: Dense ops run once per decoder layer (``layernorm`` twice: input and post-attention norm).
PER_LAYER_OPS: dict[str, int] = {"layernorm": 2, "qkv_proj": 1, "rotary_emb": 1, "o_proj": 1,
                                 "gate_up_proj": 1, "act_fn": 1, "down_proj": 1}
#: Dense ops run once per step.
PER_STEP_OPS = ("embedding", "final_layernorm")


@dataclass(frozen=True)
class Profile:
    """The tables of one profile folder (times in microseconds)."""

    dense: dict[str, tuple[np.ndarray, np.ndarray]]  # op -> (tokens, time_us)
    per_sequence: dict[str, tuple[np.ndarray, np.ndarray]]  # op -> (sequences, time_us)
    attention: np.ndarray  # columns prefill_chunk, kv_prefill, n_decode, kv_decode, time_us
    layers: int
    meta: dict[str, str]
    source: str = ""
    skew_alpha: float = 0.0


def _read_table(path: Path, key: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rows: dict[str, list[tuple[float, float]]] = {}
    try:
        with path.open(newline="") as fh:
            for i, r in enumerate(csv.DictReader(fh), start=2):
                try:
                    rows.setdefault(r["layer"], []).append((float(r[key]), float(r["time_us"])))
                except (KeyError, TypeError, ValueError) as exc:
                    raise LpschedInputError(f"{path}:{i}: malformed row ({exc})") from None
    except OSError as exc:
        raise LpschedInputError(f"{path}: cannot read ({exc.strerror})") from None
    out = {}
    for op, pts in rows.items():
        a = np.array(sorted(pts))
        out[op] = (a[:, 0], a[:, 1])
    return out


def _read_meta(path: Path) -> dict[str, str]:
    """The flat ``key: value`` lines of ``meta.yaml`` (enough for provenance; no YAML dependency)."""
    return {k: v for k, v in _read_nested(path).items() if isinstance(v, str)}


def _read_nested(path: Path) -> dict[str, object]:
    """``meta.yaml`` as nested dicts of its ``key: value`` / ``key:`` lines by indentation (lists and
    flow values stay strings): enough for the profile's settings, no YAML dependency."""
    root: dict[str, object] = {}
    if not path.exists():
        return root
    stack: list[tuple[int, dict[str, object]]] = [(-1, root)]
    for line in path.read_text().splitlines():
        body = line.strip()
        if not body or body.startswith("#") or body.startswith("- ") or ":" not in body:
            continue
        indent = len(line) - len(line.lstrip(" "))
        while stack[-1][0] >= indent:
            stack.pop()
        k, _, v = body.partition(":")
        k, v = k.strip().strip("'\""), v.strip().strip("'\"")
        if v:
            stack[-1][1][k] = v
        else:
            child: dict[str, object] = {}
            stack[-1][1][k] = child
            stack.append((indent, child))
    return root


def _skew_alpha(path: Path, tp: str = "1") -> float:
    """The profile's pooled decode-skew coefficient (``skew_fit.per_tp.<tp>.alpha_default``), 0 when
    the profile has no skew fit: a batch of decodes with unequal contexts costs
    ``t(mean) + alpha·(t(max) − t(mean))`` in attention (LLMServingSim's skew correction)."""
    fit = _read_nested(path).get("skew_fit")
    if not isinstance(fit, dict) or str(fit.get("enabled", "")).lower() != "true":
        return 0.0
    per_tp = fit.get("per_tp")
    entry = per_tp.get(tp) if isinstance(per_tp, dict) else None
    value = entry.get("alpha_default") if isinstance(entry, dict) else fit.get("alpha_default")
    try:
        return float(value) if value is not None else 0.0  # type: ignore[arg-type]
    except ValueError:
        raise LpschedInputError(f"{path}: skew_fit alpha_default is not a number ({value!r})") from None


def load_profile(folder: str | Path, layers: int = 32) -> Profile:
    """Read ``dense.csv``, ``per_sequence.csv``, ``attention.csv`` and ``meta.yaml`` of ``folder``."""
    f = Path(folder)
    if not f.is_dir():
        raise LpschedInputError(f"{f}: profile folder not found")
    dense = _read_table(f / "dense.csv", "tokens")
    per_seq = _read_table(f / "per_sequence.csv", "sequences")
    missing = [op for op in (*PER_LAYER_OPS, *PER_STEP_OPS) if op not in dense]
    missing += [op for op in ("lm_head", "sampler") if op not in per_seq]
    if missing:
        raise LpschedInputError(f"{f}: profile lacks op '{missing[0]}'")
    try:
        att = np.loadtxt(f / "attention.csv", delimiter=",", skiprows=1, ndmin=2)
    except (OSError, ValueError) as exc:
        raise LpschedInputError(f"{f / 'attention.csv'}: cannot read ({exc})") from None
    if att.shape[1] != 5:
        raise LpschedInputError(f"{f / 'attention.csv'}: expected 5 columns, got {att.shape[1]}")
    meta = _read_meta(f / "meta.yaml")
    source = f"{f} ({meta.get('gpu', '?')}, {meta.get('model', '?')}, vLLM {meta.get('vllm_version', '?')})"
    return Profile(dense, per_seq, att, layers, meta, source, _skew_alpha(f / "meta.yaml"))


def compose_step_us(p: Profile, chunk: np.ndarray, kv_prefill: np.ndarray, n_decode: np.ndarray,
                    kv_decode: np.ndarray, attention_us: np.ndarray) -> np.ndarray:
    """Composed step time (µs) for steps with the given attention grid points and their time."""
    T = np.asarray(chunk) + np.asarray(n_decode)
    S = np.asarray(n_decode) + (np.asarray(chunk) > 0)
    layer = np.zeros(T.shape, dtype=float)
    for op, times in PER_LAYER_OPS.items():
        x, y = p.dense[op]
        layer += times * np.interp(T, x, y)
    total = p.layers * (layer + np.asarray(attention_us, dtype=float))
    for op in PER_STEP_OPS:
        x, y = p.dense[op]
        total += np.interp(T, x, y)
    for op in ("lm_head", "sampler"):
        x, y = p.per_sequence[op]
        total += np.interp(S, x, y)
    return total


def _interp_ext(q: float | np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Piecewise-linear interpolation that extends the first and last segments linearly."""
    q = np.asarray(q, dtype=float)
    out = np.interp(q, x, y)
    if x.size >= 2:
        hi = q > x[-1]
        if np.any(hi):
            out = np.where(hi, y[-1] + (q - x[-1]) * (y[-1] - y[-2]) / (x[-1] - x[-2]), out)
        lo = q < x[0]
        if np.any(lo):
            out = np.where(lo, y[0] + (q - x[0]) * (y[1] - y[0]) / (x[1] - x[0]), out)
    return out


def _bracket(axis: np.ndarray, q: float) -> tuple[int, float]:
    """Index ``i`` and weight ``w`` with ``q ≈ (1 - w)·axis[i] + w·axis[i + 1]`` (``w`` may leave
    ``[0, 1]`` outside the axis: linear extension)."""
    m = axis.size
    if m == 1:
        return 0, 0.0
    i = int(np.searchsorted(axis, q, side="right")) - 1
    i = min(max(i, 0), m - 2)
    return i, (q - axis[i]) / (axis[i + 1] - axis[i])


class ProfileTiming:
    """Step times composed from a kernel profile, in integer nanoseconds (module docstring).

    ``step_ns(chunks, n_decode, kv_decode_sum)`` costs one step with prefill chunks
    ``[(tokens, prefix), …]`` and ``n_decode`` decoding sequences that attend to ``kv_decode_sum``
    cached tokens in total; ``decode_run_ns`` costs consecutive decode-only steps.
    ``duration``/``span`` give the round engines' interface (a round's prefill as one chunk with no
    prefix, ``batch`` sequences attending to ``kv`` tokens), so the same model also times the round
    model.
    """

    def __init__(self, profile: Profile, name: str | None = None, max_tokens: int = 8192,
                 max_seqs: int = 1024, skew: bool = True) -> None:
        self.profile = profile
        self.alpha = profile.skew_alpha if skew else 0.0
        self.name = name or f"profile:{profile.meta.get('hardware', Path(profile.source.split(' ')[0]).name)}"
        L = profile.layers
        T = np.arange(max_tokens + 1, dtype=float)
        dense = np.zeros(T.shape)
        for op, times in PER_LAYER_OPS.items():
            dense += L * times * _interp_ext(T, *profile.dense[op])
        for op in PER_STEP_OPS:
            dense += _interp_ext(T, *profile.dense[op])
        dense[0] = 0.0
        S = np.arange(max_seqs + 1, dtype=float)
        seq = sum(_interp_ext(S, *profile.per_sequence[op]) for op in ("lm_head", "sampler"))
        seq[0] = 0.0
        self._dense_us = dense.tolist()
        self._seq_us = np.asarray(seq).tolist()
        self._dense_arr, self._seq_arr = dense, np.asarray(seq)
        self._grid(profile.attention)
        self._decode_cache: dict[int, tuple[list[float], list[float], list[float], float]] = {}

    # ------------------------------------------------------------------ attention grid
    def _grid(self, att: np.ndarray) -> None:
        axes = [np.unique(att[:, i]) for i in range(4)]
        cs, ps, ns, ks = axes
        grid = np.full(tuple(a.size for a in axes), np.nan)
        idx = [np.searchsorted(axes[i], att[:, i]) for i in range(4)]
        grid[tuple(idx)] = att[:, 4]
        ic0, ip0, in0, ik0 = (int(np.searchsorted(a, 0.0)) for a in axes)
        has0 = [a[0] == 0 for a in axes]
        # decode-only plane (chunk 0, prefix 0): fill kv holes along kv, then fix identities
        if has0[0] and has0[1]:
            dec = grid[ic0, ip0]
            for i in range(ns.size):
                ok = ~np.isnan(dec[i])
                if ns[i] > 0 and ok.sum() >= 2:
                    dec[i] = np.where(ok, dec[i], _interp_ext(ks, ks[ok], dec[i, ok]))
            if has0[2]:
                dec[in0] = 0.0  # no decode, no chunk: no attention
            grid[ic0, :] = dec[None, :, :]  # without a chunk the prefix does not matter
        if has0[2] and has0[3]:
            grid[:, :, in0, :] = grid[:, :, in0, ik0][:, :, None]  # without decodes kv_decode does not matter
        # mixed holes: nearest smaller profiled n_decode plus the decode-only difference
        dec = grid[ic0, ip0] if (has0[0] and has0[1]) else None
        for ci in range(cs.size):
            for pi in range(ps.size):
                for ni in range(ns.size):
                    for ki in range(ks.size):
                        if not np.isnan(grid[ci, pi, ni, ki]) or dec is None:
                            continue
                        lower = [m for m in range(ni - 1, -1, -1) if not np.isnan(grid[ci, pi, m, ki])]
                        if lower:
                            m = lower[0]
                            grid[ci, pi, ni, ki] = grid[ci, pi, m, ki] + dec[ni, ki] - dec[m, ki]
        if np.isnan(grid).any():
            # last resort: along kv_decode, then kv_prefill
            for ci, pi, ni in np.ndindex(cs.size, ps.size, ns.size):
                row = grid[ci, pi, ni]
                ok = ~np.isnan(row)
                if 2 <= ok.sum() < row.size:
                    grid[ci, pi, ni] = np.where(ok, row, _interp_ext(ks, ks[ok], row[ok]))
            for ci, ni, ki in np.ndindex(cs.size, ns.size, ks.size):
                col = grid[ci, :, ni, ki]
                ok = ~np.isnan(col)
                if 2 <= ok.sum() < col.size:
                    grid[ci, :, ni, ki] = np.where(ok, col, _interp_ext(ps, ps[ok], col[ok]))
        if np.isnan(grid).any():
            raise LpschedInputError(f"{self.profile.source}: attention grid has holes that cannot be filled "
                                    f"({int(np.isnan(grid).sum())} cells)")
        self.axes = axes
        self.grid = grid
        self._axes_list = [a.tolist() for a in axes]
        self._flat = grid.ravel().tolist()
        self._strides = [st // grid.itemsize for st in grid.strides]

    def attention_us(self, chunk: float, kv_prefill: float, n_decode: float, kv_decode: float) -> float:
        """Attention time of one layer (µs), multilinear on the profiled grid (plain Python: this is
        called once per step that is not decode-only)."""
        flat, strides, axes = self._flat, self._strides, self._axes_list
        lo = 0
        ws = []
        for d, q in enumerate((chunk, kv_prefill, n_decode, kv_decode)):
            ax = axes[d]
            m = len(ax)
            if m == 1:
                ws.append((0, 0.0))
                continue
            i = bisect_right(ax, q) - 1
            if i < 0:
                i = 0
            elif i > m - 2:
                i = m - 2
            lo += i * strides[d]
            ws.append((strides[d], (q - ax[i]) / (ax[i + 1] - ax[i])))
        (s0, f0), (s1, f1), (s2, f2), (s3, f3) = ws
        total = 0.0
        for a, wa in ((0, 1.0 - f0), (s0, f0)):
            if wa == 0.0:
                continue
            for b, wb in ((a, 1.0 - f1), (a + s1, f1)):
                wab = wa * wb
                if wab == 0.0:
                    continue
                for c, wc in ((b, 1.0 - f2), (b + s2, f2)):
                    w3 = wab * wc
                    if w3 == 0.0:
                        continue
                    k = lo + c
                    total += w3 * ((1.0 - f3) * flat[k] + f3 * flat[k + s3])
        return total

    # ------------------------------------------------------------------ steps
    def step_us(self, chunks: list[tuple[int, int]], n_decode: int, kv_decode_sum: int,
                kv_decode_max: int = 0) -> float:
        """One step (µs): several chunks are costed as one chunk of their total length whose prefix
        gives the same chunk·(prefix + chunk/2) attention work; decodes of unequal context
        (``kv_decode_max`` above the mean) add the profile's skew correction."""
        if not chunks and n_decode:
            return self.decode_us(n_decode, kv_decode_sum, kv_decode_max)
        C = 0
        work = 0.0
        for c, p in chunks:
            C += c
            work += c * (p + c / 2)
        P = max(work / C - C / 2, 0.0) if C else 0.0
        kvd = kv_decode_sum / n_decode if n_decode else 0.0
        T = C + n_decode
        S = n_decode + len(chunks)
        att = self.attention_us(C, P, n_decode, kvd)
        if self.alpha and n_decode > 1 and kv_decode_max > kvd:
            att += self.alpha * (self.attention_us(C, P, n_decode, kv_decode_max) - att)
        return self._dense(T) + self.profile.layers * att + self._seq(S)

    def _dense(self, T: int) -> float:
        d = self._dense_us
        return d[T] if T < len(d) else float(_interp_ext(T, np.arange(len(d)), self._dense_arr))

    def _seq(self, S: int) -> float:
        s = self._seq_us
        return s[S] if S < len(s) else float(_interp_ext(S, np.arange(len(s)), self._seq_arr))

    def step_ns(self, chunks: list[tuple[int, int]], n_decode: int, kv_decode_sum: int,
                kv_decode_max: int = 0) -> int:
        return max(round(self.step_us(chunks, n_decode, kv_decode_sum, kv_decode_max) * 1000), 1)

    def _decode_table(self, n: int) -> tuple[list[float], list[float], list[float], float]:
        """Decode attention (µs, all layers) at ``n`` sequences over the profiled kv axis, its
        slope on each segment, and the step's dense + per-sequence part."""
        tab = self._decode_cache.get(n)
        if tab is None:
            ks = self._axes_list[3]
            att = [self.profile.layers * self.attention_us(0, 0, n, k) for k in ks]
            slope = [(att[i + 1] - att[i]) / (ks[i + 1] - ks[i]) for i in range(len(ks) - 1)]
            tab = (ks, att, slope, self._dense(n) + self._seq(n))
            self._decode_cache[n] = tab
        return tab

    def decode_us(self, n: int, kv_sum: float, kv_max: float = 0) -> float:
        """One decode-only step (µs) of ``n`` sequences holding ``kv_sum`` context tokens in all
        (longest ``kv_max``): the per-``n`` table interpolated in the mean context."""
        ks, att, slope, rest = self._decode_table(n)
        last = len(ks) - 2
        x = kv_sum / n
        i = min(max(bisect_right(ks, x) - 1, 0), last)
        a = att[i] + (x - ks[i]) * slope[i]
        if self.alpha and n > 1 and kv_max > x:
            i = min(max(bisect_right(ks, kv_max) - 1, 0), last)
            t = att[i] + (kv_max - ks[i]) * slope[i]
            if t > a:
                a += self.alpha * (t - a)
        return a + rest

    def decode_steps_ns(self, n: int, kv_sums: np.ndarray | list[int],
                        kv_max: np.ndarray | list[int] | None = None) -> list[int]:
        """Nanoseconds of decode-only steps of ``n`` sequences holding ``kv_sums`` tokens in total
        (longest context ``kv_max``, for the skew correction)."""
        maxes = [0] * len(kv_sums) if kv_max is None else kv_max
        return [max(round(self.decode_us(n, k, m) * 1000), 1) for k, m in zip(kv_sums, maxes, strict=True)]

    def decode_run_ns(self, n: int, kv0: int, kv_max0: int, rounds: int) -> list[int]:
        """``rounds`` consecutive decode-only steps whose context sum starts at ``kv0`` (longest
        ``kv_max0``) and grows by one token per sequence a step: :meth:`decode_us` step by step,
        walking the kv segments forward instead of searching them."""
        ks, att, slope, rest = self._decode_table(n)
        last = len(ks) - 2
        alpha = self.alpha if n > 1 else 0.0
        out = []
        x = kv0 / n
        i = min(max(bisect_right(ks, x) - 1, 0), last)
        h = min(max(bisect_right(ks, kv_max0) - 1, 0), last)
        for s in range(rounds):
            x = (kv0 + n * s) / n
            while i < last and ks[i + 1] <= x:
                i += 1
            a = att[i] + (x - ks[i]) * slope[i]
            if alpha:
                xm = kv_max0 + s
                if xm > x:
                    while h < last and ks[h + 1] <= xm:
                        h += 1
                    t = att[h] + (xm - ks[h]) * slope[h]
                    if t > a:
                        a += alpha * (t - a)
            v = round((a + rest) * 1000)
            out.append(v if v > 1 else 1)
        return out

    # ------------------------------------------------------------------ round-engine interface
    def duration(self, prefill: int, batch: int, kv: int) -> int:
        """A round of the round model: ``prefill`` tokens as one chunk with no prefix, and the
        ``batch`` sequences as decodes attending to the ``kv − prefill`` other tokens they hold."""
        if batch <= 0:
            return 1
        if prefill <= 0:
            return max(round(self.decode_us(batch, kv) * 1000), 1)
        return self.step_ns([(prefill, 0)], batch, max(kv - prefill, 0))

    def span(self, prefill: int, batch: int, kv: int, rounds: int) -> int:
        """``rounds`` consecutive rounds of a fixed batch (memory grows by ``batch`` a round)."""
        first = self.duration(prefill, batch, kv)
        if rounds <= 1 or batch <= 0:
            return first + (rounds - 1) * first
        return first + sum(self.decode_run_ns(batch, kv + batch, 0, rounds - 1))

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "kind": "profile", "source": self.profile.source,
                "layers": self.profile.layers, "skew_alpha": self.alpha}
