"""The production path on a GPU: vLLM rollout, FSDP2 trainer (skipped on CPU).

One GPU: the vLLM engine's processes and the trainer worker share it (pipeline.rollout_placement=shared), weights
through verl's colocated CUDA-IPC path. Two or more GPUs: separate pools, NCCL weight sync.
"""

from __future__ import annotations

import pytest
from vp_testing import read_metrics, read_trace, run_main

pytestmark = [pytest.mark.gpu, pytest.mark.slow, pytest.mark.ray]


def _vllm_sized_tiny_model() -> str:
    # vLLM's attention kernels want a head_dim of 64 or more; the CPU tiny model's is 16
    from verl_pipeline.assets.tiny import TinyModelSpec, tiny_model_path

    return tiny_model_path(TinyModelSpec(hidden_size=256, intermediate_size=512, num_attention_heads=4,
                                         num_key_value_heads=2))


def test_one_gpu_shared_by_vllm_and_the_trainer(tmp_path):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    run_main([
        "+recipe=smoke",
        f"actor_rollout_ref.model.path={_vllm_sized_tiny_model()}",
        "trainer.device=cuda",
        "pipeline.rollout_placement=shared",
        "pipeline.max_staleness=1",
        "actor_rollout_ref.rollout.name=vllm",
        "actor_rollout_ref.rollout.gpu_memory_utilization=0.2",
        "actor_rollout_ref.rollout.enforce_eager=true",
        "actor_rollout_ref.rollout.max_model_len=2048",
        "ray_kwargs.ray_init.num_gpus=null",
        "trainer.total_training_steps=3",
        "trainer.save_freq=-1",
        "trainer.logger=[console,file]",
        f"trainer.default_local_dir={tmp_path / 'ckpt'}",
        f"pipeline.trace_file={tmp_path / 'trace.jsonl'}",
    ], tmp_path)
    steps = [m["data"] for m in read_metrics(tmp_path) if "timing_s/step" in m["data"]]
    assert len(steps) == 3 and steps[-1]["pipeline/rollout_version"] == 3.0
    assert all(0 <= s["pipeline/staleness_max"] <= 1 for s in steps)
    (placement,) = read_trace(tmp_path / "trace.jsonl", event="placement")
    # one node, one GPU: the engine runs beside the trainer worker
    assert set(placement["trainer_nodes"]) == set(placement["rollout_nodes"])


def test_pipelined_steps_on_gpu_with_vllm_and_nccl(tmp_path):
    import torch

    gpus = torch.cuda.device_count()
    if gpus < 2:
        pytest.skip("separate trainer and rollout pools need 2 GPUs here (one-GPU pools: see benchmarks/gpu)")
    run_main([
        "+recipe=smoke",
        "trainer.device=cuda",
        "actor_rollout_ref.rollout.name=vllm",
        "actor_rollout_ref.rollout.gpu_memory_utilization=0.3",
        "actor_rollout_ref.rollout.checkpoint_engine.backend=nccl",
        "actor_rollout_ref.model.override_config.attn_implementation=sdpa",
        "ray_kwargs.ray_init.num_gpus=null",
        "trainer.total_training_steps=3",
        "trainer.logger=[console,file]",
        f"trainer.default_local_dir={tmp_path / 'ckpt'}",
        f"pipeline.trace_file={tmp_path / 'trace.jsonl'}",
    ], tmp_path)
    steps = [m["data"] for m in read_metrics(tmp_path) if "timing_s/step" in m["data"]]
    assert len(steps) == 3 and [s["pipeline/rollout_version"] for s in steps] == [1.0, 2.0, 3.0]
    assert all(0 <= (t["step"] - 1) - t["policy_version"] <= 1 for t in read_trace(tmp_path / "trace.jsonl"))
