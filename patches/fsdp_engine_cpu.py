"""Patch: verl registers its FSDP training engines for CUDA and NPU devices only."""

from __future__ import annotations

from types import ModuleType

TARGET = "verl.workers.engine.fsdp.transformer_impl"


def patch_fsdp_engine_for_cpu(transformer_impl: ModuleType) -> None:
    """Register verl's FSDP/FSDP2 language-model and value-model engines for the `cpu` device.

    Symptom: building the actor fails with
        ValueError: No engine registered for device='cpu', vendor='cpu', model_type='language_model', backend='fsdp2'
    Cause: `@EngineRegistry.register(..., device=["cuda", "npu"])` on `FSDPEngineWithLMHead` and
        `FSDPEngineWithValueHead`; FSDP2 (`fully_shard`) itself runs on CPU tensors with gloo.
    Upstream: verl 0.9.1 `verl/workers/engine/fsdp/transformer_impl.py:1143,1594`.
    Checked: verl 0.9.1.
    Delete when: verl registers these engines for `cpu` (or adds a CPU engine).
    """
    from verl.workers.engine.base import EngineRegistry

    for model_type, engine_cls in (
        ("language_model", transformer_impl.FSDPEngineWithLMHead),
        ("value_model", transformer_impl.FSDPEngineWithValueHead),
    ):
        backends = EngineRegistry._engines.setdefault(model_type, {})
        for backend in ("fsdp", "fsdp2"):
            backends.setdefault(backend, {}).setdefault("cpu", engine_cls)
