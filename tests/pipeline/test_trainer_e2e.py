"""The pipelined trainer end to end on CPU: real Ray, real verl worker groups, FSDP2 on gloo, the hf rollout on its
own pool, the sandboxed code reward, weights through the Ray object store. Each test runs
`python -m verl_pipeline.main +recipe=smoke ...` in a subprocess and checks what the run wrote."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from vp_testing import read_metrics, read_trace, run_main, uninterrupted_prompt_order

pytestmark = [pytest.mark.slow, pytest.mark.ray]


def kill_session(sid: int) -> None:
    """SIGKILL every process of a run: its driver, Ray's daemons and every Ray worker share its session."""
    subprocess.run(["pkill", "-9", "-s", str(sid)], capture_output=True)


def smoke(workdir: Path, *overrides: str) -> list[str]:
    return [
        "+recipe=smoke",
        f"trainer.default_local_dir={workdir / 'ckpt'}",
        f"pipeline.trace_file={workdir / 'trace.jsonl'}",
        *overrides,
    ]


def test_smoke_trains_writes_jsonl_metrics_for_every_step_and_changes_every_parameter(tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    from verl_pipeline.assets.warmup import tiny_coder_path

    run_main(smoke(tmp_path, "trainer.total_training_steps=2", "trainer.logger=[console,file]",
                   # no weight decay: a parameter moves only if its gradient reached it
                   "actor_rollout_ref.actor.optim.weight_decay=0",
                   "actor_rollout_ref.actor.checkpoint.save_contents=[model,optimizer,extra,hf_model]",
                   # above Ray's worker niceness (15): no privilege needed
                   "pipeline.cpu_nice={agent_loop: 17, reward: 19}"), tmp_path)
    log = (tmp_path / "run.log").read_text()
    # each actor reports its own niceness after the change
    assert "set a agent_loop actor to niceness 17" in log and "set a reward actor to niceness 19" in log, log[-3000:]
    metrics = read_metrics(tmp_path)
    steps = [m for m in metrics if "timing_s/step" in m["data"]]
    assert [m["step"] for m in steps] == [1, 2]
    for m in steps:
        data = m["data"]
        for key in ("timing_s/step", "timing_s/gen", "timing_s/update_actor", "timing_s/update_weights",
                    "timing_s/reward_tail", "pipeline/staleness", "pipeline/rollout_idle_s",
                    "pipeline/trainer_idle_s", "response_length/clip_ratio", "pipeline/is_ratio_mean"):
            assert key in data and math.isfinite(data[key]), key
        assert math.isfinite(data["actor/pg_loss"]) and math.isfinite(data["actor/grad_norm"])
    # the warmed-up tiny coder writes passing and failing programs, so GRPO has a gradient
    assert any(m["data"]["actor/grad_norm"] > 0 and m["data"]["actor/pg_loss"] != 0 for m in steps)
    # weights reach the rollout pool: its policy version advances (a sync waits for the rollout's next batch
    # boundary, so mid-run it may trail by one) and holds the final weights at the end
    versions = [m["data"]["pipeline/rollout_version"] for m in steps]
    assert versions == sorted(versions) and versions[-1] == 2.0 and all(v <= s for s, v in zip((1, 2), versions))
    assert "[verl_pipeline] step 2/2" in log
    # the gradient reached every trainable parameter: each one differs from the starting model's
    before = AutoModelForCausalLM.from_pretrained(tiny_coder_path()).state_dict()
    after = AutoModelForCausalLM.from_pretrained(tmp_path / "ckpt/global_step_2/actor/huggingface").state_dict()
    unchanged = [name for name, p in before.items() if torch.equal(p, after[name].to(p.dtype))]
    assert unchanged == [], f"parameters the updates did not change: {unchanged}"


def test_shared_placement_keeps_staleness_and_validation_holds_the_rollout(tmp_path):
    # One declared device slot: the trainer worker holds it and the rollout server runs beside it (no pool of its
    # own), at staleness 1, with validation mid-run (as every deepcoder_* recipe does): the gate must keep batches
    # from generating during it. Separate pools run end to end in the smoke test above and on vLLM at staleness 0
    # and 2 with validation (tests/pipeline/test_vllm_trainer.py); the gate at every staleness on threads
    # (tests/pipeline/test_gate.py).
    k = 1
    run_main(smoke(tmp_path, "pipeline.rollout_placement=shared", "ray_kwargs.ray_init.num_gpus=1",
                   f"pipeline.max_staleness={k}", "trainer.total_training_steps=5", "trainer.save_freq=-1",
                   "trainer.test_freq=2"), tmp_path)
    (placement,) = read_trace(tmp_path / "trace.jsonl", event="placement")
    assert set(placement["trainer_nodes"]) == set(placement["rollout_nodes"])
    trace = read_trace(tmp_path / "trace.jsonl")
    assert [t["step"] for t in trace] == [1, 2, 3, 4, 5]
    lags = [(t["step"] - 1) - t["policy_version"] for t in trace]
    assert all(0 <= lag <= k for lag in lags) and max(lags) == k, lags  # the rollout did run ahead
    # the versions come from the rollout server itself: weights reached it through verl's colocated path
    assert trace[-1]["policy_version"] >= 3
    # every sample of a batch was generated by the one version the batch claims (no sync mid-generation)
    assert all(t["sample_versions"] == [t["policy_version"]] for t in trace), [t["sample_versions"] for t in trace]
    validations = read_trace(tmp_path / "trace.jsonl", event="validation")
    assert [v["after_step"] for v in validations] == [2, 4, 5]
    overlaps = [(t["batch_index"], v["after_step"]) for t in trace for v in validations
                if t["gen_start"] < v["end"] and v["start"] < t["gen_end"]]
    assert overlaps == [], f"(batch, validation after step) generated at the same time: {overlaps}"


def test_resume_after_kill_9_trains_on_the_same_prompts(tmp_path):
    steps = 6  # 16 smoke problems / 4 per step: crosses an epoch boundary at step 4
    killed = tmp_path / "killed"
    killed.mkdir()
    overrides = smoke(killed, f"trainer.total_training_steps={steps}", "trainer.save_freq=1", "trainer.resume_mode=auto")
    # what an uninterrupted run trains on: verl's own sampler and data loader, read without training (the steps
    # before the kill check this order against the run itself)
    expected = uninterrupted_prompt_order(overrides, steps)
    env = {**os.environ, "VERL_FILE_LOGGER_PATH": str(killed / "metrics.jsonl")}
    proc = subprocess.Popen([sys.executable, "-m", "verl_pipeline.main", *overrides], cwd=killed, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    tracker = killed / "ckpt" / "latest_checkpointed_iteration.txt"
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline and not (tracker.exists() and int(tracker.read_text()) >= 3):
        time.sleep(0.2)
    kill_session(proc.pid)  # the driver, Ray and every worker, mid-run
    proc.wait()
    saved = int(tracker.read_text())
    assert 3 <= saved < steps, f"kill came too late (checkpoint {saved})"

    before_kill = [t for t in read_trace(killed / "trace.jsonl") if t["step"] <= saved]
    assert [t["prompt_indices"] for t in before_kill] == expected[:saved]

    run_main(overrides, killed)
    trace = read_trace(killed / "trace.jsonl")
    resumed = [t for t in trace if t["step"] > saved]
    assert [t["step"] for t in resumed] == list(range(saved + 1, steps + 1))
    assert [t["prompt_indices"] for t in resumed] == expected[saved:]
    assert f"resumed from {killed / 'ckpt' / f'global_step_{saved}'}" in (killed / "run.log").read_text()


# a killed rollout server: tests/pipeline/test_vllm_trainer.py (vLLM's; the hf server dies the same way to Ray)
@pytest.mark.parametrize("process", ["RewardLoopWorker"])
def test_a_killed_worker_ends_the_run_with_a_clear_error(tmp_path, process):
    """kill -9 a reward worker mid-run: the run fails fast (no hang), says which worker died and where the last
    checkpoint is, and that checkpoint is intact."""
    overrides = smoke(tmp_path, "trainer.total_training_steps=30", "trainer.save_freq=1")
    env = {**os.environ, "VERL_FILE_LOGGER_PATH": str(tmp_path / "metrics.jsonl")}
    log = open(tmp_path / "run.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "verl_pipeline.main", *overrides], cwd=tmp_path, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    tracker = tmp_path / "ckpt" / "latest_checkpointed_iteration.txt"
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline and not tracker.exists():
        time.sleep(0.2)
    assert tracker.exists(), "no checkpoint before the kill"
    # only this run's worker (its session), never another Ray job's on the same machine
    pids = subprocess.run(["pgrep", "-s", str(proc.pid), "-f", process], capture_output=True, text=True).stdout.split()
    assert pids, f"no {process} process found"
    for pid in pids:
        os.kill(int(pid), signal.SIGKILL)
    try:
        rc = proc.wait(timeout=180)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the run hung after its {process} died")
    finally:
        kill_session(proc.pid)
    output = (tmp_path / "run.log").read_text()
    assert rc != 0
    assert "rollout failed" in output and "ActorDiedError" in output
    step = int(tracker.read_text())
    assert (tmp_path / "ckpt" / f"global_step_{step}" / "actor").is_dir() and step < 30
    assert "restart with trainer.resume_mode=auto" in output


def test_staleness_0_reproduces_verls_synchronous_trainer(tmp_path):
    """Same seed, data, model and sampling seeds: our synchronous mode and stock `verl.trainer.main_ppo`
    (verl's RayPPOTrainer, rollout colocated in the trainer workers) give the same rewards and losses."""
    from verl_pipeline.assets.problems import bundled_parquet
    from verl_pipeline.assets.warmup import smoke_parquet
    from verl_pipeline.assets.warmup import tiny_coder_path
    from verl_pipeline.config import CPU_MIXED_PRECISION

    steps = 3
    shared = [
        f"data.train_files={smoke_parquet()}", f"data.val_files={bundled_parquet('val')}",
        f"actor_rollout_ref.model.path={tiny_coder_path()}",
        f"trainer.total_training_steps={steps}", "trainer.save_freq=-1", "trainer.test_freq=-1",
        "trainer.val_before_train=False", "trainer.logger=[console,file]", "trainer.resume_mode=disable",
        # sampling seeds derived from request ids, one request at a time: the same samples in both runs
        "actor_rollout_ref.rollout.full_determinism=True",
    ]
    ours = tmp_path / "ours"
    ours.mkdir()
    run_main(["+recipe=smoke", *shared, "pipeline.max_staleness=0", "pipeline.off_policy_correction=none",
              "pipeline.overlong_filtering=false", f"trainer.default_local_dir={ours / 'ckpt'}"], ours)

    stock = tmp_path / "verl"
    stock.mkdir()
    float32 = ",".join(f"{k}:{v}" for k, v in CPU_MIXED_PRECISION.items())
    verl_args = [
        *shared, "trainer.use_v1=False", "algorithm.adv_estimator=grpo", "algorithm.norm_adv_by_std_in_grpo=False",
        "data.train_batch_size=4", "data.max_prompt_length=1536", "data.max_response_length=48",
        "data.filter_overlong_prompts=True", "data.dataloader_num_workers=0",
        "actor_rollout_ref.model.use_remove_padding=False",
        "+actor_rollout_ref.model.override_config.attn_implementation=sdpa",
        "actor_rollout_ref.actor.strategy=fsdp2", "actor_rollout_ref.actor.ppo_mini_batch_size=4",
        # what our trainer.device=cpu sets (verl's bfloat16 is emulated on CPU); stock verl needs it said
        f"+actor_rollout_ref.actor.fsdp_config.mixed_precision={{{float32}}}",
        "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=16", "actor_rollout_ref.actor.use_kl_loss=False",
        "actor_rollout_ref.actor.entropy_coeff=0", "actor_rollout_ref.actor.clip_ratio_low=0.2",
        "actor_rollout_ref.actor.clip_ratio_high=0.28", "actor_rollout_ref.actor.loss_agg_mode=token-mean",
        "actor_rollout_ref.actor.optim.lr=1e-4", "actor_rollout_ref.rollout.name=hf", "actor_rollout_ref.rollout.n=4",
        "actor_rollout_ref.rollout.temperature=1.0", "actor_rollout_ref.rollout.tensor_model_parallel_size=1",
        "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=16", "actor_rollout_ref.rollout.agent.num_workers=1",
        "actor_rollout_ref.rollout.calculate_log_probs=True",
        "reward.reward_manager.name=deepcoder_code", "reward.num_workers=1",
        "trainer.device=cpu", "trainer.nnodes=1", "trainer.n_gpus_per_node=1",
        f"trainer.default_local_dir={stock / 'ckpt'}", "trainer.project_name=verl_pipeline",
        "trainer.experiment_name=smoke", "ray_kwargs.ray_init.num_cpus=16", "+ray_kwargs.ray_init.num_gpus=1",
        "+ray_kwargs.ray_init.include_dashboard=False",
    ]
    env = {**os.environ, "VERL_PLATFORM": "cpu", "VERL_FILE_LOGGER_PATH": str(stock / "metrics.jsonl")}
    proc = subprocess.run([sys.executable, "-m", "verl.trainer.main_ppo", *verl_args], cwd=stock, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]

    def per_step(workdir):
        return {m["step"]: m["data"] for m in read_metrics(workdir) if "actor/pg_loss" in m["data"]}

    a, b = per_step(ours), per_step(stock)
    assert sorted(a) == sorted(b) == list(range(1, steps + 1))
    for step in range(1, steps + 1):
        assert a[step]["critic/score/mean"] == b[step]["critic/score/mean"], step
        assert a[step]["response_length/mean"] == b[step]["response_length/mean"], step
        assert a[step]["actor/pg_loss"] == pytest.approx(b[step]["actor/pg_loss"], rel=1e-4, abs=1e-6), step
        assert a[step]["actor/grad_norm"] == pytest.approx(b[step]["actor/grad_norm"], rel=1e-4, abs=1e-6), step
    assert any(a[s]["actor/grad_norm"] > 0 for s in a)  # the comparison is not between two zero runs


def test_pools_on_two_nodes_of_a_ray_cluster(tmp_path):
    """A two-node Ray cluster on one machine: the trainer pool and the rollout pool land on different nodes."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 8, "num_gpus": 1})
    cluster.add_node(num_cpus=8, num_gpus=1)
    cluster.wait_for_nodes()
    try:
        run_main(smoke(tmp_path, "trainer.total_training_steps=1", "trainer.save_freq=-1",
                       "ray_kwargs.ray_init.num_cpus=null", "ray_kwargs.ray_init.num_gpus=null",
                       f"+ray_kwargs.ray_init.address={cluster.address}"), tmp_path)
    finally:
        cluster.shutdown()
    (placement,) = read_trace(tmp_path / "trace.jsonl", event="placement")
    trainer_nodes, rollout_nodes = set(placement["trainer_nodes"]), set(placement["rollout_nodes"])
    assert len(trainer_nodes) == len(rollout_nodes) == 1 and trainer_nodes != rollout_nodes
    assert [t["step"] for t in read_trace(tmp_path / "trace.jsonl")] == [1]
