"""verl reward-loop manager ``deepcoder_code``: each sample judged by ``verl_pipeline.reward`` as it arrives.

Select it with ``reward.reward_manager.name=deepcoder_code`` once ``register_reward_manager()`` has
run in the process (``verl_pipeline.plugins`` does so in every process that imports verl's
registry). Options come from ``reward.reward_kwargs`` (add them with ``+reward.reward_kwargs.X=...``):

* ``max_concurrent``: judgements at once in this reward worker (default: CPU cores divided by
  ``reward.num_workers``, at least 1); each one holds one sandbox and about one core;
* ``time_limit_s``, ``memory_limit_mb``, ``max_tests``, ``float_tol``, ``output_limit_mb``,
  ``isolation``, ``rules``: passed to ``compute_score`` and override the per-row ``extra_info``.

``run_single`` never blocks the event loop: decoding and judging run in a bounded thread pool
shared by the managers of this process (the judging itself happens in sandbox processes). Only
the response tokens are decoded, never the prompt, so a code fence in the prompt cannot be taken
for the answer. The extra info carries, for logging: ``acc``, ``verdict``, ``failed_test`` (-1:
none), ``tests_run``, ``reason``, ``sandbox_retries`` (1 when a pooled sandbox had died and the
program was judged in a fresh one; verl's mean of it is the rate of such events), ``judge_s`` (judging wall time) and ``queue_s`` (time waiting
for a free slot). Every sample gets the same keys (verl stacks them into arrays).

This is the only module of ``verl_pipeline.reward`` that imports verl.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from verl import DataProto
from verl.experimental.reward_loop.reward_manager.base import RewardManagerBase

from .api import judge
from .sandbox import resolve_layer

logger = logging.getLogger(__name__)

NAME = "deepcoder_code"
JUDGE_OPTIONS = ("time_limit_s", "memory_limit_mb", "max_tests", "float_tol", "output_limit_mb", "isolation", "rules")


class DeepCoderCodeRewardManager(RewardManagerBase):
    """All-or-nothing code reward from sandboxed unit tests (see ``verl_pipeline.reward.api``)."""

    _executor: ThreadPoolExecutor | None = None
    _executor_size = 0
    _executor_lock = threading.Lock()

    def __init__(self, config, tokenizer, compute_score=None, reward_router_address=None,
                 reward_model_tokenizer=None, **kwargs: Any) -> None:
        super().__init__(config, tokenizer, compute_score)
        reward_cfg = config.get("reward") or {}
        options = dict(reward_cfg.get("reward_kwargs") or {})
        unknown = sorted(set(options) - set(JUDGE_OPTIONS) - {"max_concurrent"})
        if unknown:
            raise ValueError(
                f"reward.reward_kwargs has unknown keys {unknown} for the {NAME} manager; "
                f"known: max_concurrent, {', '.join(JUDGE_OPTIONS)}"
            )
        workers = max(1, int(reward_cfg.get("num_workers") or 1))
        default_concurrency = max(1, (os.cpu_count() or 1) // workers)
        max_concurrent = int(options.pop("max_concurrent", default_concurrency))
        if max_concurrent < 1:
            raise ValueError(f"reward.reward_kwargs.max_concurrent must be >= 1 (got {max_concurrent})")
        self.judge_options = options
        self.executor = self._shared_executor(max_concurrent)
        # detect (and log) the sandbox layer now: a worker that cannot sandbox fails at start-up
        resolve_layer(options.get("isolation"))

    @classmethod
    def _shared_executor(cls, size: int) -> ThreadPoolExecutor:
        with cls._executor_lock:
            if cls._executor is None:
                cls._executor = ThreadPoolExecutor(size, thread_name_prefix="deepcoder-reward")
                cls._executor_size = size
            elif size != cls._executor_size:
                logger.warning("%s: keeping %d concurrent judgements (asked for %d)", NAME, cls._executor_size, size)
            return cls._executor

    async def run_single(self, data: DataProto) -> dict:
        item = data[-1:][0]  # for multi-sequence outputs, only the last sequence is judged (as verl's naive)
        response_ids = item.batch["responses"]
        response_length = response_ids.shape[-1]
        valid_length = int(item.batch["attention_mask"][-response_length:].sum())
        response_ids = response_ids[:valid_length]
        data_source = item.non_tensor_batch["data_source"]
        ground_truth = item.non_tensor_batch["reward_model"]["ground_truth"]
        extra_info = item.non_tensor_batch.get("extra_info") or {}
        submitted = time.monotonic()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.executor, self._score, response_ids, data_source, ground_truth, extra_info, submitted
        )

    def _score(self, response_ids, data_source: str, ground_truth: Any, extra_info: dict, submitted: float) -> dict:
        started = time.monotonic()
        response = self.tokenizer.decode(response_ids, skip_special_tokens=True)
        verdict = judge(data_source, response, ground_truth, extra_info, **self.judge_options)
        return {
            "reward_score": 1.0 if verdict.acc else 0.0,
            "reward_extra_info": {
                "acc": verdict.acc,
                "verdict": verdict.verdict,
                "failed_test": -1 if verdict.failed_test is None else verdict.failed_test,
                "tests_run": verdict.tests_run,
                "reason": verdict.reason,
                "sandbox_retries": verdict.sandbox_retries,
                "judge_s": time.monotonic() - started,
                "queue_s": started - submitted,
            },
        }


def register_reward_manager() -> type[DeepCoderCodeRewardManager]:
    """Register the manager as ``deepcoder_code`` in verl's reward-loop registry (idempotent)."""
    from verl.experimental.reward_loop.reward_manager.registry import REWARD_MANAGER

    current = REWARD_MANAGER.get(NAME)
    cls = DeepCoderCodeRewardManager
    # the same class imported twice (a reload) is fine; anything else is a name clash
    same = current is None or (current.__module__, current.__qualname__) == (cls.__module__, cls.__qualname__)
    if not same:
        raise ValueError(f"reward manager {NAME!r} is already registered to {current!r}")
    REWARD_MANAGER[NAME] = cls
    return cls


# Importing this module registers the manager. The plugin (verl_pipeline/plugins.py) imports it when verl
# imports its reward-manager registry; this covers the other order, when this module is imported first and the
# plugin's hook finds it half-initialised.
register_reward_manager()
