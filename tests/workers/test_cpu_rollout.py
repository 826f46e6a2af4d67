"""The hf rollout server and the ray_store weight-sync engine in a real (local) Ray cluster."""

from __future__ import annotations

import asyncio

import pytest
import ray
import torch

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def ray_cluster():
    ray.init(num_cpus=4, num_gpus=0, include_dashboard=False, ignore_reinit_error=True,
             runtime_env={"env_vars": {"VERL_PLATFORM": "cpu"}})
    yield
    ray.shutdown()


def _rollout_config(tiny_model_path, **overrides):
    from omegaconf import OmegaConf

    return OmegaConf.create({"prompt_length": 64, "response_length": 8, "max_num_seqs": 8, "seed": 0,
                             "full_determinism": True, **overrides}), OmegaConf.create({"path": tiny_model_path})


def test_server_generates_and_reports_its_policy_version(ray_cluster, tiny_model_path):
    from verl_pipeline.workers.hf_rollout import HFRolloutServer

    config, model_config = _rollout_config(tiny_model_path)
    server = ray.remote(HFRolloutServer).remote(config, model_config)
    out = ray.get(server.generate.remote("det-0", prompt_ids=[5, 6, 7], sampling_params={"temperature": 1.0}))
    assert 1 <= len(out.token_ids) <= 8 and len(out.log_probs) == len(out.token_ids)
    assert out.extra_fields["global_steps"] == 0
    # a deterministic request id gives the same sample again
    again = ray.get(server.generate.remote("det-0", prompt_ids=[5, 6, 7], sampling_params={"temperature": 1.0}))
    assert again.token_ids == out.token_ids

    # new weights change what it samples, and the version it reports
    from transformers import AutoModelForCausalLM

    state = AutoModelForCausalLM.from_pretrained(tiny_model_path).state_dict()
    zeroed = {k: torch.zeros_like(v) for k, v in state.items() if "embed_tokens" in k}
    before = ray.get(server.get_state_checksum.remote())
    assert ray.get(server.update_weights.remote(zeroed, 7)) == 7
    assert ray.get(server.get_state_checksum.remote()) != before
    out = ray.get(server.generate.remote("det-0", prompt_ids=[5, 6, 7], sampling_params={"temperature": 1.0}))
    assert out.extra_fields["global_steps"] == 7


def test_server_rejects_weights_the_model_does_not_have(ray_cluster, tiny_model_path):
    from verl_pipeline.workers.hf_rollout import HFRolloutServer

    config, model_config = _rollout_config(tiny_model_path)
    server = ray.remote(HFRolloutServer).remote(config, model_config)
    with pytest.raises(ray.exceptions.RayTaskError, match="does not have"):
        ray.get(server.update_weights.remote({"model.nonexistent.weight": torch.zeros(2)}, 1))


def test_ray_store_engine_moves_every_tensor_exactly(ray_cluster):
    """verl's checkpoint-engine protocol, end to end: prepare, topology, send || receive, in buckets."""
    from verl_pipeline.workers.weight_sync import RayStoreCheckpointEngine

    weights = {
        "a.weight": torch.randn(300, 300),  # > one 1 MiB bucket of fp32
        "b.bias": torch.randn(7).to(torch.bfloat16),
        "c.scale": torch.tensor([3.5], dtype=torch.float16),
    }
    sender = RayStoreCheckpointEngine(bucket_size=1 << 20, is_master=True)
    receivers = [RayStoreCheckpointEngine(bucket_size=1 << 20) for _ in range(2)]
    metadata = [sender.prepare()] + [r.prepare() for r in receivers]
    actor_kwargs, rollout_kwargs = RayStoreCheckpointEngine.build_topology(1, 2, metadata)
    sender.init_process_group(**{k: v[0] for k, v in actor_kwargs.items()})
    for i, r in enumerate(receivers):
        r.init_process_group(**{k: v[i] for k, v in rollout_kwargs.items()})

    async def receive(engine):
        return {name: t.clone() async for name, t in engine.receive_weights(global_steps=3)}

    async def both():
        return await asyncio.gather(sender.send_weights(iter(weights.items()), global_steps=3),
                                    *[receive(r) for r in receivers])

    sent_metrics, *received = asyncio.run(both())
    assert sent_metrics["weight_sync/bytes"] == sum(t.nbytes for t in weights.values())
    for got in received:
        assert set(got) == set(weights)
        for name, tensor in weights.items():
            assert got[name].dtype == tensor.dtype and torch.equal(got[name], tensor)
