"""The Ray task that builds the pipelined trainer's worker groups and runs it (verl's `TaskRunner` seam).

`python -m verl_pipeline.main` hands this class to verl's `run_ppo(config, task_runner_class=...)`, which
starts Ray and runs `PipelineTaskRunner.run` in one actor, the single controller of the run.
"""

from __future__ import annotations

import os
import socket
import traceback

import ray

from verl_pipeline.config import actor_role


def build_worker_roles(config):
    """Trainer-pool roles: the actor (FSDP/FSDP2 engine worker) and, with a KL loss, a reference policy."""
    from verl.single_controller.ray import RayWorkerGroup
    from verl.trainer.ppo.utils import Role, need_reference_policy
    from verl.workers.engine_workers import ActorRolloutRefWorker

    actor = actor_role(config)
    roles = {actor: ray.remote(ActorRolloutRefWorker)}
    mapping = {actor: "trainer_pool"}
    if need_reference_policy(config):
        roles[Role.RefPolicy] = ray.remote(ActorRolloutRefWorker)
        mapping[Role.RefPolicy] = "trainer_pool"
    return roles, mapping, RayWorkerGroup


def build_trainer(config):
    """Everything `PipelinedPPOTrainer` needs, from a resolved config (workers are not started yet)."""
    from verl.trainer.ppo.ray_trainer import ResourcePoolManager
    from verl.trainer.ppo.utils import create_rl_dataset, create_rl_sampler
    from verl.utils.config import omega_conf_to_dataclass
    from verl.utils.dataset.rl_dataset import collate_fn
    from verl.workers.config import HFModelConfig

    from verl_pipeline.pipeline.trainer import PipelinedPPOTrainer

    roles, mapping, wg_cls = build_worker_roles(config)
    pools = ResourcePoolManager(
        resource_pool_spec={"trainer_pool": [config.trainer.n_gpus_per_node] * config.trainer.nnodes},
        mapping=mapping,
    )
    model_config: HFModelConfig = omega_conf_to_dataclass(config.actor_rollout_ref.model)
    tokenizer, processor = model_config.tokenizer, model_config.processor
    train_dataset = create_rl_dataset(
        config.data.train_files, config.data, tokenizer, processor, is_train=True,
        max_samples=config.data.train_max_samples,
    )
    val_dataset = None
    if config.data.get("val_files"):
        val_dataset = create_rl_dataset(
            config.data.val_files, config.data, tokenizer, processor, is_train=False,
            max_samples=config.data.val_max_samples,
        )
    return PipelinedPPOTrainer(
        config=config,
        tokenizer=tokenizer,
        processor=processor,
        role_worker_mapping=roles,
        resource_pool_manager=pools,
        ray_worker_group_cls=wg_cls,
        train_dataset=train_dataset,
        val_dataset=val_dataset,
        collate_fn=collate_fn,
        train_sampler=create_rl_sampler(config.data, train_dataset),
        device_name=config.trainer.device,
    )


@ray.remote(num_cpus=1)
class PipelineTaskRunner:
    """Single controller of a verl_pipeline run (one Ray actor)."""

    def run(self, config) -> None:
        from omegaconf import OmegaConf
        from verl.trainer.ppo.utils import need_critic, need_reference_policy
        from verl.utils.config import validate_config

        print(f"[verl_pipeline] controller on {socket.gethostname()} pid {os.getpid()}", flush=True)
        OmegaConf.resolve(config)
        validate_config(config=config, use_reference_policy=need_reference_policy(config), use_critic=need_critic(config))
        try:
            trainer = build_trainer(config)
            trainer.init_workers()
            trainer.fit()
        except BaseException:
            # Ray may fail to carry some exceptions back to the driver intact; the controller's log keeps it whole
            traceback.print_exc()
            raise
        finally:
            tracking = getattr(locals().get("trainer"), "logger", None)
            if tracking is not None and hasattr(tracking, "finish"):
                tracking.finish()
