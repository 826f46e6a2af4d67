"""A Hugging Face transformers rollout for verl, registered as rollout `hf` (CPU, or any torch device).

verl 0.9.1 generates only through rollout *servers* (vLLM, SGLang, TRT-LLM: all GPU builds). This module gives
it one that runs anywhere torch runs, so verl's real agent loop, reward loop, worker groups and weight sync can
be exercised on a laptop, and so other projects can drive a rollout pool on CPU.

Three pieces, mirroring verl's vLLM integration:
- `HFRolloutServer`: a Ray actor holding the model. `generate()` is token-in/token-out (`TokenOutput` with
  sampling log-probs); concurrent requests are batched on a background thread so the actor's event loop stays
  free for control calls. `update_weights()` loads a new state dict between batches and bumps the policy
  version, which every output reports in `extra_fields["global_steps"]`.
- `HFReplica(RolloutReplica)`: starts one server per replica, for verl's hybrid (colocated) and standalone
  (separate pool) modes.
- `HFServerAdapter(BaseRollout)`: the per-worker adapter verl builds inside its workers; it forwards weights
  from the trainer (hybrid) or from a checkpoint engine (standalone) to the server.

Not covered: tensor/pipeline parallelism (one process per replica), prefix caching, partial rollout (an abort
only takes effect between batches).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Generator

import ray
import torch
from verl.workers.rollout.base import BaseRollout
from verl.workers.rollout.replica import RolloutReplica, TokenOutput

from verl_pipeline.verl_compat import set_replica_server
from verl_pipeline.workers.hf_sampling import SamplingParams, sample_batch

logger = logging.getLogger(__name__)

ROLLOUT_NAME = "hf"
# seconds the batching thread waits after the first queued request for others to join its batch
_BATCH_WINDOW_S = float(os.environ.get("VERL_PIPELINE_HF_BATCH_WINDOW_S", "0.02"))


def server_actor_name(replica_rank: int) -> str:
    # The Ray job id keeps two runs on one cluster (or a restarted run) from sharing a server name.
    return f"hf_rollout_server_{ray.get_runtime_context().get_job_id()}_{replica_rank}"


def request_seed(base_seed: int, request_id: str, prompt_ids: list[int]) -> int:
    """A seed that depends only on the request, so a deterministic request id gives the same sample."""
    digest = hashlib.sha256(f"{base_seed}|{request_id}|{','.join(map(str, prompt_ids))}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


@dataclass
class _Request:
    prompt_ids: list[int]
    params: SamplingParams
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop


class HFRolloutServer:
    """Ray actor: a transformers model behind verl's token-in/token-out server interface."""

    def __init__(self, config, model_config, replica_rank: int = 0, num_threads: int | None = None) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.config = config
        self.replica_rank = replica_rank
        # rollout.engine_kwargs.hf: {num_threads, max_batch} (verl's seam for engine-specific settings)
        engine_kwargs = dict((_field(config, "engine_kwargs", None) or {}).get("hf", None) or {})
        threads = num_threads or int(engine_kwargs.get("num_threads", os.environ.get("VERL_PIPELINE_ROLLOUT_THREADS", 1)))
        torch.set_num_threads(threads)
        path = _model_path(model_config)
        trust_remote_code = bool(_field(model_config, "trust_remote_code", False))
        self.model = AutoModelForCausalLM.from_pretrained(
            path, torch_dtype=torch.float32, attn_implementation="sdpa", trust_remote_code=trust_remote_code
        ).eval()
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
        eos = set()
        for source in (tokenizer.eos_token_id, getattr(self.model.generation_config, "eos_token_id", None)):
            if source is None:
                continue
            eos.update(source if isinstance(source, (list, tuple)) else [source])
        self.eos_token_ids = eos
        self.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else next(iter(eos))
        self.max_model_len = int(config.prompt_length) + int(config.response_length)
        self.deterministic = bool(getattr(config, "full_determinism", False))
        self.base_seed = int(getattr(config, "seed", 0))
        # Deterministic runs default to one request at a time: the batch a request lands in then cannot change its
        # floats. Seeds are per request either way, so batching only risks float-level ties (set max_batch > 1).
        default_batch = 1 if self.deterministic else int(getattr(config, "max_num_seqs", 256))
        self.max_batch = max(1, int(engine_kwargs.get("max_batch", default_batch)))
        self.policy_version = 0
        self._model_lock = threading.Lock()  # generation vs. weight loading
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name="hf-rollout-batcher", daemon=True)
        self._thread.start()

    # ---------------------------------------------------------------- generation
    async def generate(self, request_id=None, *, prompt_ids: list[int], sampling_params: dict[str, Any], **_):
        params = self._sampling_params(request_id, list(prompt_ids), dict(sampling_params))
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put(_Request(list(prompt_ids), params, future, loop))
        sample, version, finished_at = await future
        return TokenOutput(
            token_ids=sample.token_ids,
            log_probs=sample.log_probs,
            stop_reason="completed",
            num_preempted=0,
            extra_fields={
                "global_steps": version,
                "min_global_steps": version,
                "max_global_steps": version,
                "finish_reason": sample.finish_reason,
                "gen_done_ts": finished_at,
            },
        )

    def _sampling_params(self, request_id, prompt_ids: list[int], sp: dict[str, Any]) -> SamplingParams:
        max_tokens = sp.get("max_tokens", sp.get("max_new_tokens", self.config.response_length))
        max_tokens = max(1, min(int(max_tokens), self.max_model_len - len(prompt_ids)))
        if self.deterministic and request_id is not None:
            seed = request_seed(self.base_seed, str(request_id), prompt_ids)
        else:
            seed = int.from_bytes(os.urandom(8), "little") >> 1
        top_k = sp.get("top_k", -1)
        return SamplingParams(
            max_tokens=max_tokens,
            temperature=float(sp.get("temperature", 1.0)),
            top_p=float(sp.get("top_p", 1.0)),
            top_k=-1 if top_k is None else int(top_k),
            seed=seed,
            ignore_eos=bool(sp.get("ignore_eos", False)),
        )

    def _serve(self) -> None:
        """Background thread: take queued requests in batches, generate, resolve their futures."""
        max_batch = self.max_batch
        while True:
            first = self._queue.get()
            if first is None:
                return
            if max_batch > 1:
                time.sleep(_BATCH_WINDOW_S)
            batch = [first]
            while len(batch) < max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                batch.append(item)
            try:
                with self._model_lock:
                    version = self.policy_version
                    samples = sample_batch(
                        self.model,
                        [r.prompt_ids for r in batch],
                        [r.params for r in batch],
                        self.eos_token_ids,
                        self.pad_token_id,
                    )
                finished_at = time.time()
                for r, s in zip(batch, samples):
                    r.loop.call_soon_threadsafe(_resolve, r.future, (s, version, finished_at))
            except BaseException as exc:  # noqa: BLE001 - the error belongs to the callers, not this thread
                logger.exception("hf rollout batch failed")
                for r in batch:
                    r.loop.call_soon_threadsafe(_fail, r.future, exc)

    # ---------------------------------------------------------------- weights
    def update_weights(self, state: dict[str, torch.Tensor], global_steps: int | None = None) -> int:
        """Load `state` (full tensors, HF names) between batches; return the new policy version."""
        own = self.model.state_dict()
        unknown = sorted(set(state) - set(own))
        if unknown:
            raise ValueError(f"hf rollout got weights the model does not have: {unknown[:5]} ...")
        with self._model_lock, torch.no_grad():
            for name, tensor in state.items():
                own[name].copy_(tensor.to(own[name].dtype))
            self.policy_version = int(global_steps) if global_steps is not None else self.policy_version + 1
        return self.policy_version

    def get_policy_version(self) -> int:
        return self.policy_version

    def set_global_steps(self, global_steps: int) -> None:
        self.policy_version = int(global_steps)

    def get_state_checksum(self) -> float:
        """Sum of all parameters: lets tests check that weights really arrived."""
        with self._model_lock:
            return float(sum(p.detach().double().sum() for p in self.model.parameters()))

    # ---------------------------------------------------------------- lifecycle (no device memory on CPU)
    async def wake_up(self, tags: list[str] | None = None) -> None:
        return None

    async def sleep(self) -> None:
        return None

    async def abort_all_requests(self, reject_request: bool = False) -> None:
        return None

    async def resume_generation(self) -> None:
        return None

    async def clear_kv_cache(self) -> None:
        return None

    async def release_kv_cache(self) -> None:
        return None

    async def resume_kv_cache(self) -> None:
        return None

    async def start_profile(self, **_kwargs) -> None:
        return None

    async def stop_profile(self) -> None:
        return None


