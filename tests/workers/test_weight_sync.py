"""ray_store with several readers at different paces: each reads every push whole, and the mailbox keeps a push's
buckets until the last reader is done with it (then drops them, so the object store can free them)."""

from __future__ import annotations

import asyncio

import pytest
import ray
import torch

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def ray_cluster():
    ray.init(num_cpus=2, num_gpus=0, include_dashboard=False, ignore_reinit_error=True)
    yield
    ray.shutdown()


def _engines(num_readers: int):
    from verl_pipeline.workers.weight_sync import RayStoreCheckpointEngine

    sender = RayStoreCheckpointEngine(bucket_size=1 << 20, is_master=True)
    readers = [RayStoreCheckpointEngine(bucket_size=1 << 20) for _ in range(num_readers)]
    metadata = [sender.prepare()] + [r.prepare() for r in readers]
    actor_kwargs, rollout_kwargs = RayStoreCheckpointEngine.build_topology(1, num_readers, metadata)
    sender.init_process_group(**{k: v[0] for k, v in actor_kwargs.items()})
    for i, r in enumerate(readers):
        r.init_process_group(**{k: v[i] for k, v in rollout_kwargs.items()})
    return sender, readers


def _weights(seed: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {"a.weight": torch.randn(300, 300, generator=gen),  # > one 1 MiB bucket of fp32: several buckets
            "b.bias": torch.randn(7, generator=gen).to(torch.bfloat16)}


def _send(sender, weights, version):
    return asyncio.run(sender.send_weights(iter(weights.items()), global_steps=version))


def _receive(reader, version):
    async def read():
        return {name: t.clone() async for name, t in reader.receive_weights(global_steps=version)}

    return asyncio.run(read())


def _versions_held(sender) -> list[int]:
    return sorted(ray.get(sender._mailbox.__ray_call__.remote(lambda mailbox: list(mailbox._buckets))))


def _assert_same(got, expected):
    assert set(got) == set(expected)
    for name, tensor in expected.items():
        assert got[name].dtype == tensor.dtype and torch.equal(got[name], tensor), name


def test_every_reader_gets_each_push_whole_and_the_mailbox_drops_it_after_the_last(ray_cluster):
    sender, (fast, slow, late) = _engines(3)
    first, second = _weights(1), _weights(2)
    _send(sender, first, version=1)
    _assert_same(_receive(fast, 1), first)
    assert _versions_held(sender) == [1]  # two readers still to come
    _send(sender, second, version=2)  # the next push arrives while version 1 is still being read
    _assert_same(_receive(fast, 2), second)
    _assert_same(_receive(slow, 1), first)
    _assert_same(_receive(late, 1), first)
    assert _versions_held(sender) == [2]  # version 1's last reader is done: its buckets are gone
    _assert_same(_receive(late, 2), second)
    _assert_same(_receive(slow, 2), second)
    assert _versions_held(sender) == []
