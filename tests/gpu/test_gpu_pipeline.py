"""The production path on a GPU: vLLM rollout replicas, FSDP2 trainer, NCCL weight sync (skipped on CPU)."""

from __future__ import annotations

import pytest
from vp_testing import read_metrics, read_trace, run_main

pytestmark = [pytest.mark.gpu, pytest.mark.slow, pytest.mark.ray]


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
