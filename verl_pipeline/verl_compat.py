"""The one module that calls, reads or writes verl 0.9.1's private API; the rest of verl_pipeline uses the names here.

verl 0.9.1 has no public API for some things we need. This module gives each a name of ours:
- `VerlTrainerStages`: public names for the `SeparateRayPPOTrainer` methods our trainer runs (its per-stage
  `_fit_*` methods, validation, batch balancing, the data loaders), mixed into `PipelinedPPOTrainer`;
- `register_rollout_adapter`, `set_replica_server`: a rollout registry and a replica's server fields that verl
  has no public function for.

Private methods that our subclasses *override* (`PipelinedPPOTrainer._init_models`, ...) cannot move here: a
subclass must define them under verl's name. `PRIVATE_SEAMS` lists them with everything this module touches,
and `INSTANCE_ATTRIBUTES` lists the fields verl's methods set on an object that our code reads or sets.
`missing()` checks every entry against the installed verl (tests/test_verl_compat.py), so a verl upgrade that
renames or reshapes one fails in that test, naming it, instead of mid-run.

This module imports verl only inside functions (`plugins.py` calls it while verl is still importing).
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import NamedTuple

_TRAINER = "verl.experimental.separation.ray_trainer"


class Seam(NamedTuple):
    module: str
    path: str
    params: tuple[str, ...] | None
    """Parameters after self that we pass (in order); None for a non-callable or a signature we do not rely on."""
    used_by: str


class InstanceAttribute(NamedTuple):
    module: str
    method: str
    """`Class.method` of verl that sets the attribute on self."""
    attribute: str
    used_by: str


PRIVATE_SEAMS: list[Seam] = [
    # called through VerlTrainerStages (PipelinedPPOTrainer.train_step, _begin, _validate_and_save, ...)
    Seam(_TRAINER, "SeparateRayPPOTrainer._fit_compute_reward", ("batch",), "VerlTrainerStages.compute_reward"),
    Seam(_TRAINER, "SeparateRayPPOTrainer._fit_compute_log_prob", ("batch",), "VerlTrainerStages.compute_old_log_prob"),
    Seam(_TRAINER, "SeparateRayPPOTrainer._fit_compute_ref_log_prob", ("batch",),
         "VerlTrainerStages.compute_ref_log_prob"),
    Seam(_TRAINER, "SeparateRayPPOTrainer._fit_compute_advantage", ("batch",), "VerlTrainerStages.compute_advantage"),
    Seam(_TRAINER, "SeparateRayPPOTrainer._fit_update_actor", ("batch",), "VerlTrainerStages.update_actor"),
    Seam(_TRAINER, "SeparateRayPPOTrainer._fit_collect_metrics", ("batch",), "VerlTrainerStages.collect_metrics"),
    Seam(_TRAINER, "SeparateRayPPOTrainer._validate", ("merged",), "VerlTrainerStages.validate_policy"),
    Seam(_TRAINER, "SeparateRayPPOTrainer._get_gen_batch", ("batch",), "VerlTrainerStages.generation_input"),
    Seam(_TRAINER, "SeparateRayPPOTrainer._balance_batch", ("batch", "metrics", "logging_prefix", "keep_minibatch"),
         "VerlTrainerStages.balance_batch"),
    Seam(_TRAINER, "SeparateRayPPOTrainer._create_dataloader",
         ("train_dataset", "val_dataset", "collate_fn", "train_sampler"), "VerlTrainerStages.create_dataloaders"),
    Seam(_TRAINER, "SeparateRayPPOTrainer._init_dump_executor", (), "VerlTrainerStages.start_generation_dumps"),
    Seam(_TRAINER, "SeparateRayPPOTrainer._shutdown_dump_executor", (), "VerlTrainerStages.stop_generation_dumps"),
    # overridden in PipelinedPPOTrainer: verl's init_workers calls them in this order
    Seam(_TRAINER, "SeparateRayPPOTrainer._create_actor_rollout_classes", (),
         "PipelinedPPOTrainer._create_actor_rollout_classes (override)"),
    Seam(_TRAINER, "SeparateRayPPOTrainer._init_models", (), "PipelinedPPOTrainer._init_models (override)"),
    Seam(_TRAINER, "SeparateRayPPOTrainer._init_async_rollout_manager", (),
         "PipelinedPPOTrainer._init_async_rollout_manager (override)"),
    # overridden in TimestampedAgentLoopWorker (pipeline/agent_loop.py), which also calls verl's through super()
    Seam("verl.experimental.agent_loop.agent_loop", "AgentLoopWorker._compute_score", ("outputs", "kwargs"),
         "TimestampedAgentLoopWorker._compute_score (override)"),
    # the `hf` rollout adapter: verl has no public registration function for rollout adapters
    Seam("verl.workers.rollout.base", "_ROLLOUT_REGISTRY", None, "register_rollout_adapter"),
    # verl's public `register(name)` decorator refuses a second class object of the same name (a module reload);
    # reward/manager.py reads the dict to allow that one case
    Seam("verl.experimental.reward_loop.reward_manager.registry", "REWARD_MANAGER", None,
         "reward/manager.py register_reward_manager"),
]

INSTANCE_ATTRIBUTES: list[InstanceAttribute] = [
    # read by PipelinedPPOTrainer's overrides of the methods init_workers calls after these are set
    InstanceAttribute(_TRAINER, "SeparateRayPPOTrainer._init_resource_pools", "resource_pool_to_cls",
                      "PipelinedPPOTrainer._create_actor_rollout_classes"),
    InstanceAttribute(_TRAINER, "SeparateRayPPOTrainer._init_worker_groups", "all_wg",
                      "PipelinedPPOTrainer._init_models"),
    InstanceAttribute(_TRAINER, "SeparateRayPPOTrainer._init_reward_loop", "reward_loop_manager",
                      "PipelinedPPOTrainer._init_async_rollout_manager"),
    InstanceAttribute(_TRAINER, "SeparateRayPPOTrainer.init_workers", "checkpoint_manager",
                      "PipelinedPPOTrainer (weight pushes)"),
    # verl's manager spawns its workers from this class unless a subclass already set it (TimestampedAgentLoopManager)
    InstanceAttribute("verl.experimental.agent_loop.agent_loop", "AgentLoopManager.__init__",
                      "agent_loop_workers_class", "TimestampedAgentLoopManager"),
    # the server fields behind RolloutReplica's public server_handle / server_address properties
    InstanceAttribute("verl.workers.rollout.replica", "RolloutReplica.__init__", "_server_handle",
                      "set_replica_server (HFReplica.launch_servers)"),
    InstanceAttribute("verl.workers.rollout.replica", "RolloutReplica.__init__", "_server_address",
                      "set_replica_server (HFReplica.launch_servers)"),
    InstanceAttribute("verl.workers.rollout.replica", "RolloutReplica.__init__", "servers",
                      "rollout_servers (placement, CPU affinity, engine shutdown)"),
    # the AsyncLLM behind verl's vLLM server: verl has no call that shuts it down
    InstanceAttribute("verl.workers.rollout.vllm_rollout.vllm_async_server", "vLLMHttpServer.run_server", "engine",
                      "shutdown_rollout_engines"),
]


class VerlTrainerStages:
    """Public names for the `SeparateRayPPOTrainer` methods our trainer calls (mix in before verl's class).

    Each is verl's method unchanged, so the math is verl's; quoted names are the timers verl records them under.
    """

    def compute_reward(self, batch):
        """"reward": the scores the reward loop already put in the batch, extracted as the reward tensor."""
        return self._fit_compute_reward(batch)

    def compute_old_log_prob(self, batch):
        """"old_log_prob": the training policy's log-probs of the sampled responses (and entropy metrics)."""
        return self._fit_compute_log_prob(batch)

    def compute_ref_log_prob(self, batch):
        """The reference policy's log-probs (a no-op without a reference)."""
        return self._fit_compute_ref_log_prob(batch)

    def compute_advantage(self, batch):
        """"adv": `algorithm.adv_estimator` (GRPO: rewards normalised within each prompt's group)."""
        return self._fit_compute_advantage(batch)

    def update_actor(self, batch):
        """"update_actor": the PPO update; its metrics go into `self.metrics`."""
        return self._fit_update_actor(batch)

    def collect_metrics(self, batch) -> None:
        """verl's data, timing and throughput metrics of the step, into `self.metrics`."""
        self._fit_collect_metrics(batch)

    def validate_policy(self) -> dict:
        """verl's validation on `val_dataloader` with the rollout's current weights; its metrics."""
        return self._validate()

    def generation_input(self, batch):
        """The part of a prompt batch the agent loop takes as input."""
        return self._get_gen_batch(batch)

    def balance_batch(self, batch, metrics: dict) -> None:
        """Reorder samples so that each data-parallel rank gets a similar number of tokens (in place)."""
        self._balance_batch(batch, metrics=metrics)

    def create_dataloaders(self, train_dataset, val_dataset, collate_fn, train_sampler) -> None:
        """`train_dataloader`, `val_dataloader`, `total_training_steps` (and the optimizer's step count)."""
        self._create_dataloader(train_dataset, val_dataset, collate_fn, train_sampler)

    def start_generation_dumps(self) -> None:
        """The background writer verl's validation dumps generations with (`trainer.validation_data_dir`)."""
        self._init_dump_executor()

    def stop_generation_dumps(self) -> None:
        self._shutdown_dump_executor()


def register_rollout_adapter(name: str, mode: str, class_path: str) -> None:
    """Make `get_rollout_class(name, mode)` load `class_path` (kept if already registered)."""
    from verl.workers.rollout.base import _ROLLOUT_REGISTRY

    _ROLLOUT_REGISTRY.setdefault((name, mode), class_path)


def set_replica_server(replica, handle, address: str) -> None:
    """What `RolloutReplica.launch_servers` must leave behind: the server its public properties return."""
    replica._server_handle = handle
    replica._server_address = address


def _resolve(module: str, path: str):
    obj = importlib.import_module(module)
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def missing() -> list[str]:
    """Each seam that does not exist or no longer takes the parameters we pass, as a readable line."""
    problems = []
    for seam in PRIVATE_SEAMS:
        where = f"{seam.module}.{seam.path} (used by {seam.used_by})"
        try:
            obj = _resolve(seam.module, seam.path)
        except (ImportError, AttributeError) as exc:
            problems.append(f"{where}: not found ({exc})")
            continue
        if seam.params is None:
            continue
        names = tuple(p for p in inspect.signature(obj).parameters if p != "self")
        if names[: len(seam.params)] != seam.params:
            problems.append(f"{where}: parameters {names}, expected {seam.params} first")
    for attr in INSTANCE_ATTRIBUTES:
        where = f"{attr.module}.{attr.method} setting self.{attr.attribute} (used by {attr.used_by})"
        try:
            source = inspect.getsource(_resolve(attr.module, attr.method))
        except (ImportError, AttributeError) as exc:
            problems.append(f"{where}: not found ({exc})")
            continue
        if not re.search(rf"self\.{re.escape(attr.attribute)}\s*(:[^=]*)?=(?!=)", source):
            problems.append(f"{where}: the method no longer sets it")
    return problems


def rollout_servers(llm_server_manager) -> list:
    """The server actors of every rollout replica (`RolloutReplica.servers`)."""
    return [server for replica in llm_server_manager.get_replicas() for server in replica.servers]


def shutdown_rollout_engines(llm_server_manager, timeout_s: float = 60.0) -> None:
    """Shut each vLLM server's engine down cleanly (verl has no call for it: `vLLMHttpServer.engine` is its
    `AsyncLLM`). Without it the engines die by Ray's SIGKILL and their /dev/shm segments stay; a server that is
    already dead or has no engine (our `hf` replica) is skipped."""
    import ray

    def shutdown(server):
        engine = getattr(server, "engine", None)
        if engine is not None and hasattr(engine, "shutdown"):
            engine.shutdown()

    calls = [s.__ray_call__.remote(shutdown) for s in rollout_servers(llm_server_manager)]
    ready, _ = ray.wait(calls, num_returns=len(calls), timeout=timeout_s)
    for ref in ready:
        try:
            ray.get(ref)
        except ray.exceptions.RayError:
            pass  # a dead server: the driver's engine ledger removes what it left
