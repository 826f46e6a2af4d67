"""The staleness gate: the bound holds for 0, 1 and 2, weights move only when both sides are idle, and a
failure on one side wakes the other instead of hanging it. Plain threads, no verl or Ray."""

from __future__ import annotations

import random
import threading
import time

import pytest

from verl_pipeline.pipeline.gate import PipelineAborted, PolicyVersionGate


# what may not use the engine or the weights at the same time (symmetric: checked by whoever starts second);
# a batch and a training step may overlap, which is the point of the pipeline
CONFLICTS = {
    "sync": {"batch", "validation", "train"},
    "batch": {"validation", "sync"},
    "validation": {"batch", "sync"},
    "train": {"sync"},
}


class Sim:
    """A rollout thread and a trainer thread driving the gate with random work times; with `val_s` the trainer
    also validates (holds the rollout) after every step.

    Records the policy version each trained batch was sampled with, and every overlap of two uses that
    `CONFLICTS` forbids (a sync while a side works, a validation while a batch generates)."""

    def __init__(self, k: int, steps: int, gen_s: float, train_s: float, val_s: float | None = None, seed: int = 0):
        self.k, self.steps, self.gen_s, self.train_s, self.val_s = k, steps, gen_s, train_s, val_s
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.busy: set[str] = set()
        self.overlaps: list[tuple] = []
        self.trained: list[tuple[int, int]] = []  # (step, version the batch was sampled with)
        self.gate = PolicyVersionGate(k, lambda version: self._use("sync", 0.001))
        self.ready: dict[int, int] = {}
        self.ready_cond = threading.Condition()

    def _use(self, what: str, seconds: float) -> None:
        with self.lock:
            if self.busy & CONFLICTS[what]:
                self.overlaps.append((what, sorted(self.busy & CONFLICTS[what])))
            self.busy.add(what)
            seconds *= self.rng.uniform(0.5, 1.5)
        time.sleep(seconds)
        with self.lock:
            self.busy.discard(what)

    def rollout(self):
        for b in range(1, self.steps + 1):
            version = self.gate.acquire_rollout(b)
            self._use("batch", self.gen_s)
            self.gate.release_rollout()
            with self.ready_cond:
                self.ready[b] = version
                self.ready_cond.notify_all()

    def trainer(self):
        for s in range(1, self.steps + 1):
            with self.ready_cond:
                while s not in self.ready:
                    self.ready_cond.wait()
                self.trained.append((s, self.ready[s]))
            with self.gate.training():
                self._use("train", self.train_s)
            self.gate.publish(s)
            if self.val_s is not None:
                with self.gate.exclusive_rollout():
                    self._use("validation", self.val_s)

    def run(self) -> "Sim":
        threads = [threading.Thread(target=self.rollout), threading.Thread(target=self.trainer)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
            assert not t.is_alive(), "deadlock"
        return self


@pytest.mark.parametrize("k", [0, 1, 2])
@pytest.mark.parametrize("gen_s,train_s", [(0.004, 0.001), (0.001, 0.004), (0.002, 0.002)])
def test_no_sample_is_older_than_the_bound(k, gen_s, train_s):
    sim = Sim(k, steps=30, gen_s=gen_s, train_s=train_s, seed=k).run()
    lags = [(s - 1) - version for s, version in sim.trained]
    assert all(0 <= lag <= k for lag in lags), lags
    assert [s for s, _ in sim.trained] == list(range(1, 31))
    assert sim.overlaps == [], "weights moved while a side was working"


def test_one_step_off_is_exactly_one_stale_when_sampling_is_fast():
    # DeepCoder's regime: after the first step every batch was sampled by the previous step's weights
    sim = Sim(1, steps=20, gen_s=0.001, train_s=0.005).run()
    assert [(s - 1) - v for s, v in sim.trained][1:] == [1] * 19


def test_synchronous_mode_trains_on_policy():
    sim = Sim(0, steps=10, gen_s=0.002, train_s=0.002).run()
    assert all(v == s - 1 for s, v in sim.trained)


def test_rollout_waits_for_weights_the_bound_requires():
    gate = PolicyVersionGate(1, lambda v: None)
    assert gate.acquire_rollout(1) == 0
    gate.release_rollout()
    assert gate.acquire_rollout(2) == 0  # one step stale is allowed
    gate.release_rollout()
    started = threading.Event()
    got = []

    def third():
        started.set()
        got.append(gate.acquire_rollout(3))  # needs version >= 1

    t = threading.Thread(target=third)
    t.start()
    started.wait()
    time.sleep(0.05)
    assert got == [], "batch 3 started before the weights of step 1 existed"
    with gate.training():
        pass
    gate.publish(1)
    t.join(timeout=5)
    assert got == [1]


def test_a_failure_wakes_the_waiting_side():
    gate = PolicyVersionGate(0, lambda v: None)
    gate.acquire_rollout(1)
    gate.release_rollout()
    errors = []

    def waiter():
        try:
            gate.acquire_rollout(2)  # waits for the trainer's step 1, which never comes
        except PipelineAborted as exc:
            errors.append(exc)

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.05)
    gate.fail(RuntimeError("trainer worker died"))
    t.join(timeout=5)
    assert not t.is_alive() and "trainer worker died" in str(errors[0].__cause__)


