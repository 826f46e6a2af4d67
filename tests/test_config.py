"""Config composition of every recipe, and validation that reports every problem at once before Ray starts."""

from __future__ import annotations

import subprocess
import sys

import pytest
from vp_testing import REPO, compose
from omegaconf import OmegaConf

from verl_pipeline.config import CHECKS, ConfigError, PipelineConfig, apply_pipeline_settings, pipeline_of, validate
from verl_pipeline.main import available_recipes


def test_every_recipe_is_found():
    assert {"smoke", "deepcoder_14b", "deepcoder_14b_32k", "deepcoder_1p5b", "toy_learning"} <= set(available_recipes())


@pytest.mark.parametrize("recipe", sorted(available_recipes()))
def test_recipe_composes_on_top_of_verl_ppo_trainer(recipe):
    cfg = compose([f"+recipe={recipe}"])
    # verl's own sections are present (composed from pkg://verl.trainer.config) ...
    assert "actor_rollout_ref" in cfg and "algorithm" in cfg and "ray_kwargs" in cfg
    # ... our typed section parses ...
    pipeline = PipelineConfig.from_omegaconf(cfg.pipeline)
    # the recipe's own max_staleness, or the dataclass default when it sets none
    recipe_text = (REPO / "recipes" / f"{recipe}.yaml").read_text()
    expected = OmegaConf.create(recipe_text).get("pipeline", {}).get("max_staleness", PipelineConfig().max_staleness)
    assert pipeline.max_staleness == expected
    # ... and GRPO+ holds in every recipe: no KL, no entropy, clip-high, token-level loss, no std normalisation
    actor = cfg.actor_rollout_ref.actor
    assert actor.use_kl_loss is False and actor.entropy_coeff == 0
    assert (actor.clip_ratio_low, actor.clip_ratio_high) == (0.2, 0.28)
    assert actor.loss_agg_mode == "token-mean"
    assert cfg.algorithm.adv_estimator == "grpo" and cfg.algorithm.norm_adv_by_std_in_grpo is False


def _fake_phase1_checkpoint(root, step: int):
    export = root / "checkpoints/deepcoder/deepcoder_14b_16k" / f"global_step_{step}" / "actor" / "huggingface"
    export.mkdir(parents=True)
    (export / "config.json").write_text("{}")
    (root / "checkpoints/deepcoder/deepcoder_14b_16k/latest_checkpointed_iteration.txt").write_text(str(step))
    return export


@pytest.mark.parametrize("recipe", sorted(available_recipes()))
def test_recipe_validates_with_local_files(recipe, tmp_path, monkeypatch):
    """Each recipe passes validation once its data and model point at files that exist on this machine."""
    monkeypatch.chdir(tmp_path)
    _fake_phase1_checkpoint(tmp_path, 180)
    data = tmp_path / "d.parquet"
    data.write_bytes(b"")
    overrides = [f"+recipe={recipe}", f"data.train_files={data}", f"data.val_files={data}"]
    cfg = compose(overrides)
    OmegaConf.resolve(cfg)
    problems = [p for p in validate(cfg) if not p.key.startswith("actor_rollout_ref.model.path")]
    assert problems == [], "\n".join(map(str, problems))
    apply_pipeline_settings(cfg)
    assert cfg.actor_rollout_ref.rollout.nnodes >= 1 and cfg.actor_rollout_ref.rollout.n_gpus_per_node >= 1


def test_phase2_starts_from_phase1_latest_checkpoint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = compose(["+recipe=deepcoder_14b_32k"])
    with pytest.raises(Exception, match="Run the previous phase first"):
        OmegaConf.resolve(cfg)
    _fake_phase1_checkpoint(tmp_path, 40)
    export = _fake_phase1_checkpoint(tmp_path, 180)  # the tracker now names 180
    cfg = compose(["+recipe=deepcoder_14b_32k"])
    OmegaConf.resolve(cfg)
    assert cfg.actor_rollout_ref.model.path == str(export)
    assert cfg.data.max_response_length == 32768 and cfg.data.max_prompt_length == 2048
    # everything else is phase 1's
    assert cfg.actor_rollout_ref.rollout.n == 8 and cfg.data.train_batch_size == 128


