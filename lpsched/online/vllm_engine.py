"""A step-level timed engine with the mechanisms of vLLM v1's scheduler (``engine="vllm"``).

The round model (MODEL.md §2) starts a job whole and lets it hold ``s + g + 1`` tokens; this engine
replays what vLLM v1 does instead, one engine step at a time, each mechanism an option
(:class:`VllmConfig`; ``engine="vllm"`` turns them all on, as vLLM 0.19 ships them):

* ``max_num_seqs``: at most this many running requests (0 = no cap);
* ``max_num_batched_tokens``: the token budget of a step, with chunked prefill (0 = no budget, whole
  prompts). Running requests are served first, in admission order (decodes take one token, a
  partial prefill its next chunk), then waiting requests in FCFS order get chunks of what is left;
* ``block_size``: KV is held in blocks of this many tokens (1 = token granularity); capacity is
  ``kv_blocks = M // block_size`` blocks;
* preemption by recompute: when a running request cannot get a block, the most recently admitted
  running request is preempted, frees its blocks and goes back to the head of the waiting queue;
  with ``semantics="resume"`` it keeps its generated tokens (vLLM) and prefills prompt + generated
  again, with ``restart`` it loses them;
* ``prefix_cache``: a freed block keeps its content until the allocator hands it out again (blocks
  are handed out least recently freed first, a request's tail block before its head block), so a
  preempted request readmitted soon finds its full leading blocks cached and prefills only the rest;
* ``watermark``: a waiting request is admitted only if ``watermark·kv_blocks`` blocks stay free
  (when anything runs), and ``reserve_full`` admits it only if its whole sequence (not just the
  first chunk) fits in the free blocks (vLLM's ``scheduler_reserve_full_isl``).

A step's duration comes from the timing model: a :class:`~lpsched.online.profile.ProfileTiming`
(chunks with their prefixes, decodes with their context) or a linear
:class:`~lpsched.online.timing.TimingModel` (prefill tokens, sequences, KV tokens held). Arrivals
join before the first step that starts at or after them; a request's first token is out at the end
of the step that completes its prefill, its last at the end of the step that samples it.

Decode-only stretches (every running request decoding, nobody admissible) are advanced in one go up
to the next completion, arrival or block shortage (``fast=True``, the default); ``fast=False``
runs every step and is the reference the tests compare with.

Invariants checked as it runs: blocks in use never exceed ``kv_blocks``; at the end every request
has produced exactly its output and every block is free again.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ..errors import OptionError
from .profile import ProfileTiming
from .timing import TimingModel

__all__ = ["VllmConfig", "VLLM_PRESET", "VllmOutcome", "run_vllm", "vllm_config"]


@dataclass(frozen=True)
class VllmConfig:
    """The scheduler mechanisms (module docstring); 0 / False switches a mechanism off."""

    block_size: int = 16
    max_num_seqs: int = 256
    max_num_batched_tokens: int = 2048
    watermark: float = 0.01
    reserve_full: bool = True
    prefix_cache: bool = True
    semantics: str = "resume"
    fast: bool = True

    def __post_init__(self) -> None:
        for f in ("block_size", "max_num_seqs", "max_num_batched_tokens"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise OptionError(f"engine vllm: {f} must be an integer >= 0, got {v!r}")
        if self.block_size < 1:
            raise OptionError(f"engine vllm: block_size must be >= 1, got {self.block_size}")
        if not 0.0 <= self.watermark < 1.0:
            raise OptionError(f"engine vllm: watermark must be in [0, 1), got {self.watermark}")
        if self.semantics not in ("restart", "resume"):
            raise OptionError(f"engine vllm: unknown semantics '{self.semantics}' (known: restart, resume)")


#: vLLM 0.19's defaults (block 16, 256 sequences, 2,048 batched tokens, chunked prefill, watermark
#: 1 %, full-sequence admission check, prefix caching, recompute keeping generated tokens).
VLLM_PRESET = VllmConfig()

_INT_OPTS = ("block_size", "max_num_seqs", "max_num_batched_tokens")
_BOOL_OPTS = ("reserve_full", "prefix_cache", "fast")
VLLM_OPTIONS = (*_INT_OPTS, *_BOOL_OPTS, "watermark", "semantics")


def _as_bool(name: str, v: object) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return v.lower() in ("1", "true", "yes", "on")
    raise OptionError(f"engine vllm: option {name} must be true or false, got {v!r}")


def vllm_config(**options: object) -> VllmConfig:
    """The preset with ``options`` (strings from the CLI are converted) replacing its fields."""
    kw: dict[str, object] = {}
    for k, v in options.items():
        if k in _INT_OPTS:
            try:
                kw[k] = int(v)  # type: ignore[call-overload]
            except (TypeError, ValueError):
                raise OptionError(f"engine vllm: option {k} must be an integer, got {v!r}") from None
        elif k in _BOOL_OPTS:
            kw[k] = _as_bool(k, v)
        elif k == "watermark":
            try:
                kw[k] = float(v)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise OptionError(f"engine vllm: option watermark must be a number, got {v!r}") from None
        elif k == "semantics":
            kw[k] = v
        else:
            raise OptionError(f"engine vllm: unknown option '{k}' (known: {', '.join(VLLM_OPTIONS)})")
    d = {f: getattr(VLLM_PRESET, f) for f in VllmConfig.__dataclass_fields__}
    d.update(kw)
    return VllmConfig(**d)  # type: ignore[arg-type]


@dataclass
class VllmOutcome:
    """What :func:`run_vllm` measured (times in ns, per request in input order)."""

    first_token_ns: list[int]
    completion_ns: list[int]
    completion_step: list[int]
    first_scheduled_step: list[int]
    steps: int
    preemptions: int
    preempt_count: list[int]
    recomputed_tokens: int
    cached_tokens: int
    wasted_tokens: int
    peak_blocks: int
    decode_steps: int
    mixed_steps: int
    busy_ns: int
    block_steps: int  # Σ over steps of the blocks in use
    join_step: list[int]
    step_log: list[tuple[int, int, int, int]] | None = field(default=None)  # (start ns, tokens, seqs, blocks)


class _Timer:
    """Adapts either timing model to the engine's two questions."""

    def __init__(self, timing: TimingModel | ProfileTiming) -> None:
        self.t = timing
        self.profile = isinstance(timing, ProfileTiming)

    def step(self, chunks: list[tuple[int, int]], n_dec: int, kv_dec: int, kv_max: int, kv_held: int) -> int:
        if self.profile:
            return self.t.step_ns(chunks, n_dec, kv_dec, kv_max)  # type: ignore[union-attr]
        t = self.t
        P = sum(c for c, _ in chunks)
        return t.c0 + t.c_prefill * P + t.c_decode * (n_dec + len(chunks)) + t.c_kv * kv_held  # type: ignore[union-attr]

    def decode_run(self, n: int, kv0: int, kv_max0: int, rounds: int) -> np.ndarray:
        """Durations of ``rounds`` decode steps of ``n`` sequences whose context sums to ``kv0``
        (longest ``kv_max0``) in the first step, growing by one token each a step; KV held =
        context + n."""
        steps = np.arange(rounds, dtype=np.int64)
        kv = kv0 + n * steps
        if self.profile:
            return self.t.decode_steps_ns(n, kv, kv_max0 + steps)  # type: ignore[union-attr]
        t = self.t
        return t.c0 + t.c_decode * n + t.c_kv * (kv + n)  # type: ignore[union-attr]