def test_a_failing_sync_stops_both_sides():
    def broken_sync(version):
        raise ConnectionError("rollout unreachable")

    gate = PolicyVersionGate(0, broken_sync)
    gate.acquire_rollout(1)
    gate.release_rollout()
    with pytest.raises(ConnectionError):
        gate.publish(1)  # rollout idle, so the trainer performs the sync and sees it fail
    with pytest.raises(PipelineAborted):
        gate.acquire_rollout(2)


def test_negative_bound_is_rejected():
    with pytest.raises(ValueError, match="max_staleness"):
        PolicyVersionGate(-1, lambda v: None)


# ---------------------------------------------------------------------- exclusive_rollout (validation)
def _started_thread(target):
    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t


def test_a_hold_keeps_a_waiting_rollout_from_starting():
    gate = PolicyVersionGate(1, lambda v: None)
    acquired = threading.Event()
    with gate.exclusive_rollout():
        t = _started_thread(lambda: (gate.acquire_rollout(1), acquired.set()))
        assert not acquired.wait(0.1), "the rollout started a batch while the trainer held it"
    assert acquired.wait(5), "the rollout did not start once the hold ended"
    t.join(timeout=5)
    gate.release_rollout()


def test_a_hold_waits_for_a_running_batch_and_leaving_it_does_not_end_the_next():
    synced = []
    gate = PolicyVersionGate(1, synced.append)
    gate.acquire_rollout(1)  # batch 1 is generating
    held = threading.Event()
    leave = threading.Event()

    def validate():
        with gate.exclusive_rollout():
            held.set()
            leave.wait(5)

    t = _started_thread(validate)
    assert not held.wait(0.1), "the hold began while batch 1 was still generating"
    gate.release_rollout()
    assert held.wait(5)
    acquired = threading.Event()
    r = _started_thread(lambda: (gate.acquire_rollout(2), acquired.set()))
    assert not acquired.wait(0.1)
    leave.set()
    t.join(timeout=5)
    assert acquired.wait(5)
    r.join(timeout=5)
    # batch 2 is generating: a step published now must not move weights under it
    with gate.training():
        pass
    gate.publish(1)
    assert synced == [], "weights moved in the middle of a batch's generation"
    gate.release_rollout()
    assert synced == [1]


def test_no_sync_runs_while_the_trainer_holds_the_rollout():
    synced = []
    gate = PolicyVersionGate(0, synced.append)
    with gate.exclusive_rollout():
        with gate.training():
            pass
        gate.publish(1)
        assert synced == [], "weights moved during validation"
    assert synced == [1], "the pending sync did not run when the hold ended"


@pytest.mark.parametrize("k", [0, 1, 2])
def test_validation_after_every_step_never_overlaps_generation_or_a_sync(k):
    # batches take longer than training steps: the case in which the old gate let syncs run mid-batch
    sim = Sim(k, steps=6, gen_s=0.03, train_s=0.005, val_s=0.01, seed=k).run()
    assert sim.overlaps == [], sim.overlaps
    assert all(0 <= (s - 1) - v <= k for s, v in sim.trained), sim.trained