def test_validation_reports_every_problem_at_once():
    cfg = compose([
        "+recipe=smoke",
        "pipeline.max_staleness=-1",
        "pipeline.off_policy_correction=magic",
        "+pipeline.max_stalenes=2",
        "actor_rollout_ref.actor.strategy=fsdp",
        "actor_rollout_ref.rollout.checkpoint_engine.backend=naive",
        "actor_rollout_ref.hybrid_engine=true",
    ])
    OmegaConf.resolve(cfg)
    problems = {p.key: p for p in validate(cfg)}
    assert {
        "pipeline.max_staleness",
        "pipeline.off_policy_correction",
        "pipeline.max_stalenes",
        "actor_rollout_ref.actor.strategy",
        "actor_rollout_ref.rollout.checkpoint_engine.backend",
        "actor_rollout_ref.hybrid_engine",
    } <= set(problems)
    # each message names the value, why, and what to set instead
    assert problems["pipeline.max_stalenes"].value == 2 and "max_staleness" in problems["pipeline.max_stalenes"].fix
    assert problems["pipeline.off_policy_correction"].value == "magic" and "tis" in problems["pipeline.off_policy_correction"].why
    text = str(ConfigError(list(problems.values())))
    assert "6 configuration problem(s)" in text and "fsdp2" in text


def test_cpu_layout_needs_declared_gpu_slots():
    cfg = compose(["+recipe=smoke", "ray_kwargs.ray_init.num_gpus=1"])
    OmegaConf.resolve(cfg)
    (problem,) = [p for p in validate(cfg) if p.key == "ray_kwargs.ray_init.num_gpus"]
    assert "needs 2" in problem.why and "num_gpus=2" in problem.fix


def test_rollout_fraction_splits_each_node():
    cfg = compose(["+recipe=deepcoder_1p5b", "pipeline.rollout_fraction=0.25", "trainer.n_gpus_per_node=8"])
    OmegaConf.resolve(cfg)
    apply_pipeline_settings(cfg)
    assert cfg.trainer.n_gpus_per_node == 6 and cfg.actor_rollout_ref.rollout.n_gpus_per_node == 2


def test_off_policy_correction_sets_verl_rollout_correction():
    cfg = compose(["+recipe=smoke", "pipeline.off_policy_correction=tis", "pipeline.tis_cap=3.0"])
    OmegaConf.resolve(cfg)
    apply_pipeline_settings(cfg)
    rc = cfg.algorithm.rollout_correction
    assert (rc.rollout_is, rc.rollout_is_threshold, rc.bypass_mode) == ("token", 3.0, False)
    cfg = compose(["+recipe=smoke", "pipeline.off_policy_correction=bypass"])
    OmegaConf.resolve(cfg)
    apply_pipeline_settings(cfg)
    assert cfg.algorithm.rollout_correction.bypass_mode is True and cfg.algorithm.rollout_correction.rollout_is is None


def test_shared_placement_runs_the_engine_beside_the_trainer_on_its_gpus():
    cfg = compose(["+recipe=deepcoder_1p5b", "pipeline.rollout_placement=shared", "pipeline.rollout_fraction=null",
                   "trainer.n_gpus_per_node=1", "actor_rollout_ref.rollout.gpu_memory_utilization=0.4"])
    OmegaConf.resolve(cfg)
    assert [p.key for p in validate(cfg) if "placement" in p.why or "shared" in p.why] == []
    apply_pipeline_settings(cfg)
    rollout = cfg.actor_rollout_ref.rollout
    # verl's colocated weight path, and an engine that never sleeps (so it generates while the trainer trains)
    assert cfg.actor_rollout_ref.hybrid_engine is True and rollout.checkpoint_engine.backend == "naive"
    assert rollout.free_cache_engine is False and rollout.enable_sleep_mode is False

    from verl.trainer.ppo.utils import Role

    from verl_pipeline.task_runner import build_worker_roles

    roles, mapping, _ = build_worker_roles(cfg)
    assert list(roles) == [Role.ActorRollout] and mapping == {Role.ActorRollout: "trainer_pool"}


def test_shared_placement_refuses_what_cannot_share_a_gpu():
    cfg = compose(["+recipe=smoke", "pipeline.rollout_placement=shared", "pipeline.rollout_fraction=0.5",
                   "actor_rollout_ref.rollout.gpu_memory_utilization=0.95"])
    OmegaConf.resolve(cfg)
    problems = {p.key: p for p in validate(cfg)}
    assert "null" in problems["pipeline.rollout_fraction"].fix
    # the separate-pool checks do not apply to a shared layout; on CPU the hf engine shares the worker's slot
    assert "actor_rollout_ref.hybrid_engine" not in problems and "actor_rollout_ref.rollout.name" not in problems
    cfg = compose(["+recipe=smoke", "pipeline.rollout_placement=shared", "trainer.device=cuda",
                   "actor_rollout_ref.rollout.gpu_memory_utilization=0.95"])
    OmegaConf.resolve(cfg)
    problems = {p.key: p for p in validate(cfg)}
    assert "vllm" in problems["actor_rollout_ref.rollout.name"].fix
    assert problems["actor_rollout_ref.rollout.gpu_memory_utilization"].value == 0.95
    bad = compose(["+recipe=smoke", "pipeline.rollout_placement=colocated"])
    OmegaConf.resolve(bad)
    (problem,) = [p for p in validate(bad) if p.key == "pipeline.rollout_placement"]
    assert "separate" in problem.why and "shared" in problem.why


