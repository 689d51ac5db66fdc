"""A step-level timed engine with the mechanisms of vLLM v1's scheduler (``engine="vllm"``).

The round model (docs/model.md) starts a job whole and lets it hold ``s + g + 1`` tokens; this engine
replays what vLLM v1 does instead, one engine step at a time, each mechanism an option
(:class:`VllmConfig`; ``engine="vllm"`` turns them all on, as vLLM 0.19 ships them):

* ``max_num_seqs``: at most this many running requests (0 = no cap);
* ``max_num_batched_tokens``: the token budget of a step, with chunked prefill (0 = no budget, whole
  prompts). Running requests are served first, in admission order (decodes take one token, a
  partial prefill its next chunk), then waiting requests in FCFS order get chunks of what is left;
* ``block_size``: KV is held in blocks of this many tokens (1 = token granularity); capacity is
  ``kv_blocks = M // block_size`` blocks;
* preemption by recompute: when a running request cannot get a block, the most recently admitted
  running request is preempted, frees its blocks and goes back to the head of the waiting queue
  (with a ``policy``, :mod:`lpsched.online.vllm_policies`, the policy's victim, which goes back into
  the policy's queue; a victim scheduled earlier in the step gives its tokens back to the budget);
  with ``semantics="resume"`` it keeps its generated tokens (vLLM) and prefills prompt + generated
  again, with ``restart`` it loses them;
* ``prefix_cache``: a freed block keeps its content until the allocator hands it out again (blocks
  are handed out least recently freed first, a request's tail block before its head block), so a
  preempted request readmitted soon finds its full leading blocks cached and prefills only the rest;
* ``watermark``: a waiting request is admitted only if ``watermark·kv_blocks`` blocks stay free
  (when anything runs), and ``reserve_full`` admits it only if its whole sequence (not just the
  first chunk) fits in the free blocks (vLLM's ``scheduler_reserve_full_isl``).

A ``policy`` also orders the waiting queue (the engine reads it like the FCFS deque) and adds its
admission test before the engine's own checks.

A step's duration comes from the timing model: a :class:`~lpsched.online.profile.ProfileTiming`
(chunks with their prefixes, decodes with their context) or a linear
:class:`~lpsched.online.timing.TimingModel` (prefill tokens, sequences, KV tokens held). Arrivals
join before the first step that starts at or after them; a request's first token is out at the end
of the step that completes its prefill, its last at the end of the step that samples it.

:func:`run_vllm_steps` runs every step with every request's state explicit: the reference.
:func:`run_vllm` runs :func:`~lpsched.online.vllm_fast.run_vllm_fast` (aggregate decode state,
decode-only stretches in one go; the default, ``fast=True``) or the reference (``fast=False``); the
tests require both to agree exactly.

Blocks are only handed out when free, so the cache never holds more than ``kv_blocks``; at the end
the engine checks that every block is free again, and
:func:`~lpsched.online.vllm_simulate.simulate_vllm` that every request's first token follows its
arrival and its last token its first.
"""

from __future__ import annotations

from collections import deque

from .profile import ProfileTiming
from .timing import TimingModel
from .vllm_config import VLLM_PRESET, StepTimer, VllmConfig, VllmOutcome, check_requests
from .vllm_fast import run_vllm_fast
from .vllm_policies import StepPolicy

__all__ = ["run_vllm", "run_vllm_steps"]


def run_vllm(prompt: list[int], output: list[int], arrival_ns: list[int], kv_tokens: int,
             timing: TimingModel | ProfileTiming, cfg: VllmConfig = VLLM_PRESET,
             record_steps: bool = False, policy: StepPolicy | None = None) -> VllmOutcome:
    """Replay the requests through the vLLM v1 scheduler model (module docstring); ``policy``
    replaces vLLM's FCFS order, admission test and victim (:mod:`lpsched.online.vllm_policies`)."""
    run = run_vllm_fast if cfg.fast else run_vllm_steps
    return run(prompt, output, arrival_ns, kv_tokens, timing, cfg, record_steps, policy)


def run_vllm_steps(prompt: list[int], output: list[int], arrival_ns: list[int], kv_tokens: int,
                   timing: TimingModel | ProfileTiming, cfg: VllmConfig = VLLM_PRESET,
                   record_steps: bool = False, policy: StepPolicy | None = None) -> VllmOutcome:
    """Replay the requests through the vLLM v1 scheduler model one step at a time (the reference)."""
    n = len(prompt)
    bs = cfg.block_size
    total_blocks = check_requests(prompt, output, kv_tokens, bs)
    budget_cap = cfg.max_num_batched_tokens or (1 << 62)
    seq_cap = cfg.max_num_seqs or (1 << 62)
    wm_blocks = int(cfg.watermark * total_blocks)
    resume = cfg.semantics == "resume"
    timer = StepTimer(timing)

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
    waiting: deque[int] | StepPolicy = deque() if policy is None else policy
    running: list[int] = []
    if policy is not None:
        policy.v.generated_fn = generated.__getitem__
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
                if policy is None:
                    v = running.pop()
                else:
                    v = policy.victim(running, step)
                    k = running.index(v)
                    del running[k]
                    if k < i:  # scheduled earlier in this step: its tokens go back to the budget
                        for q, (u, mu) in enumerate(sched):
                            if u == v:
                                budget += mu
                                del sched[q]
                                break
                        i -= 1
                    policy.preempted(v, generated[v])
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
            if not ok:  # itself preempted: serve the next (vLLM's FCFS: none is left)
                continue
            free -= need
            head += need
            held[j] += need
            budget -= m
            sched.append((j, m))
            i += 1

        if not preempted:
            while waiting and budget > 0 and len(running) < seq_cap:
                j = waiting[0]
                if policy is not None and not policy.admits(j, step, tokens[j] - prompt[j]):
                    if not policy.skip:
                        break
                    policy.skip_head()
                    continue
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
                if policy is not None:
                    policy.started(j, step, tokens[j] - prompt[j])
                budget -= m
                sched.append((j, m))
            if policy is not None:
                policy.end_scan()

        if not sched:
            if ap < n:
                clock = max(clock, arrival_ns[order[ap]])
                continue
            raise RuntimeError("engine vllm: no request can be scheduled and none is arriving "
                               f"({len(waiting)} waiting, {free} of {total_blocks} blocks free)")

        in_use = total_blocks - free

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
                    if policy is not None:
                        policy.finished(j)
                else:
                    tokens[j] += 1
        step += 1

    if free != total_blocks:
        raise AssertionError(f"engine vllm: {total_blocks - free} blocks still in use at the end")
    return VllmOutcome(first_ns, done_ns, done_step, first_sched, step, preemptions, preempt_count,
                       recomputed, cached_tok, wasted, peak, decode_steps, mixed_steps, busy, block_steps,
                       join_step, log)