class PartialSim:
    """Partial rollout on threads: every admitted batch generates in a thread of its own, token by token, each
    token stamped with the version the rollout holds when it is made (a sync mid-batch changes the version of the
    tokens after it, as an aborted and resumed vLLM request does). The trainer trains the batches in order and
    validates every `val_every` steps."""

    def __init__(self, k: int, steps: int, tokens: int, token_s: float, train_s: float, val_every: int = 0,
                 seed: int = 0):
        self.k, self.steps, self.tokens, self.token_s, self.train_s = k, steps, tokens, token_s, train_s
        self.val_every = val_every
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.generating: set[int] = set()
        self.busy: set[str] = set()
        self.events: list[tuple] = []  # (what, batches generating, busy) at every sync and validation
        self.max_concurrent = 0
        self.gate = PolicyVersionGate(k, self._sync, partial=True)
        self.token_versions: dict[int, list[int]] = {}
        self.done = threading.Condition()

    def _sync(self, version: int) -> None:
        with self.lock:
            self.events.append(("sync", frozenset(self.generating), frozenset(self.busy)))
        time.sleep(0.002)

    def _generate(self, b: int) -> None:
        with self.lock:
            self.generating.add(b)
            self.max_concurrent = max(self.max_concurrent, len(self.generating))
        # a heavy tail: every third batch has a sample 4x as long
        versions = []
        for _ in range(self.tokens * (4 if b % 3 == 0 else 1)):
            versions.append(self.gate.rollout_version)
            time.sleep(self.token_s * self.rng.uniform(0.5, 1.5))
        with self.lock:
            self.generating.discard(b)
        self.gate.release_rollout()
        with self.done:
            self.token_versions[b] = versions
            self.done.notify_all()

    def rollout(self):
        threads = []
        for b in range(1, self.steps + 1):
            self.gate.acquire_rollout(b)
            threads.append(threading.Thread(target=self._generate, args=(b,)))
            threads[-1].start()
        for t in threads:
            t.join()

    def trainer(self):
        for s in range(1, self.steps + 1):
            with self.done:
                self.done.wait_for(lambda: s in self.token_versions)
            with self.gate.training():
                with self.lock:
                    self.busy.add("train")
                time.sleep(self.train_s * self.rng.uniform(0.5, 1.5))
                with self.lock:
                    self.busy.discard("train")
            self.gate.publish(s)
            if self.val_every and s % self.val_every == 0:
                with self.gate.exclusive_rollout():
                    with self.lock:
                        self.events.append(("validation", frozenset(self.generating), frozenset(self.busy)))
                        self.busy.add("validation")
                    time.sleep(0.01)
                    with self.lock:
                        self.busy.discard("validation")

    def run(self) -> "PartialSim":
        threads = [threading.Thread(target=self.rollout), threading.Thread(target=self.trainer)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads), "deadlock"
        return self


@pytest.mark.parametrize("k", [1, 2])
def test_partial_rollout_moves_weights_mid_batch_and_no_token_is_older_than_the_bound(k):
    sim = PartialSim(k, steps=12, tokens=10, token_s=0.002, train_s=0.03).run()
    for s, versions in sim.token_versions.items():
        assert versions == sorted(versions)  # a sample's versions only move forward
        assert 0 <= (s - 1) - versions[0] <= k, (s, versions)  # the oldest token is within the bound
        assert versions[-1] <= s - 1  # and no token comes from weights trained on this batch
    syncs = [e for e in sim.events if e[0] == "sync"]
    assert any(generating for _, generating, _ in syncs), "no sync ran while a batch generated"
    assert not [e for e in syncs if "train" in e[2] or "validation" in e[2]]
    assert any(len(set(v)) > 1 for v in sim.token_versions.values()), "no batch spans two versions"
    assert sim.max_concurrent >= 2, "the next batch never started beside the previous one's tail"


def test_partial_rollout_validation_waits_for_the_batches_in_flight_and_no_weights_move_during_it():
    sim = PartialSim(1, steps=9, tokens=10, token_s=0.002, train_s=0.03, val_every=2).run()
    validations = [e for e in sim.events if e[0] == "validation"]
    assert len(validations) == 4
    assert all(not generating for _, generating, _ in validations), validations
    order = [e[0] for e in sim.events]
    # between a validation's start and the next sync nothing else used the weights (each event is recorded at
    # its start; a sync recorded while "validation" was busy would show it)
    assert not [e for e in sim.events if e[0] == "sync" and "validation" in e[2]], order


def test_without_partial_rollout_a_second_batch_cannot_start_while_one_generates():
    gate = PolicyVersionGate(2, lambda v: None)
    gate.acquire_rollout(1)
    with pytest.raises(RuntimeError, match="twice"):
        gate.acquire_rollout(2)