def test_partial_rollout_refuses_what_cannot_interrupt_a_request():
    cfg = compose(["+recipe=smoke", "pipeline.partial_rollout=true", "pipeline.max_staleness=0"])
    OmegaConf.resolve(cfg)
    problems = {p.key: p for p in validate(cfg)}
    # smoke samples with hf, which cannot abort a request mid-generation; at staleness 0 nothing overlaps a push
    assert "vllm" in problems["actor_rollout_ref.rollout.name"].fix
    assert problems["pipeline.max_staleness"].value == 0 and "max_staleness=1" in problems["pipeline.max_staleness"].fix
    cfg = compose(["+recipe=smoke_vllm", "pipeline.partial_rollout=true", "pipeline.rollout_placement=shared",
                   "ray_kwargs.ray_init.num_gpus=1"])
    OmegaConf.resolve(cfg)
    problems = {p.key: p for p in validate(cfg)}
    assert "naive" in problems["pipeline.rollout_placement"].why and "actor_rollout_ref.rollout.name" not in problems
    cfg = compose(["+recipe=smoke_vllm", "pipeline.partial_rollout=true"])
    OmegaConf.resolve(cfg)
    assert validate(cfg) == []
    bad = compose(["+recipe=smoke_vllm", "pipeline.partial_rollout=yes"])
    OmegaConf.resolve(bad)
    assert [p.key for p in validate(bad)] == ["pipeline.partial_rollout"]


def test_cpu_affinity_takes_the_sampling_sides_cpu_work_and_refuses_an_unknown_role():
    cfg = compose(["+recipe=smoke_vllm",
                   "pipeline.cpu_affinity={trainer: [1], rollout: [0], agent_loop: [0], reward: [0]}"])
    OmegaConf.resolve(cfg)
    assert validate(cfg) == []
    bad = compose(["+recipe=smoke_vllm", "pipeline.cpu_affinity={trainer: [1], driver: [0]}"])
    OmegaConf.resolve(bad)
    (problem,) = validate(bad)
    assert problem.key == "pipeline.cpu_affinity" and "agent_loop" in problem.why and "reward" in problem.why


def test_micro_batches_that_do_not_divide_a_workers_samples_fail_before_ray_starts():
    # 2 prompts x 4 samples on one trainer worker: 8 samples, which verl would split into micro-batches of 16
    cfg = compose(["+recipe=smoke_vllm", "data.train_batch_size=2", "actor_rollout_ref.actor.ppo_mini_batch_size=2"])
    OmegaConf.resolve(cfg)
    problems = {p.key: p for p in validate(cfg)}
    log_prob = problems["actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu"]
    assert log_prob.value == 16 and "8 samples" in log_prob.why and "divisor of 8" in log_prob.fix
    assert "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu" in problems
    cfg = compose(["+recipe=smoke_vllm", "data.train_batch_size=2", "actor_rollout_ref.actor.ppo_mini_batch_size=2",
                   "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=8",
                   "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=8"])
    OmegaConf.resolve(cfg)
    assert validate(cfg) == []


