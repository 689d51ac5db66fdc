"""Independent brute force for tiny instances (used by the offline tests; no lpsched solver code).

Memory is re-computed here from docs/model.md §2 directly (a job started at k holds s + τ − k in rounds
k < τ <= k + o), on purpose independently of lpsched.memory, so the tests cross-check it.
"""

from __future__ import annotations


def brute_force_opt(M, arrival, prompt, output, max_makespan=None):
    """Minimum TEL over all start vectors (DFS with bound); optional cap on the makespan."""
    n = len(output)
    H = max(arrival) + sum(output) if max_makespan is None else max_makespan
    order = sorted(range(n), key=lambda i: -output[i])
    mem = [0] * (H + 2)
    best = [None]
    rest_min = [0] * (n + 1)
    for p in range(n - 1, -1, -1):
        rest_min[p] = rest_min[p + 1] + output[order[p]]

    def place(p, cost):
        if best[0] is not None and cost + rest_min[p] >= best[0]:
            return
        if p == n:
            best[0] = cost
            return
        i = order[p]
        s, o, a = prompt[i], output[i], arrival[i]
        for k in range(a, H - o + 1):
            if best[0] is not None and cost + (k - a + o) + rest_min[p + 1] >= best[0]:
                break
            ok = all(mem[k + r] + s + r <= M for r in range(1, o + 1))
            if not ok:
                continue
            for r in range(1, o + 1):
                mem[k + r] += s + r
            place(p + 1, cost + k + o - a)
            for r in range(1, o + 1):
                mem[k + r] -= s + r

    place(0, 0)
    return best[0]


def instance_opt(inst, max_makespan=None):
    """:func:`brute_force_opt` of an lpsched ``Instance`` (its arrays as plain ints)."""
    return brute_force_opt(inst.M, [int(x) for x in inst.arrival], [int(x) for x in inst.prompt],
                           [int(x) for x in inst.output], max_makespan)
