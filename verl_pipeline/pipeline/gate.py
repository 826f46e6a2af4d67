"""When may the rollout sample the next batch, and when may weights move? The staleness bound, as a gate.

Two threads share one policy: the rollouter samples batch b, the trainer trains on batch s. Versions count
optimizer steps: the trainer's weights after step s are version s, so training step s starts from version
s - 1. A batch sampled with version v and trained at step s is `(s - 1) - v` steps stale. With a bound k
(`pipeline.max_staleness`):

- batch b may start sampling only once the rollout holds version >= b - 1 - k. k = 0 is synchronous
  on-policy training; k = 1 is DeepCoder's one-off pipelining (sample b + 1 while training on b).
- weights move (trainer -> rollout) only when both sides are idle: the rollout between batches, the trainer
  between steps. Whoever reaches that point second performs the sync, so neither side waits for a sync it
  does not need, and a sample's policy version is fixed for its whole generation.
- the trainer may hold the rollout engine for itself (validation): once asked for, no batch starts; the hold
  begins when no batch is generating, and while it lasts no weights move.

With `partial=True` (partial rollout) weights move as soon as the trainer is between steps, also while batches
generate: the push aborts their requests and they continue with the new weights, so a sample's tokens may come
from several versions, the oldest one at least the version its batch was admitted with (the bound above holds
for every token). Batches then overlap: batch b + 1 may start while b still generates, up to the bound.

State (all under one lock; each flag has one owner that sets and clears it):

    generating          batches in generation: +1 by acquire_rollout, -1 by release_rollout (rollout threads)
    trainer_busy        set and cleared by training()                         (trainer thread)
    hold_wanted, held   set and cleared by exclusive_rollout()               (trainer thread)
    syncing             set and cleared by _try_sync_locked()                (whoever syncs)

    acquire_rollout waits while: syncing or hold_wanted or held or rollout_version < required_version(batch)
    exclusive_rollout waits while: syncing or generating
    a sync runs only when: none of them is set (generating may be > 0 if partial) and rollout_version < trainer_version

This module knows nothing about verl or Ray (the sync itself is a callable), so its invariants are unit-tested
on plain threads.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Callable


class PipelineAborted(RuntimeError):
    """Raised in a waiting thread when the other side failed; the original error is its __cause__."""


class PolicyVersionGate:
    """Coordinates the rollout and the trainer under a staleness bound.

    Args:
        max_staleness: the bound k (>= 0).
        sync_weights: called as `sync_weights(version)` to push trainer weights of `version` to the rollout.
            It runs with both sides idle, outside the gate's lock.
        start_version: the version both sides hold at start (the resumed step, or 0).
    """

    def __init__(self, max_staleness: int, sync_weights: Callable[[int], None], start_version: int = 0,
                 partial: bool = False) -> None:
        if max_staleness < 0:
            raise ValueError(f"max_staleness must be >= 0, got {max_staleness}")
        self.max_staleness = max_staleness
        self.partial = partial
        self._sync_weights = sync_weights
        self._cond = threading.Condition()
        self.trainer_version = start_version
        self.rollout_version = start_version
        self._trainer_busy = False
        self._generating = 0
        self._hold_wanted = False
        self._held = False
        self._syncing = False
        self._error: BaseException | None = None
        # accounting, read and reset by the trainer once per step
        self.rollout_idle_s = 0.0
        self.sync_s = 0.0
        self.num_syncs = 0

    # ------------------------------------------------------------------ rollout side
    def required_version(self, batch_index: int) -> int:
        """Oldest weights allowed to sample batch `batch_index` (1-based: the batch trained at that step)."""
        return batch_index - 1 - self.max_staleness

    def acquire_rollout(self, batch_index: int) -> int:
        """Block until batch `batch_index` may be sampled; mark the rollout generating; return the version to use.

        Waits out a running sync, a hold by the trainer (validation) and a rollout that lags the bound.
        """
        started = time.monotonic()
        with self._cond:
            if self._generating and not self.partial:
                raise RuntimeError("acquire_rollout called twice without release_rollout")
            self._try_sync_locked()
            while (self._syncing or self._hold_wanted or self._held
                   or self.rollout_version < self.required_version(batch_index)):
                self._raise_if_failed()
                self._cond.wait(timeout=1.0)
                self._try_sync_locked()
            self._raise_if_failed()
            self._generating += 1
            self.rollout_idle_s += time.monotonic() - started
            return self.rollout_version

    def release_rollout(self) -> None:
        """The rollout finished a batch (at a boundary, if no other batch generates): a pending sync or hold may run."""
        with self._cond:
            if self._generating < 1:
                raise RuntimeError("release_rollout without acquire_rollout")
            self._generating -= 1
            self._try_sync_locked()
            self._cond.notify_all()

    # ------------------------------------------------------------------ trainer side
    @contextmanager
    def training(self):
        """Mark the trainer busy for one step's worth of trainer-worker calls (waits out a running sync)."""
        with self._cond:
            while self._syncing:
                self._raise_if_failed()
                self._cond.wait(timeout=1.0)
            self._trainer_busy = True
        try:
            yield
        finally:
            with self._cond:
                self._trainer_busy = False
                self._cond.notify_all()

    def publish(self, version: int) -> None:
        """The trainer finished step `version`; sync now if the rollout is idle, else at its next boundary."""
        with self._cond:
            if version <= self.trainer_version:
                raise ValueError(f"published version {version} is not newer than {self.trainer_version}")
            self.trainer_version = version
            self._try_sync_locked()
            self._cond.notify_all()

    @contextmanager
    def exclusive_rollout(self):
        """Hold the rollout engine for the trainer (validation).

        From the call on, no batch starts; the hold begins when no batch generates and no sync runs (the batches
        in flight finish first); while held, no batch starts and no weights move. Leaving the hold runs a pending
        sync if both sides are idle.
        """
        with self._cond:
            if self._held or self._hold_wanted:
                raise RuntimeError("exclusive_rollout is not reentrant")
            self._hold_wanted = True
            try:
                while self._generating or self._syncing:
                    self._raise_if_failed()
                    self._cond.wait(timeout=1.0)
                self._raise_if_failed()
            finally:
                self._hold_wanted = False
            self._held = True
        try:
            yield
        finally:
            with self._cond:
                self._held = False
                self._try_sync_locked()
                self._cond.notify_all()

    # ------------------------------------------------------------------ failure
    def fail(self, error: BaseException) -> None:
        """Record a fatal error of either side; every waiter raises PipelineAborted."""
        with self._cond:
            if self._error is None:
                self._error = error
            self._cond.notify_all()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise PipelineAborted(f"the pipeline stopped: {self._error!r}") from self._error

    # ------------------------------------------------------------------ sync
    def _try_sync_locked(self) -> None:
        """Push the newest weights if both sides are idle and the rollout is behind. Called with the lock held."""
        if self._error is not None or self._syncing or self._trainer_busy or self._held:
            return
        if self._generating and not self.partial:
            return
        if self.rollout_version >= self.trainer_version:
            return
        version = self.trainer_version
        self._syncing = True
        self._cond.release()
        started = time.monotonic()
        try:
            self._sync_weights(version)
        except BaseException as exc:  # noqa: BLE001 - recorded and re-raised in every waiter
            self._cond.acquire()
            self._syncing = False
            self._error = exc
            self._cond.notify_all()
            raise
        self._cond.acquire()
        self.sync_s += time.monotonic() - started
        self.num_syncs += 1
        self.rollout_version = version
        self._syncing = False
        self._cond.notify_all()

    def take_accounting(self) -> dict[str, float]:
        """Idle and sync time since the last call (per-step metrics)."""
        with self._cond:
            out = {"rollout_idle_s": self.rollout_idle_s, "sync_s": self.sync_s, "num_syncs": float(self.num_syncs)}
            self.rollout_idle_s = self.sync_s = 0.0
            self.num_syncs = 0
            return out
