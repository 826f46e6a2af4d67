"""The producer side of the pipeline: a thread that samples batches (with their rewards) under the gate.

For each batch index b it draws the next prompts from the data loader, waits at the `PolicyVersionGate` until
the staleness bound allows sampling b, and runs verl's agent loop (which scores each sample in a reward worker
as soon as it finishes). The finished batch, tagged with the policy version that sampled it and the data-loader
position right after its prompts, goes on a queue for the trainer.

With partial rollout (`overlap=True`) each admitted batch generates in a thread of its own, so batch b + 1
starts (as the gate allows) while batch b's long tail still decodes and the engine stays full; the trainer
still receives the batches in index order.

Failure never hangs the trainer: any exception in these threads is recorded on the gate (waking every waiter)
and put on the queue, and `next_batch` re-raises it in the trainer's thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
from verl import DataProto

from verl_pipeline.pipeline.gate import PolicyVersionGate

logger = logging.getLogger(__name__)


@dataclass
class RolloutBatch:
    """One sampled batch, ready for the trainer."""

    index: int  # the training step this batch is meant for (1-based)
    batch: DataProto  # prompts repeated n times, joined with responses, rollout log-probs and rm_scores
    policy_version: int  # the weights version that sampled it
    epoch: int
    data_state: dict  # data-loader state right after this batch's prompts: the resume point
    gen_s: float  # wall time of sampling (rewards included)
    timing: dict[str, float] = field(default_factory=dict)
    finished_at: float = 0.0
    # time.monotonic() when the gate let generation start and when it ended (the trace checks these against
    # validation intervals: a batch's generation must not overlap a validation)
    gen_started_at: float = 0.0
    gen_ended_at: float = 0.0


class _Stop:
    pass


class RolloutProducerError(RuntimeError):
    """The rollout side failed (a dead rollout/reward worker, a generation error); raised in the trainer."""


class Rollouter:
    """Samples batches `first_index..last_index` in a background thread.

    Args:
        gate: the staleness gate shared with the trainer.
        batches: yields `(epoch, batch_dict, data_state_after)` in training order.
        generate: turns a prompt batch (with `uid`) into a generated batch (verl's agent loop).
        prepare: splits a prompt batch into the generation input (`_get_gen_batch` + repeat).
        first_index, last_index: the steps to produce batches for.
        overlap: generate admitted batches concurrently (partial rollout) instead of one after the other.
    """

    def __init__(
        self,
        gate: PolicyVersionGate,
        batches: Iterator[tuple[int, dict, dict]],
        generate: Callable[[DataProto], DataProto],
        prepare: Callable[[DataProto, int], tuple[DataProto, DataProto]],
        first_index: int,
        last_index: int,
        overlap: bool = False,
    ) -> None:
        self.gate = gate
        self._batches = batches
        self._generate = generate
        self._prepare = prepare
        self._next_index = first_index
        self._deliver_index = first_index
        self._last_index = last_index
        self._overlap = overlap
        self._arrived: dict[int, RolloutBatch] = {}
        self._queue: queue.Queue[RolloutBatch | BaseException | _Stop] = queue.Queue()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rollouter", daemon=True)
        self._generators: list[threading.Thread] = []

    def start(self) -> "Rollouter":
        self._thread.start()
        return self

    def next_batch(self, poll_s: float = 1.0) -> RolloutBatch:
        """The next batch in order; re-raises the producer's error; never blocks on a dead producer."""
        while self._deliver_index not in self._arrived:
            try:
                item = self._queue.get(timeout=poll_s)
            except queue.Empty:
                if not self._thread.is_alive() and not self._generators_alive():
                    raise RolloutProducerError("the rollout thread exited without producing the next batch") from None
                continue
            if isinstance(item, BaseException):
                raise RolloutProducerError(f"rollout failed: {item!r}") from item
            if isinstance(item, _Stop):
                raise RolloutProducerError("the data ran out before the last training step")
            self._arrived[item.index] = item
        self._deliver_index += 1
        return self._arrived.pop(self._deliver_index - 1)

    def _generators_alive(self) -> bool:
        return any(t.is_alive() for t in self._generators)

    def stop(self) -> None:
        self._stopping.set()
        self.gate.fail(RuntimeError("rollouter stopped"))
        self._thread.join(timeout=30)
        # batches still generating (partial rollout) are not waited for: their threads are daemons, and the
        # engines' shutdown right after ends their requests

    # ------------------------------------------------------------------ producer thread
    def _run(self) -> None:
        try:
            while self._next_index <= self._last_index and not self._stopping.is_set():
                try:
                    epoch, batch_dict, data_state = next(self._batches)
                except StopIteration:
                    for thread in self._generators:  # the batches already admitted come first
                        thread.join()
                    self._queue.put(_Stop())
                    return
                batch = DataProto.from_single_dict(batch_dict)
                batch.non_tensor_batch["uid"] = np.array([str(uuid.uuid4()) for _ in range(len(batch))], dtype=object)
                batch, gen_input = self._prepare(batch, self._next_index)
                version = self.gate.acquire_rollout(self._next_index)
                job = (self._next_index, epoch, batch, gen_input, data_state, version)
                if self._overlap:
                    thread = threading.Thread(target=self._sample_safely, args=job, name=f"rollout-{job[0]}",
                                              daemon=True)
                    self._generators = [t for t in self._generators if t.is_alive()] + [thread]
                    thread.start()
                else:
                    self._queue.put(self._sample(*job))
                self._next_index += 1
        except BaseException as exc:  # noqa: BLE001 - handed to the trainer thread, which re-raises it
            self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        if not self._stopping.is_set():
            logger.error("rollout thread failed: %r", exc)
        self.gate.fail(exc)
        self._queue.put(exc)

    def _sample_safely(self, *job) -> None:
        try:
            self._queue.put(self._sample(*job))
        except BaseException as exc:  # noqa: BLE001 - handed to the trainer thread, which re-raises it
            self._failed(exc)

    def _sample(self, index: int, epoch: int, batch: DataProto, gen_input: DataProto, data_state: dict,
                version: int) -> RolloutBatch:
        """Generate an admitted batch (the gate counted it as generating) and release the gate after."""
        started = time.monotonic()
        try:
            gen_output = self._generate(gen_input)
        finally:
            ended = time.monotonic()
            gen_s = ended - started
            self.gate.release_rollout()
        timing: dict[str, Any] = dict(gen_output.meta_info.pop("timing", {}) or {})
        return RolloutBatch(
            index=index,
            batch=batch.union(gen_output),
            policy_version=version,
            epoch=epoch,
            data_state=data_state,
            gen_s=gen_s,
            timing=timing,
            finished_at=time.monotonic(),
            gen_started_at=started,
            gen_ended_at=ended,
        )
