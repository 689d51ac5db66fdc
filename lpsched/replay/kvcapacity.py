"""KV-cache capacity of a vLLM deployment, computed the way vLLM sizes its cache at start-up.

vLLM (v1, 0.7 and later) profiles one forward pass at start-up and gives the KV cache whatever is
left of its share of the GPU::

    requested  = total GPU memory · gpu_memory_utilization
    non_kv     = weights + peak activation of the profiling pass + non-torch memory
    num_blocks = ⌊(requested − non_kv) / (block_size · bytes per token)⌋
    bytes per token = 2 (K and V) · layers · kv_heads · head_dim · dtype bytes

``kv_tokens = num_blocks · block_size``. The weights are ``params · dtype bytes``. The two terms
vLLM measures and we estimate:

* the activation peak of the profiling pass over ``max_num_batched_tokens`` tokens ``T``: inside
  the MLP the residual, the normed input, the gate/up projection and its activation are live,
  ``T·(2·hidden + 3·intermediate)·dtype`` bytes; then the sampler's dummy pass holds the float32
  logits of ``max_num_seqs`` sequences and one same-sized working copy,
  ``2·max_num_seqs·vocab·4`` bytes; the larger of the two counts;
* the non-torch memory (CUDA context, cuBLAS/cuDNN workspaces): a fixed ``non_torch_bytes``,
  0.5 GiB by default.

On the RTX 4090 run (25,250,627,584 bytes, utilisation 0.9, Llama-3.1-8B bf16, 2,048 batched
tokens, 256 sequences) this gives 2,796 blocks = 44,736 tokens against the 2,588 blocks = 41,408
tokens vLLM reported: +8.0 %, i.e. vLLM kept 436 MB more outside the KV cache than this estimate
(docs/validation.md measures what that costs). When the run's metadata gives vLLM's own
``num_gpu_blocks``, use that.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..errors import OptionError

__all__ = ["ModelShape", "MODEL_SHAPES", "Deployment", "kv_capacity", "model_shape"]


@dataclass(frozen=True)
class ModelShape:
    """The numbers of a decoder-only model that size its weights and KV cache."""

    layers: int
    kv_heads: int
    head_dim: int
    hidden: int
    intermediate: int
    vocab: int
    params: int
    dtype_bytes: int = 2

    def kv_bytes_per_token(self) -> int:
        return 2 * self.layers * self.kv_heads * self.head_dim * self.dtype_bytes


#: Shapes from the models' published configurations (Hugging Face ``config.json``).
MODEL_SHAPES: dict[str, ModelShape] = {
    "meta-llama/Llama-3.1-8B": ModelShape(32, 8, 128, 4096, 14336, 128256, 8_030_261_248),
    "meta-llama/Llama-3.1-70B": ModelShape(80, 8, 128, 8192, 28672, 128256, 70_553_706_496),
    "meta-llama/Llama-2-7b-hf": ModelShape(32, 32, 128, 4096, 11008, 32000, 6_738_415_616),
    "meta-llama/Llama-2-70b-hf": ModelShape(80, 8, 128, 8192, 28672, 32000, 68_976_648_192),
}


def model_shape(name: str) -> ModelShape:
    """A known shape by Hugging Face name (the ``Meta-`` prefix and ``-Instruct`` suffix are ignored)."""
    key = name.replace("Meta-Llama", "Llama").replace("-Instruct", "").replace("-chat", "")
    for k, v in MODEL_SHAPES.items():
        if k.lower() == key.lower() or k.split("/")[-1].lower() == key.split("/")[-1].lower():
            return v
    raise OptionError(f"unknown model '{name}' (known: {', '.join(MODEL_SHAPES)}; or give the shape options)")


@dataclass(frozen=True)
class Deployment:
    """What a vLLM deployment is started with (defaults: vLLM's)."""

    gpu_memory_bytes: int
    shape: ModelShape
    gpu_memory_utilization: float = 0.9
    block_size: int = 16
    max_num_batched_tokens: int = 2048
    max_num_seqs: int = 256
    tensor_parallel: int = 1
    non_torch_bytes: int = 1 << 29

    def __post_init__(self) -> None:
        if self.gpu_memory_bytes <= 0:
            raise OptionError(f"deployment: GPU memory must be > 0 bytes, got {self.gpu_memory_bytes}")
        if not 0.0 < self.gpu_memory_utilization <= 1.0:
            raise OptionError(f"deployment: gpu_memory_utilization must be in (0, 1], got "
                              f"{self.gpu_memory_utilization}")
        if self.tensor_parallel < 1:
            raise OptionError(f"deployment: tensor_parallel must be >= 1, got {self.tensor_parallel}")


def kv_capacity(d: Deployment) -> dict[str, Any]:
    """Blocks and tokens of KV cache per GPU (module docstring), with every term of the sum."""
    s = d.shape
    tp = d.tensor_parallel
    requested = int(d.gpu_memory_bytes * d.gpu_memory_utilization)
    weights = s.params * s.dtype_bytes // tp
    mlp = d.max_num_batched_tokens * (2 * s.hidden + 3 * s.intermediate // tp) * s.dtype_bytes
    sampler = 2 * d.max_num_seqs * s.vocab * 4
    activation = max(mlp, sampler)
    non_kv = weights + activation + d.non_torch_bytes
    per_block = d.block_size * s.kv_bytes_per_token() // tp
    blocks = max((requested - non_kv) // per_block, 0)
    return {"blocks": int(blocks), "tokens": int(blocks * d.block_size), "requested_bytes": requested,
            "weights_bytes": weights, "activation_bytes": activation, "non_torch_bytes": d.non_torch_bytes,
            "kv_bytes": int(blocks * per_block), "bytes_per_block": per_block,
            "deployment": {**asdict(d), "shape": asdict(s)}}
