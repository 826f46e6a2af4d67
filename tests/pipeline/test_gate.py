"""The staleness gate: the bound holds for 0, 1 and 2, weights move only when both sides are idle, and a
failure on one side wakes the other instead of hanging it. Plain threads, no verl or Ray."""

from __future__ import annotations

import random
import threading
import time

import pytest

from verl_pipeline.pipeline.gate import PipelineAborted, PolicyVersionGate


class Sim:
    """A rollout thread and a trainer thread driving the gate with random work times."""

    def __init__(self, k: int, steps: int, gen_s: float, train_s: float, seed: int = 0):
        self.k, self.steps, self.gen_s, self.train_s = k, steps, gen_s, train_s
        self.rng = random.Random(seed)
        self.events: list[tuple] = []
        self.lock = threading.Lock()
        self.busy = {"rollout": False, "trainer": False}
        self.gate = PolicyVersionGate(k, self._sync)
        self.ready: dict[int, int] = {}
        self.ready_cond = threading.Condition()

    def _sync(self, version):
        # both sides must be idle while weights move
        with self.lock:
            assert not self.busy["rollout"] and not self.busy["trainer"], "sync while a side was busy"
            self.events.append(("sync", version))
        time.sleep(0.001)

    def _work(self, side, seconds):
        with self.lock:
            self.busy[side] = True
        time.sleep(seconds * self.rng.uniform(0.5, 1.5))
        with self.lock:
            self.busy[side] = False

    def rollout(self):
        for b in range(1, self.steps + 1):
            version = self.gate.acquire_rollout(b)
            self._work("rollout", self.gen_s)
            self.gate.release_rollout()
            with self.ready_cond:
                self.ready[b] = version
                self.ready_cond.notify_all()

    def trainer(self):
        for s in range(1, self.steps + 1):
            with self.ready_cond:
                while s not in self.ready:
                    self.ready_cond.wait()
                version = self.ready[s]
            with self.gate.training():
                self._work("trainer", self.train_s)
            self.events.append(("train", s, version))
            self.gate.publish(s)

    def run(self):
        threads = [threading.Thread(target=self.rollout), threading.Thread(target=self.trainer)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
            assert not t.is_alive(), "deadlock"
        return [e for e in self.events if e[0] == "train"]


@pytest.mark.parametrize("k", [0, 1, 2])
@pytest.mark.parametrize("gen_s,train_s", [(0.004, 0.001), (0.001, 0.004), (0.002, 0.002)])
def test_no_sample_is_older_than_the_bound(k, gen_s, train_s):
    trained = Sim(k, steps=30, gen_s=gen_s, train_s=train_s, seed=k).run()
    lags = [(s - 1) - version for _, s, version in trained]
    assert all(0 <= lag <= k for lag in lags), lags
    assert [s for _, s, _ in trained] == list(range(1, 31))


def test_one_step_off_is_exactly_one_stale_when_sampling_is_fast():
    # DeepCoder's regime: after the first step every batch was sampled by the previous step's weights
    trained = Sim(1, steps=20, gen_s=0.001, train_s=0.005).run()
    assert [(s - 1) - v for _, s, v in trained][1:] == [1] * 19


def test_synchronous_mode_trains_on_policy():
    trained = Sim(0, steps=10, gen_s=0.002, train_s=0.002).run()
    assert all(v == s - 1 for _, s, v in trained)


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


class ValidatingSim:
    """Rollout and trainer threads; the trainer validates (holds the rollout) after every step.

    Records every interval in which the engine generates (a batch or a validation) and every sync, so the test
    can check that no two overlap. Batches take longer than training steps: the case in which the old gate
    let syncs run mid-batch."""

    def __init__(self, k: int, steps: int, gen_s: float, train_s: float, val_s: float):
        self.k, self.steps, self.gen_s, self.train_s, self.val_s = k, steps, gen_s, train_s, val_s
        self.lock = threading.Lock()
        self.engine: str | None = None  # what uses the rollout engine now: "batch", "validation", "sync"
        self.overlaps: list[tuple] = []
        self.gate = PolicyVersionGate(k, self._sync)
        self.ready: dict[int, int] = {}
        self.ready_cond = threading.Condition()
        self.syncs: list[int] = []

    def _use_engine(self, what, seconds):
        with self.lock:
            if self.engine is not None:
                self.overlaps.append((what, self.engine))
            self.engine = what
        time.sleep(seconds)
        with self.lock:
            self.engine = None

    def _sync(self, version):
        self.syncs.append(version)
        self._use_engine("sync", 0.001)

    def rollout(self):
        for b in range(1, self.steps + 1):
            version = self.gate.acquire_rollout(b)
            self._use_engine("batch", self.gen_s)
            self.gate.release_rollout()
            with self.ready_cond:
                self.ready[b] = version
                self.ready_cond.notify_all()

    def trainer(self):
        self.trained = []
        for s in range(1, self.steps + 1):
            with self.ready_cond:
                while s not in self.ready:
                    self.ready_cond.wait()
                self.trained.append((s, self.ready[s]))
            with self.gate.training():
                time.sleep(self.train_s)
            self.gate.publish(s)
            with self.gate.exclusive_rollout():
                self._use_engine("validation", self.val_s)

    def run(self):
        threads = [threading.Thread(target=self.rollout), threading.Thread(target=self.trainer)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
            assert not t.is_alive(), "deadlock"


@pytest.mark.parametrize("k", [0, 1, 2])
def test_validation_after_every_step_never_overlaps_generation_or_a_sync(k):
    sim = ValidatingSim(k, steps=6, gen_s=0.03, train_s=0.005, val_s=0.01)
    sim.run()
    assert sim.overlaps == [], sim.overlaps
    assert all(0 <= (s - 1) - v <= k for s, v in sim.trained), sim.trained