def _field(config, name: str, default=None):
    # verl hands replicas its HFModelConfig dataclass in some paths and the raw DictConfig in others
    return config.get(name, default) if hasattr(config, "keys") else getattr(config, name, default)


def _model_path(model_config) -> str:
    return _field(model_config, "local_path") or _field(model_config, "path")


def _resolve(future: asyncio.Future, value) -> None:
    if not future.done():
        future.set_result(value)


def _fail(future: asyncio.Future, exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


class HFReplica(RolloutReplica):
    """One `HFRolloutServer` per replica; hybrid (inside trainer workers' pool) or standalone (own pool)."""

    async def launch_servers(self) -> None:
        if self.world_size != 1:
            raise ValueError(
                f"rollout 'hf' runs one process per replica, but tensor*data*pipeline parallel size is "
                f"{self.world_size}; set actor_rollout_ref.rollout.tensor_model_parallel_size=1 "
                "(and data/pipeline_model_parallel_size=1)"
            )
        node_id = await self.workers[0].__ray_call__.remote(lambda self: ray.get_runtime_context().get_node_id())
        server_cls = ray.remote(HFRolloutServer)
        server = server_cls.options(
            name=server_actor_name(self.replica_rank),
            num_cpus=0,
            max_concurrency=self.max_concurrency,
            scheduling_strategy=ray.util.scheduling_strategies.NodeAffinitySchedulingStrategy(
                node_id=node_id, soft=False
            ),
        ).remote(self.config, self.model_config, self.replica_rank)
        await server.get_policy_version.remote()  # surface model-load errors here, not at first request
        self.servers = [server]
        set_replica_server(self, server, f"hf-replica-{self.replica_rank}")


class HFServerAdapter(BaseRollout):
    """Adapter verl builds in each worker: forwards new weights to the replica's `HFRolloutServer`."""

    def __init__(self, config, model_config, device_mesh=None, replica_rank: int = -1, **kwargs) -> None:
        super().__init__(config, model_config, device_mesh)
        rank = int(os.environ.get("RANK", 0))
        # one process per replica, so the replica index is the rank unless verl says otherwise
        self.replica_rank = rank if replica_rank == -1 else replica_rank
        self.is_leader_rank = True
        self._server = None

    def _server_handle(self):
        if self._server is None:
            self._server = ray.get_actor(server_actor_name(self.replica_rank))
        return self._server

    async def resume(self, tags: list[str]) -> None:
        return None

    async def release(self) -> None:
        return None

    @torch.no_grad()
    async def update_weights(
        self,
        weights: Generator[tuple[str, torch.Tensor], None, None],
        wire_format: str = "named_tensors",
        global_steps: int | None = None,
        **kwargs,
    ) -> None:
        if wire_format != "named_tensors":
            raise ValueError(f"rollout 'hf' accepts full tensors only (wire_format='named_tensors'), got {wire_format!r}")
        from verl.workers.rollout.utils import ensure_async_iterator

        state = {}
        async for name, tensor in ensure_async_iterator(weights):
            # detach from the sender's (possibly reused) bucket before the next chunk overwrites it
            state[name] = tensor.detach().to("cpu", copy=True)
        await self._server_handle().update_weights.remote(state, global_steps)