def run_vllm(prompt: list[int], output: list[int], arrival_ns: list[int], kv_tokens: int,
             timing: TimingModel | ProfileTiming, cfg: VllmConfig = VLLM_PRESET,
             record_steps: bool = False) -> VllmOutcome:
    """Replay the requests through the vLLM v1 scheduler model (module docstring)."""
    n = len(prompt)
    bs = cfg.block_size
    total_blocks = kv_tokens // bs
    if total_blocks <= 0:
        raise OptionError(f"engine vllm: KV capacity {kv_tokens} tokens is less than one block of {bs}")
    for j in range(n):
        if output[j] < 1:
            raise OptionError(f"engine vllm: request {j} has output {output[j]} < 1 token")
        if -(-(prompt[j] + output[j] - 1) // bs) > total_blocks:
            raise OptionError(f"engine vllm: request {j} ({prompt[j]} + {output[j]} tokens) cannot fit in "
                              f"{total_blocks} blocks of {bs} tokens")
    budget_cap = cfg.max_num_batched_tokens or (1 << 62)
    seq_cap = cfg.max_num_seqs or (1 << 62)
    wm_blocks = int(cfg.watermark * total_blocks)
    resume = cfg.semantics == "resume"
    timer = _Timer(timing)

    tokens = list(prompt)  # prompt + kept generated tokens (vLLM's num_tokens)
    computed = [0] * n
    generated = [0] * n  # tokens generated in the current life (all of them under resume)
    held = [0] * n  # blocks held
    # prefix cache of a preempted request: (queue position of its head block + 1, cached full blocks)
    cache_end = [0] * n
    cache_blocks = [0] * n
    first_ns = [-1] * n
    done_ns = [0] * n
    done_step = [0] * n
    first_sched = [-1] * n
    preempt_count = [0] * n

    order = sorted(range(n), key=lambda j: (arrival_ns[j], j))
    ap = 0
    waiting: deque[int] = deque()
    running: list[int] = []
    free = total_blocks
    head = 0  # blocks handed out so far (free-queue head position)
    tail = total_blocks  # next free-queue position
    clock = 0
    step = 0
    finished = 0
    preemptions = recomputed = cached_tok = wasted = 0
    peak = 0
    decode_steps = mixed_steps = 0
    block_steps = 0
    join_step = [0] * n
    busy = 0
    log: list[tuple[int, int, int, int]] | None = [] if record_steps else None

    def release(j: int) -> None:
        """Free ``j``'s blocks to the free queue (tail block first)."""
        nonlocal free, tail
        b = held[j]
        free += b
        tail += b
        cache_end[j] = tail  # head block at position tail - 1, tail block at tail - b
        cache_blocks[j] = min(computed[j] // bs, b) if cfg.prefix_cache else 0
        held[j] = 0

    while finished < n:
        # arrivals up to the start of this step; an idle engine jumps to the next arrival
        if not running and not waiting and ap < n and arrival_ns[order[ap]] > clock:
            clock = arrival_ns[order[ap]]
        while ap < n and arrival_ns[order[ap]] <= clock:
            waiting.append(order[ap])
            join_step[order[ap]] = step
            ap += 1

        budget = budget_cap
        sched: list[tuple[int, int]] = []  # (request, tokens this step)
        preempted = False
        i = 0
        while i < len(running):
            j = running[i]
            m = tokens[j] - computed[j]
            if m > budget:
                m = budget
            if m <= 0:
                i += 1
                continue
            need = -(-(computed[j] + m) // bs) - held[j]
            ok = True
            while need > free:
                v = running.pop()
                release(v)
                computed[v] = 0
                if not resume:
                    wasted += generated[v]
                    tokens[v] = prompt[v]
                    generated[v] = 0
                    cache_blocks[v] = min(cache_blocks[v], prompt[v] // bs)
                preemptions += 1
                preempt_count[v] += 1
                waiting.appendleft(v)
                preempted = True
                if v == j:
                    ok = False
                    break
            if not ok:
                break
            free -= need
            head += need
            held[j] += need
            budget -= m
            sched.append((j, m))
            i += 1

        if not preempted:
            while waiting and budget > 0 and len(running) < seq_cap:
                j = waiting[0]
                hit = 0
                if cache_blocks[j]:
                    # leading blocks still cached: block k sits at position cache_end - 1 - k
                    survive = cache_end[j] - head
                    hit = min(cache_blocks[j], max(survive, 0), (tokens[j] - 1) // bs)
                cached = hit * bs
                m = tokens[j] - cached
                if m > budget:
                    if not cfg.max_num_batched_tokens:
                        break
                    m = budget
                wm = wm_blocks if running else 0
                if cfg.reserve_full and -(-tokens[j] // bs) + wm > free:
                    break
                need = -(-(cached + m) // bs)
                if need + wm > free:
                    break
                waiting.popleft()
                # hit blocks leave the free queue where they are; new blocks come from its head
                free -= need
                head += need - hit
                held[j] = need
                computed[j] = cached
                if preempt_count[j]:
                    recomputed += tokens[j] - cached
                    cached_tok += cached
                cache_blocks[j] = 0
                if first_sched[j] < 0:
                    first_sched[j] = step
                running.append(j)
                budget -= m
                sched.append((j, m))

        if not sched:
            if ap < n:
                clock = max(clock, arrival_ns[order[ap]])
                continue
            raise RuntimeError("engine vllm: no request can be scheduled and none is arriving "
                               f"({len(waiting)} waiting, {free} of {total_blocks} blocks free)")

        in_use = total_blocks - free
        if in_use > total_blocks:
            raise AssertionError("engine vllm: more blocks in use than exist")

        # ---- decode-only stretch: advance to the next event in one go
        if (cfg.fast and not preempted and len(sched) == len(running) and len(sched) > 1
                and all(m == 1 and computed[j] == tokens[j] - 1 and first_ns[j] >= 0 for j, m in sched)):
            cum = _decode_stretch(running, tokens, output, generated, free, bs)
            r = len(cum)
            if r > 1:
                N = len(running)
                durs = timer.decode_run(N, sum(computed[j] for j in running),
                                        max(computed[j] for j in running), r)
                if ap < n:  # the step that starts at or after the next arrival is not in the stretch
                    k = int(np.searchsorted(clock + np.cumsum(durs), arrival_ns[order[ap]], side="left"))
                    r = min(r, k + 1)
                    durs = durs[:r]
            if r > 1:
                newly = 0
                for j in running:  # steps 0..r-1; step 0's blocks are already allocated
                    nb = -(-(tokens[j] + r - 1) // bs)
                    newly += nb - held[j]
                    held[j] = nb
                    tokens[j] += r
                    computed[j] += r
                    generated[j] += r
                if newly != cum[r - 1]:
                    raise AssertionError("engine vllm: block count of a decode stretch disagrees")
                block_steps += r * in_use + sum(cum[:r])
                free -= newly
                head += newly
                peak = max(peak, total_blocks - free)
                if log is not None:
                    t = clock
                    for d, c in zip(durs.tolist(), cum, strict=False):
                        log.append((t, N, N, in_use + c))
                        t += d
                span = int(durs.sum())
                clock += span
                busy += span
                step += r
                decode_steps += r
                continue

        # ---- one step
        chunks: list[tuple[int, int]] = []
        n_dec = kv_dec = kv_max = 0
        T = 0
        for j, m in sched:
            T += m
            if m == 1:
                n_dec += 1
                kv_dec += computed[j]
                if computed[j] > kv_max:
                    kv_max = computed[j]
            else:
                chunks.append((m, computed[j]))
        kv_held = sum(computed[j] + m for j, m in sched)
        d = timer.step(chunks, n_dec, kv_dec, kv_max, kv_held)
        if log is not None:
            log.append((clock, T, len(sched), in_use))
        clock += d
        busy += d
        peak = max(peak, in_use)
        block_steps += in_use
        if chunks:
            mixed_steps += 1
        else:
            decode_steps += 1
        for j, m in sched:
            computed[j] += m
            if computed[j] == tokens[j]:  # a token is sampled
                generated[j] += 1
                if first_ns[j] < 0:
                    first_ns[j] = clock
                if generated[j] == output[j]:
                    finished += 1
                    done_ns[j] = clock
                    done_step[j] = step
                    running.remove(j)
                    release(j)
                    cache_blocks[j] = 0
                else:
                    tokens[j] += 1
        step += 1

    if free != total_blocks:
        raise AssertionError(f"engine vllm: {total_blocks - free} blocks still in use at the end")
    return VllmOutcome(first_ns, done_ns, done_step, first_sched, step, preemptions, preempt_count,
                       recomputed, cached_tok, wasted, peak, decode_steps, mixed_steps, busy, block_steps,
                       join_step, log)


def _decode_stretch(running: list[int], tokens: list[int], output: list[int], generated: list[int],
                    free: int, bs: int) -> int:
    """Blocks allocated since step 0 by each step ``0..r-1`` of the longest decode-only stretch
    from now (step 0 = the one just planned, whose blocks are allocated): nobody finishes and every
    block the steps need is free. Waiting requests could not be admitted at step 0 and stay out: free blocks only
    shrink while decoding and the running set does not change."""
    r = min(output[j] - generated[j] for j in running) - 1  # step r completes someone
    # step s computes slot tokens[j] - 1 + s and needs a new block iff tokens[j] + s == 1 (mod bs)
    hist = [0] * bs
    for j in running:
        hist[(tokens[j] - 1) % bs] += 1
    left = free
    cum = [0]
    s = 1
    while s < r:
        need = hist[(-s) % bs]
        if need > left:
            break
        left -= need
        cum.append(free - left)
        s += 1
    return cum[:max(r, 0)]
