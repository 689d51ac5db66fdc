"""The vLLM step engine with aggregate decode state: same steps as the reference, fewer operations.

:func:`~lpsched.online.vllm_engine.run_vllm_steps` touches every running request every step. Here a
running request that only decodes (its prefill done, one token a step) is kept implicitly: from the
step ``g0`` on which it started decoding its context is ``computed = base + G`` at step ``G`` and its
generated count ``gbase + G``. The engine keeps over the decoding set only what a step needs:

* their number and ``Σ base`` (the context sum of the step), a heap of ``base`` (the longest
  context, for the skew correction), a heap of completion steps;
* a histogram of ``base mod block_size``: at step ``G`` a decoding request needs a new block iff
  its context is a multiple of the block size, i.e. ``hist[(-G) mod block_size]`` blocks in all.

The few other running requests (a partial prefill, the requests just admitted) are explicit, and
they always come after the decoding ones in admission order. A step whose allocations all fit and
whose token budget covers every running request is planned in O(1) plus the explicit requests;
when the blocks do not all fit, the reference's per-request loop runs that step over the implicit
state (a preempted decoding request is made explicit); when the token budget is smaller than the
batch, every decoding request is made explicit for that step. A stretch of decode-only steps (no prefill,
nobody admissible, no completion, every block free) is advanced in one go: its durations are one
vectorised call of the timing model. Arrivals during a stretch join at the step they would have
joined (the stretch stops at an arrival only when nobody is waiting, since only then can it be
admitted). Under a policy (:mod:`lpsched.online.vllm_policies`) a stretch also stops at the step
at which the blocked head would pass the policy's check (``PeakIndex.earliest_fit``) and at the
first arrival that would go ahead of the head in the policy's order; the policy's victim may be any
running request, one already scheduled in the step included (it gives back its tokens and its
block of this step). The tests require exactly the reference's outcome. The reference is kept as separate
code on purpose (it is the independent side of that differential test), so the scheduling rules
read alike in both files; within this file a preemption is one function (``preempt``).
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import deque
from itertools import accumulate

from .profile import ProfileTiming
from .timing import TimingModel
from .vllm_config import VLLM_PRESET, StepTimer, VllmConfig, VllmOutcome, check_requests
from .vllm_policies import StepPolicy

__all__ = ["run_vllm_fast"]


def run_vllm_fast(prompt: list[int], output: list[int], arrival_ns: list[int], kv_tokens: int,
                  timing: TimingModel | ProfileTiming, cfg: VllmConfig = VLLM_PRESET,
                  record_steps: bool = False, policy: StepPolicy | None = None) -> VllmOutcome:
    """Replay the requests through the vLLM v1 scheduler model (module docstring)."""
    n = len(prompt)
    bs = cfg.block_size
    total_blocks = check_requests(prompt, output, kv_tokens, bs)
    budget_cap = cfg.max_num_batched_tokens or (1 << 62)
    seq_cap = cfg.max_num_seqs or (1 << 62)
    wm_blocks = int(cfg.watermark * total_blocks)
    resume = cfg.semantics == "resume"
    timer = StepTimer(timing)

    # explicit state (of every request not decoding; a decoding request's is written on demand)
    tokens = list(prompt)
    computed = [0] * n
    generated = [0] * n
    held = [0] * n
    cache_end = [0] * n
    cache_blocks = [0] * n
    first_ns = [-1] * n
    done_ns = [0] * n
    done_step = [0] * n
    first_sched = [-1] * n
    preempt_count = [0] * n
    join_step = [0] * n
    # implicit state of decoding requests
    in_dec = [False] * n
    base = [0] * n
    gbase = [0] * n
    ver = [0] * n
    hist = [0] * bs
    n_dec_set = 0
    sum_base = 0
    max_heap: list[tuple[int, int, int]] = []  # (-base, version, j)
    done_heap: list[tuple[int, int, int]] = []  # (completion step, version, j)
    if policy is not None:  # the policy's victim key reads the generated tokens
        policy.v.generated_fn = lambda j: gbase[j] + G if in_dec[j] else generated[j]

    order = sorted(range(n), key=lambda j: (arrival_ns[j], j))
    ap = 0
    waiting: deque[int] | StepPolicy = deque() if policy is None else policy
    running: list[int] = []  # admission order; the decoding requests are its first n_dec_set
    free = total_blocks
    head = 0
    tail = total_blocks
    clock = 0
    G = 0
    finished = 0
    preemptions = recomputed = cached_tok = wasted = 0
    peak = 0
    decode_steps = mixed_steps = 0
    block_steps = 0
    busy = 0
    log: list[tuple[int, int, int, int]] | None = [] if record_steps else None

    def release(j: int) -> None:
        nonlocal free, tail
        b = held[j]
        free += b
        tail += b
        cache_end[j] = tail
        cache_blocks[j] = min(computed[j] // bs, b) if cfg.prefix_cache else 0
        held[j] = 0

    def enter(j: int, g: int) -> None:
        """``j`` decodes from step ``g`` on (its explicit state is that at the start of ``g``)."""
        nonlocal n_dec_set, sum_base
        b = computed[j] - g
        base[j] = b
        gbase[j] = generated[j] - g
        in_dec[j] = True
        ver[j] += 1
        hist[b % bs] += 1
        n_dec_set += 1
        sum_base += b
        heapq.heappush(max_heap, (-b, ver[j], j))
        heapq.heappush(done_heap, (output[j] - 1 - gbase[j], ver[j], j))

    def leave(j: int) -> None:
        """Write ``j``'s state at the start of step ``G`` and drop it from the decoding set."""
        nonlocal n_dec_set, sum_base
        c = base[j] + G
        computed[j] = c
        tokens[j] = c + 1
        generated[j] = gbase[j] + G
        held[j] = -(-c // bs)
        in_dec[j] = False
        ver[j] += 1
        hist[base[j] % bs] -= 1
        n_dec_set -= 1
        sum_base -= base[j]

    def preempt(k: int, extra: int = 0) -> int:
        """Preempt ``running[k]`` (``extra``: blocks it got earlier in this step while implicit): its
        blocks go back (cached for reuse), its generated tokens are kept (``resume``) or dropped, and
        it waits first in line (vLLM) or where the policy puts it."""
        nonlocal wasted, preemptions
        v = running.pop(k)
        if in_dec[v]:
            leave(v)
            held[v] += extra
        if policy is not None:
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
        return v

    def preempt_victim(i: int, sched: list[tuple[int, int]]) -> tuple[int, bool, int]:
        """Preempt the victim while ``running[i]`` needs blocks (``running[:i]`` are scheduled in this
        step): vLLM's last admitted, or the policy's choice. Returns it, whether it stood before
        ``i``, and the tokens it gives back to the budget (scheduled earlier in this step)."""
        if policy is None:
            return preempt(len(running) - 1), False, 0
        v = policy.victim(running, G)
        k = running.index(v)
        if k >= i:
            return preempt(k), False, 0
        if in_dec[v]:
            return preempt(k, 1 if (base[v] + G) % bs == 0 else 0), True, 1
        for q, (u, mu) in enumerate(sched):
            if u == v:
                del sched[q]
                return preempt(k), True, mu
        return preempt(k), True, 0

    def make_room(i: int, j: int, need: int, sched: list[tuple[int, int]]) -> tuple[bool, int, int]:
        """Preempt victims until ``need`` blocks are free for ``running[i] = j``. Returns whether ``j``
        is still running (not its own victim), its index now, and the tokens given back to the budget."""
        back = 0
        while need > free:
            v, before, got = preempt_victim(i, sched)
            if v == j:
                return False, i, back
            if before:
                back += got
                i -= 1
        return True, i, back

    def longest() -> int:
        while max_heap and ver[max_heap[0][2]] != max_heap[0][1]:
            heapq.heappop(max_heap)
        return -max_heap[0][0] + G if max_heap else 0

    def next_done() -> int:
        while done_heap and ver[done_heap[0][2]] != done_heap[0][1]:
            heapq.heappop(done_heap)
        return done_heap[0][0] if done_heap else 1 << 62

    while finished < n:
        if not running and not waiting and ap < n and arrival_ns[order[ap]] > clock:
            clock = arrival_ns[order[ap]]
        while ap < n and arrival_ns[order[ap]] <= clock:
            waiting.append(order[ap])
            join_step[order[ap]] = G
            ap += 1

        budget = budget_cap
        nd = n_dec_set
        sched: list[tuple[int, int]] = []  # explicit requests scheduled this step
        preempted = False
        planned = False
        if budget_cap >= len(running):
            need_total = hist[(-G) % bs] if nd else 0
            b = budget_cap - nd
            plan = []
            for i in range(nd, len(running)):
                j = running[i]
                m = min(tokens[j] - computed[j], b)
                if m <= 0:
                    continue
                need = -(-(computed[j] + m) // bs) - held[j]
                need_total += need
                plan.append((j, m, need))
                b -= m
            if need_total <= free:
                free -= need_total
                head += need_total
                for j, m, need in plan:
                    held[j] += need
                    sched.append((j, m))
                budget = b
            else:
                # not every block fits: the reference's loop in admission order, preempting from the
                # end; decoding requests stay implicit unless preempted
                b = budget_cap
                i = 0
                while i < len(running):
                    j = running[i]
                    dec = in_dec[j]
                    if dec:
                        m = 1
                        need = 1 if (base[j] + G) % bs == 0 else 0
                    else:
                        m = min(tokens[j] - computed[j], b)
                        if m <= 0:
                            i += 1
                            continue
                        need = -(-(computed[j] + m) // bs) - held[j]
                    if need > free:
                        preempted = True
                        ok, i, back = make_room(i, j, need, sched)
                        b += back
                        if not ok:  # itself preempted: serve the next (vLLM's FCFS: none is left)
                            continue
                    free -= need
                    head += need
                    if not dec:
                        held[j] += need
                        sched.append((j, m))
                    b -= m
                    i += 1
                budget = b
                nd = n_dec_set
            planned = True
        if not planned:
            # the reference's loop over explicit requests
            for j in running[:nd]:
                leave(j)
            nd = 0
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
                if need > free:
                    preempted = True
                    ok, i, back = make_room(i, j, need, sched)
                    budget += back
                    if not ok:  # itself preempted: serve the next (vLLM's FCFS: none is left)
                        continue
                free -= need
                head += need
                held[j] += need
                budget -= m
                sched.append((j, m))
                i += 1

        held_by_policy = False
        if not preempted:
            while waiting and budget > 0 and len(running) < seq_cap:
                j = waiting[0]
                if policy is not None and not policy.admits(j, G, tokens[j] - prompt[j]):
                    if not policy.skip:
                        held_by_policy = True
                        break
                    policy.skip_head()
                    continue
                hit = 0
                if cache_blocks[j]:
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
                free -= need
                head += need - hit
                held[j] = need
                computed[j] = cached
                if preempt_count[j]:
                    recomputed += tokens[j] - cached
                    cached_tok += cached
                cache_blocks[j] = 0
                if first_sched[j] < 0:
                    first_sched[j] = G
                running.append(j)
                if policy is not None:
                    policy.started(j, G, tokens[j] - prompt[j])
                budget -= m
                sched.append((j, m))
            if policy is not None:
                policy.end_scan()

        if not sched and not nd:
            if ap < n:
                clock = max(clock, arrival_ns[order[ap]])
                continue
            raise RuntimeError("engine vllm: no request can be scheduled and none is arriving "
                               f"({len(waiting)} waiting, {free} of {total_blocks} blocks free)")

        in_use = total_blocks - free

        # ---- a stretch of decode-only steps
        if (nd > 1 and not sched and not preempted
                and (not waiting or cfg.reserve_full or not cache_blocks[waiting[0]])):
            r = next_done() - G  # steps G .. G + r - 1 complete nobody
            if policy is not None and waiting and (held_by_policy or policy.skip):
                # the policy's check may pass later with nothing else changing: stop the stretch then
                h = waiting[0]
                wake = policy.wake(G, tokens[h] - prompt[h])
                if wake is not None:
                    r = min(r, wake - G)
            if r > 1:
                left = free
                cum = [0]
                s = 1
                while s < r:
                    need = hist[(-(G + s)) % bs]
                    if need > left:
                        break
                    left -= need
                    cum.append(free - left)
                    s += 1
                r = s
            if r > 1:
                durs = timer.decode_run(nd, sum_base + nd * G, longest(), r)
                ends = list(accumulate(durs, initial=clock))[1:]
                q = ap
                if q < n and waiting and policy is not None:
                    # under a policy an arrival may go ahead of the blocked head: stop at the first
                    # that does (arrivals queued behind it change nothing while the head waits)
                    last_start = ends[r - 2]
                    head_key = policy.head_key()
                    while q < n and arrival_ns[order[q]] <= last_start and policy.arrival_key(order[q]) > head_key:
                        q += 1
                if q < n and (policy is not None or not waiting):  # an arrival could be admitted: stop there
                    k = bisect_left(ends, arrival_ns[order[q]])
                    if k + 1 < r:
                        r = k + 1
                        durs = durs[:r]
                        ends = ends[:r]
            if r > 1:
                if ap < n:  # arrivals that join at a step inside the stretch
                    last_start = ends[r - 2]
                    while ap < n and arrival_ns[order[ap]] <= last_start:
                        j = order[ap]
                        waiting.append(j)
                        join_step[j] = G + 1 + bisect_left(ends, arrival_ns[j])
                        ap += 1
                grown = cum[r - 1]
                block_steps += r * in_use + sum(cum[:r])
                free -= grown
                head += grown
                peak = max(peak, total_blocks - free)
                if log is not None:
                    t = clock
                    for d, c in zip(durs, cum, strict=False):
                        log.append((t, nd, nd, in_use + c))
                        t += d
                span = ends[r - 1] - clock
                clock += span
                busy += span
                G += r
                decode_steps += r
                continue

        # ---- one step
        chunks: list[tuple[int, int]] = []
        n_dec = nd
        kv_dec = sum_base + nd * G
        kv_max = longest() if nd else 0
        T = nd
        kv_held = kv_dec + nd
        for j, m in sched:
            T += m
            kv_held += computed[j] + m
            if m == 1:
                n_dec += 1
                kv_dec += computed[j]
                if computed[j] > kv_max:
                    kv_max = computed[j]
            else:
                chunks.append((m, computed[j]))
        d = timer.step(chunks, n_dec, kv_dec, kv_max, kv_held)
        if log is not None:
            log.append((clock, T, nd + len(sched), in_use))
        clock += d
        busy += d
        peak = max(peak, in_use)
        block_steps += in_use
        if chunks:
            mixed_steps += 1
        else:
            decode_steps += 1
        # decoding requests that sample their last token in this step
        while nd and next_done() == G:
            _, _, j = heapq.heappop(done_heap)
            leave(j)
            computed[j] += 1
            held[j] = -(-computed[j] // bs)
            generated[j] += 1
            finished += 1
            done_ns[j] = clock
            done_step[j] = G
            running.remove(j)
            release(j)
            cache_blocks[j] = 0
            if policy is not None:
                policy.finished(j)
        fresh = []
        for j, m in sched:
            computed[j] += m
            if computed[j] == tokens[j]:
                generated[j] += 1
                if first_ns[j] < 0:
                    first_ns[j] = clock
                if generated[j] == output[j]:
                    finished += 1
                    done_ns[j] = clock
                    done_step[j] = G
                    running.remove(j)
                    release(j)
                    cache_blocks[j] = 0
                    if policy is not None:
                        policy.finished(j)
                else:
                    tokens[j] += 1
                    fresh.append(j)
        G += 1
        # requests whose prefill is done decode from the next step on; they follow the decoding
        # ones in admission order, and any request still prefilling follows them
        for j in fresh:
            if running[n_dec_set] != j:
                raise AssertionError("engine vllm: a decoding request is behind a prefilling one")
            enter(j, G)

    if free != total_blocks:
        raise AssertionError(f"engine vllm: {total_blocks - free} blocks still in use at the end")
    return VllmOutcome(first_ns, done_ns, done_step, first_sched, G, preemptions, preempt_count,
                       recomputed, cached_tok, wasted, peak, decode_steps, mixed_steps, busy, block_steps,
                       join_step, log)
