"""Rebuild the curated instance set in this folder from its generators and seeds.

Run ``python instances/build.py`` (needs ../shared/data for the trace samples). Every file records
its generator, parameters and seed in ``meta``; tests/test_instance_library.py regenerates each
one and checks it is identical, so the set is reproducible.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from lpsched import Instance, save_instance
from lpsched.generate import jaillet, paper, trace_sample
from lpsched.traces import shared_data_dir

HERE = Path(__file__).resolve().parent


def example_4jobs() -> Instance:
    """The worked example of docs/model.md."""
    return Instance.from_arrays(
        M=9, prompt=[2, 1, 3, 1], output=[3, 2, 2, 4], lower=[2, 1, 1, 2], upper=[6, 4, 4, 8],
        ids=["A", "B", "C", "D"], name="example-4jobs",
        meta={"generator": "hand", "seed": None, "doc": "docs/model.md worked example"},
    )


def recipes(data: Path | None) -> dict[str, Any]:
    """File name -> zero-argument function building it."""
    r: dict[str, Any] = {
        "example-4jobs": example_4jobs,
        "jaillet-zero-s1": lambda: jaillet(1),
        "jaillet-zero-s2": lambda: jaillet(2),
        "jaillet-poisson-s1": lambda: jaillet(1, arrivals="poisson"),
        "paper-s4-a0.25-n30": lambda: paper(1, n=30, s=4, lower=8, alpha=1 / 4, concurrency=10),
        "paper-s4-a0.0625-n30": lambda: paper(1, n=30, s=4, lower=8, alpha=1 / 16, concurrency=10),
        "paper-s50-a0.125-n30": lambda: paper(1, n=30, s=50, lower=8, alpha=1 / 8, concurrency=12),
        "paper-s4-a0.03125-n200": lambda: paper(2, n=200, s=4, lower=8, alpha=1 / 32, concurrency=16),
    }
    if data is not None:
        r.update({
            "azure-conv-n500-trace": lambda: trace_sample(
                1, path=data / "azure_llm_2023/AzureLLMInferenceTrace_conv.csv", fmt="azure", n=500,
                M=16_492, arrivals="trace", round_seconds=0.05, intervals="spread", alpha=0.5),
            "azure-code-n300-random": lambda: trace_sample(
                2, path=data / "azure_llm_2023/AzureLLMInferenceTrace_code.csv", fmt="azure", n=300,
                M=16_492, mode="random", intervals="exact"),
            "mooncake-conv-n300-trace": lambda: trace_sample(
                3, path=data / "mooncake_fast25/conversation_trace.jsonl", fmt="mooncake", n=300,
                M=467_000, arrivals="trace", round_seconds=0.02, intervals="spread", alpha=0.25),
            "sharegpt-n1000-crude": lambda: trace_sample(
                4, path=data / "sharegpt_sarathi/sharegpt_8k_filtered_stats_llama2_tokenizer.csv",
                fmt="lengths", n=1000, M=16_492, mode="random", intervals="common", lower=32, upper=1024),
            "arxiv-n300-spread": lambda: trace_sample(
                5, path=data / "arxiv_summarization_vidur/arxiv_summarization_stats_llama2_tokenizer_filtered_v2.csv",
                fmt="lengths", n=300, M=16_492, mode="random", intervals="spread", alpha=0.125),
            "llmservingsim-rtx4090-300": lambda: trace_sample(
                0, path=data / "llmservingsim_llama31_8b/RTX4090/vllm_measured/requests.jsonl",
                fmt="llmservingsim", n=300, M=41_408, arrivals="trace", round_seconds=0.03,
                intervals="exact"),
        })
    return r


def build(out: Path = HERE) -> list[Path]:
    """Write every recipe's instance as ``<name>.json`` (``name`` also set on the instance)."""
    written = []
    for name, make in recipes(shared_data_dir()).items():
        inst = make().replace(name=name)
        path = out / f"{name}.json"
        save_instance(inst, path)
        written.append(path)
    return written


if __name__ == "__main__":
    for p in build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(p)