def _main(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "verl_pipeline.main", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def test_unknown_recipe_lists_the_recipes_that_exist():
    proc = _main("+recipe=deepcoder_15b")
    assert proc.returncode != 0
    assert "unknown recipe 'deepcoder_15b'" in proc.stderr and "deepcoder_1p5b" in proc.stderr and "smoke" in proc.stderr


def test_cli_reports_bad_values_before_ray_starts():
    proc = _main("+recipe=smoke", "pipeline.max_staleness=-3", "pipeline.tis_cap=0.5")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "pipeline.max_staleness=-3" in proc.stderr and "pipeline.tis_cap=0.5" in proc.stderr
    assert "ray init" not in proc.stdout.lower()


def test_cfg_job_prints_the_merged_config():
    proc = _main("+recipe=smoke", "--cfg", "job")
    assert proc.returncode == 0, proc.stderr[-2000:]
    merged = OmegaConf.create(proc.stdout)
    assert merged.pipeline.max_staleness == 1 and merged.actor_rollout_ref.rollout.name == "hf"
    assert merged.trainer.device == "cpu"


@pytest.mark.parametrize("override,key,value,fix", [
    ("algorithm.adv_estimator=gae", "algorithm.adv_estimator", "gae", "grpo"),
    ("algorithm.adv_estimator=remax", "algorithm.adv_estimator", "remax", "grpo"),
    ("critic.enable=true", "critic.enable", True, "critic-free"),
    ("reward.reward_model.enable=true", "reward.reward_model.enable", True, "enable=false"),
    ("actor_rollout_ref.model.lora_rank=8", "actor_rollout_ref.model.lora_rank", 8, "lora_rank=0"),
    ("actor_rollout_ref.model.lora.rank=8", "actor_rollout_ref.model.lora.rank", 8, "lora.rank=0"),
    ("actor_rollout_ref.model.lora_adapter_path=/tmp/adapter", "actor_rollout_ref.model.lora_adapter_path",
     "/tmp/adapter", "lora_adapter_path=null"),
    ("actor_rollout_ref.rollout.n=0", "actor_rollout_ref.rollout.n", 0, "rollout.n=8"),
])
def test_a_mode_the_trainer_does_not_run_is_refused_with_key_value_and_fix(override, key, value, fix):
    cfg = compose(["+recipe=smoke", override])
    OmegaConf.resolve(cfg)
    problems = [p for p in validate(cfg) if p.key == key]
    assert len(problems) == 1, [(p.key, p.value) for p in validate(cfg)]
    assert problems[0].value == value and fix in problems[0].fix
    # and the smoke recipe itself passes this check
    assert not [p for p in validate(compose(["+recipe=smoke"])) if p.key == key]


def test_rollout_n_0_fails_before_ray_starts(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "verl_pipeline.main", "+recipe=smoke", "actor_rollout_ref.rollout.n=0"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "actor_rollout_ref.rollout.n" in proc.stderr + proc.stdout
    assert "ray.init" not in proc.stdout and "Started a local Ray instance" not in proc.stderr + proc.stdout


def test_pipeline_defaults_live_only_in_the_dataclass():
    import dataclasses

    # the primary config composes the section from PipelineConfig; its yaml repeats none of the values
    assert "pipeline" not in OmegaConf.load(REPO / "verl_pipeline" / "conf" / "pipeline.yaml")
    assert OmegaConf.to_container(compose([]).pipeline) == dataclasses.asdict(PipelineConfig())
    # an override still needs no `+`, and an absent key reads as its default
    assert compose(["pipeline.max_staleness=0"]).pipeline.max_staleness == 0
    assert pipeline_of(OmegaConf.create({"pipeline": {"tis_cap": 3.0}})) == PipelineConfig(tis_cap=3.0)


def test_validate_is_the_problems_of_every_checker():
    cfg = compose(["+recipe=smoke", "pipeline.max_staleness=-1", "actor_rollout_ref.actor.strategy=fsdp"])
    OmegaConf.resolve(cfg)
    by_checker = {check.__name__: [p.key for p in check(cfg)] for check in CHECKS}
    assert by_checker["check_pipeline_keys"] == ["pipeline.max_staleness"]
    assert by_checker["check_cpu_backend"] == ["actor_rollout_ref.actor.strategy"]
    assert [p.key for p in validate(cfg)] == [key for keys in by_checker.values() for key in keys]


@pytest.mark.parametrize("recipe,dtype", [("smoke", "fp32"), ("smollm2_coder", "fp32"), ("deepcoder_14b", None)])
def test_cpu_runs_train_in_float32_and_gpu_runs_keep_verls_bfloat16(recipe, dtype):
    """On trainer.device=cpu FSDP computes in float32 (bfloat16 is emulated on most CPUs, ~15x slower); GPU recipes
    keep verl's default (mixed_precision unset: bfloat16)."""
    cfg = compose([f"+recipe={recipe}"])
    apply_pipeline_settings(cfg)
    mixed = cfg.actor_rollout_ref.actor.fsdp_config.get("mixed_precision")
    assert (mixed.param_dtype if mixed is not None else None) == dtype
    if dtype:
        assert cfg.actor_rollout_ref.ref.fsdp_config.mixed_precision.reduce_dtype == "fp32"


def test_a_cpu_users_own_mixed_precision_is_kept():
    cfg = compose(["+recipe=smoke", "+actor_rollout_ref.actor.fsdp_config.mixed_precision.param_dtype=bf16"])
    apply_pipeline_settings(cfg)
    assert dict(cfg.actor_rollout_ref.actor.fsdp_config.mixed_precision) == {"param_dtype": "bf16"}


def test_cpu_nice_takes_a_niceness_per_role_and_refuses_an_unknown_role_or_a_negative_one():
    cfg = compose(["+recipe=smoke_vllm", "pipeline.cpu_nice={agent_loop: 10, reward: 19}"])
    OmegaConf.resolve(cfg)
    assert validate(cfg) == []
    for bad_value in ("{driver: 10}", "{reward: -5}", "{reward: 20}", "{reward: low}"):
        bad = compose(["+recipe=smoke_vllm", f"pipeline.cpu_nice={bad_value}"])
        OmegaConf.resolve(bad)
        (problem,) = validate(bad)
        assert problem.key == "pipeline.cpu_nice" and "0-19" in problem.why and "agent_loop" in problem.fix, bad_value
