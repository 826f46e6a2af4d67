"""Patch: verl registers its FSDP training engines for CUDA and NPU devices only."""

from __future__ import annotations

from types import ModuleType

TARGET = "verl.workers.engine.fsdp.transformer_impl"
_MARK = "_verl_pipeline_cpu_engines"


def patch_fsdp_engine_for_cpu(transformer_impl: ModuleType) -> None:
    """Register verl's FSDP/FSDP2 language-model and value-model engines for the `cpu` device.

    Symptom: building the actor fails with
        ValueError: No engine registered for device='cpu', vendor='cpu', model_type='language_model', backend='fsdp2'
    Cause: `@EngineRegistry.register(..., device=["cuda", "npu"])` on `FSDPEngineWithLMHead` and
        `FSDPEngineWithValueHead`; FSDP2 (`fully_shard`) itself runs on CPU tensors with gloo. The fix goes
        through verl's public `EngineRegistry.register(..., device="cpu")`.
    Upstream: verl 0.9.1 `verl/workers/engine/fsdp/transformer_impl.py:1143,1594`.
    Checked: verl 0.9.1.
    Delete when: verl registers these engines for `cpu` (or adds a CPU engine); `register` then refuses the
        second registration and this patch says so.
    """
    from verl.workers.engine.base import EngineRegistry

    if getattr(transformer_impl, _MARK, False):
        return
    for model_type, engine_cls in (
        ("language_model", transformer_impl.FSDPEngineWithLMHead),
        ("value_model", transformer_impl.FSDPEngineWithValueHead),
    ):
        try:
            EngineRegistry.register(model_type=model_type, backend=["fsdp", "fsdp2"], device="cpu")(engine_cls)
        except AssertionError as err:  # verl's register asserts that a (device, vendor) key is new
            raise RuntimeError(
                f"verl already registers a {model_type} FSDP engine for device cpu ({err}): "
                "delete patches/fsdp_engine_cpu.py and its entry in patches/__init__.py"
            ) from err
    setattr(transformer_impl, _MARK, True)
