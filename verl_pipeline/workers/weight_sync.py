"""`ray_store`: a verl checkpoint engine that moves trainer weights to a separate rollout pool through Ray.

verl's own engines for separate pools (nccl, hccl, nixl, mooncake, kimi) all need GPUs or RDMA, and `naive`
works only when trainer and rollout share a process. This engine needs neither: the trainer's rank 0 packs the
full tensors into buckets (one flat uint8 buffer each), puts them in the Ray object store and posts the object
refs to a small mailbox actor; every rollout worker reads the buckets in order and unpacks them. On one node the
object store is shared memory, across nodes Ray moves the bytes, so the same engine serves a laptop and a
multi-node CPU cluster. It is the CPU path of `PipelinedPPOTrainer`'s weight push (NCCL is the GPU path).

It follows verl's `CheckpointEngine` protocol exactly (prepare -> build_topology -> init_process_group ->
send_weights || receive_weights -> finalize), so `CheckpointEngineManager` drives it unchanged.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import AsyncGenerator, Generator

import numpy as np
import ray
import torch
from verl.checkpoint_engine.base import CheckpointEngine, CheckpointEngineRegistry
from verl.workers.rollout.utils import ensure_async_iterator

BACKEND = "ray_store"


@dataclass(frozen=True)
class PackedTensor:
    name: str
    shape: tuple[int, ...]
    dtype: torch.dtype
    offset: int
    nbytes: int


def pack_bucket(tensors: list[tuple[str, torch.Tensor]]) -> tuple[np.ndarray, list[PackedTensor]]:
    """Concatenate tensors (any dtype, bf16 included) into one uint8 buffer plus their metadata."""
    metas, chunks, offset = [], [], 0
    for name, t in tensors:
        raw = t.detach().contiguous().cpu().view(-1).view(torch.uint8)
        metas.append(PackedTensor(name, tuple(t.shape), t.dtype, offset, raw.numel()))
        chunks.append(raw)
        offset += raw.numel()
    buffer = torch.cat(chunks).numpy() if chunks else np.empty(0, dtype=np.uint8)
    return buffer, metas


def unpack_bucket(buffer: np.ndarray, metas: list[PackedTensor]) -> Generator[tuple[str, torch.Tensor], None, None]:
    # Object-store arrays are read-only; copy once so the consumer owns writable tensors.
    flat = torch.from_numpy(np.array(buffer, copy=True))
    for m in metas:
        yield m.name, flat[m.offset : m.offset + m.nbytes].view(m.dtype).view(m.shape)


class WeightMailbox:
    """Ray actor: ordered bucket refs of one weight push, read by every rollout worker, then dropped."""

    def __init__(self) -> None:
        self._buckets: dict[int, list] = {}
        self._reads: dict[int, int] = {}
        self._closed: dict[int, int] = {}
        self._readers: dict[int, int] = {}
        self._changed = asyncio.Condition()

    async def post(self, version: int, index: int, ref_in_list: list) -> None:
        async with self._changed:
            self._buckets.setdefault(version, []).append(ref_in_list[0])
            self._changed.notify_all()

    async def close(self, version: int, num_buckets: int, num_readers: int) -> None:
        async with self._changed:
            self._closed[version] = num_buckets
            self._readers[version] = num_readers
            self._changed.notify_all()

    async def fetch(self, version: int, index: int) -> list | None:
        """The ref of bucket `index` (wrapped in a list so Ray does not resolve it), or None past the end."""
        async with self._changed:
            while True:
                buckets = self._buckets.get(version, [])
                if index < len(buckets):
                    return [buckets[index]]
                if version in self._closed and index >= self._closed[version]:
                    return None
                await self._changed.wait()

    async def done(self, version: int) -> None:
        """A reader finished `version`; once all have, drop the refs so the object store can free them."""
        async with self._changed:
            self._reads[version] = self._reads.get(version, 0) + 1
            if self._reads[version] >= self._readers.get(version, 1):
                for d in (self._buckets, self._reads, self._closed, self._readers):
                    d.pop(version, None)


@CheckpointEngineRegistry.register(BACKEND)
class RayStoreCheckpointEngine(CheckpointEngine):
    """Weights from trainer rank 0 to all rollout workers via the Ray object store."""

    def __init__(self, bucket_size: int, is_master: bool = False, **_kwargs) -> None:
        self.bucket_size = max(int(bucket_size), 1 << 20)
        self.is_master = is_master
        self._mailbox_name: str | None = None
        self._role: str | None = None
        self._rank = 0
        self._num_receivers = 0
        self._version = 0

    def prepare(self) -> dict:
        if self.is_master and self._mailbox_name is None:
            # the mailbox lives as long as trainer rank 0 (its owner) and is reused for every push
            self._mailbox_name = f"verl_pipeline_weight_mailbox_{uuid.uuid4().hex[:12]}"
            # Keep the creating handle for the engine's lifetime: Ray destroys a (non-detached) actor as soon as
            # its owner drops the handle, whatever handles other processes obtained by name.
            self._owned_mailbox = ray.remote(WeightMailbox).options(name=self._mailbox_name, num_cpus=0).remote()
        return {"mailbox": self._mailbox_name if self.is_master else None}

    @classmethod
    def build_topology(cls, actor_wg_world_size: int, rollout_world_size: int, metadata: list[dict]):
        mailbox = next((m["mailbox"] for m in metadata[:actor_wg_world_size] if m and m.get("mailbox")), None)
        if mailbox is None:
            raise RuntimeError("ray_store: no trainer rank created a weight mailbox (is_master missing on rank 0?)")
        actor = {
            "role": ["sender"] * actor_wg_world_size,
            "rank": list(range(actor_wg_world_size)),
            "mailbox": [mailbox] * actor_wg_world_size,
            "num_receivers": [rollout_world_size] * actor_wg_world_size,
        }
        rollout = {
            "role": ["receiver"] * rollout_world_size,
            "rank": list(range(rollout_world_size)),
            "mailbox": [mailbox] * rollout_world_size,
            "num_receivers": [rollout_world_size] * rollout_world_size,
        }
        return actor, rollout

    def init_process_group(self, role: str, rank: int, mailbox: str, num_receivers: int) -> None:
        self._role, self._rank, self._num_receivers = role, rank, num_receivers
        self._mailbox_name = mailbox
        self._mailbox = getattr(self, "_owned_mailbox", None) or ray.get_actor(mailbox)

    def finalize(self) -> None:
        return None

    async def send_weights(self, weights, global_steps: int | None = None) -> dict:
        # Every trainer rank iterates the generator (FSDP gathers full tensors collectively); rank 0 sends.
        version = self._next_version(global_steps)
        pending: list[tuple[str, torch.Tensor]] = []
        pending_bytes, index, sent_bytes = 0, 0, 0
        async for name, tensor in ensure_async_iterator(weights):
            if self._rank != 0:
                continue
            pending.append((name, tensor.detach().cpu().clone()))
            pending_bytes += tensor.nbytes
            if pending_bytes >= self.bucket_size:
                sent_bytes += await self._post(version, index, pending)
                index, pending, pending_bytes = index + 1, [], 0
        if self._rank == 0:
            if pending:
                sent_bytes += await self._post(version, index, pending)
                index += 1
            await self._mailbox.close.remote(version, index, self._num_receivers)
        return {"weight_sync/bytes": float(sent_bytes)} if self._rank == 0 else {}

    async def _post(self, version: int, index: int, tensors: list[tuple[str, torch.Tensor]]) -> int:
        buffer, metas = pack_bucket(tensors)
        ref = ray.put((buffer, metas))
        await self._mailbox.post.remote(version, index, [ref])
        return int(buffer.nbytes)

    async def receive_weights(self, global_steps: int | None = None) -> AsyncGenerator[tuple[str, torch.Tensor], None]:
        version = self._next_version(global_steps)
        index = 0
        while True:
            wrapped = await self._mailbox.fetch.remote(version, index)
            if wrapped is None:
                break
            buffer, metas = await wrapped[0]
            for item in unpack_bucket(buffer, metas):
                yield item
            index += 1
        await self._mailbox.done.remote(version)

    def _next_version(self, global_steps: int | None) -> int:
        # Sender and receivers count pushes the same way, so they agree on the key even without global_steps.
        self._version = int(global_steps) if global_steps is not None else self._version + 1
        return self._version
