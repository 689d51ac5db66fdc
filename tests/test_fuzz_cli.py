"""Fuzz the CLI in-process with seeded mutations of valid instances, schedules, CSV and JSONL rows
and sweep specs (tests/hostile_cases.py): every call exits 0/1 with an independently checked result,
or 2 with one line on stderr; no traceback; inputs untouched; earlier outputs unchanged or whole."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hostile_cases import fuzz_cases, run_case

CASES_PER_SEED = 100


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mutated_inputs_get_a_result_or_one_clean_error(tmp_path, seed: int) -> None:
    cases = fuzz_cases(random.Random(seed), tmp_path, CASES_PER_SEED)
    kinds: Counter[str] = Counter()
    bad = []
    for case in cases:
        _res, verdict = run_case(case)
        kinds[verdict.kind] += 1
        if verdict.kind not in ("ok", "clean_error"):
            bad.append(f"{case.name}: {verdict.kind}: {verdict.detail} (argv {case.argv})")
    assert not bad, "\n".join(bad[:10])
    assert kinds["clean_error"] > 0 and kinds["ok"] > 0  # the mutations reach both outcomes
