"""PipelinedPPOTrainer: sampling of batch k+1 overlaps training on batch k, on separate worker groups.

Built on verl 0.9.1's `SeparateRayPPOTrainer` (the DataProto trainer with a separate rollout pool) because that
is the layer where verl's pieces compose without TransferQueue polling: resource pools and `RayWorkerGroup` for
the trainer (FSDP/FSDP2 `ActorRolloutRefWorker` in the actor role), standalone rollout replicas on their own
pool (`LLMServerManager`), the reward loop (per-sample scoring in reward workers, inside the agent loop) and
`CheckpointEngineManager` for the weight push. We reuse its per-stage methods unchanged (through the names
`verl_compat.VerlTrainerStages` gives them: `compute_old_log_prob`, `compute_advantage`, `update_actor`, ...),
so the math is verl's; what is ours:

- the loop (`fit`): a rollout thread produces batches under a staleness gate while this thread trains;
- overlong filtering (GRPO+), the pipeline metrics, and a per-step summary line;
- checkpoints that resume on exactly the prompts an uninterrupted run would have trained on.

`pipeline.max_staleness=0` runs the same layout synchronously: the baseline the pipelined mode must beat.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Iterator

import numpy as np
import ray
import torch
from omegaconf import OmegaConf
from verl import DataProto
from verl.experimental.separation.ray_trainer import SeparateRayPPOTrainer
from verl.single_controller.ray import RayClassWithInitArgs, RayWorkerGroup
from verl.trainer.ppo import core_algos
from verl.trainer.ppo.ray_trainer import compute_response_mask
from verl.trainer.ppo.utils import Role, need_critic, need_reference_policy, need_reward_model, need_teacher_policy
from verl.utils.checkpoint.checkpoint_manager import find_latest_ckpt_path
from verl.utils.debug import marked_timer
from verl.utils.tracking import ValidationGenerationsLogger

from verl_pipeline.checkpoints import DATA_STATE_FILE, PIPELINE_STATE_FILE, resume_folder, resume_point
from verl_pipeline.config import PipelineConfig, actor_role
from verl_pipeline.pipeline import grpo_plus
from verl_pipeline.pipeline.gate import PolicyVersionGate
from verl_pipeline.pipeline.rollouter import RolloutBatch, Rollouter, RolloutProducerError
from verl_pipeline.pipeline.summary import format_step_summary
from verl_pipeline.verl_compat import VerlTrainerStages, rollout_servers, shutdown_rollout_engines

logger = logging.getLogger(__name__)


class WorkerDiedError(RuntimeError):
    """A Ray worker of the run died while the trainer called it; the message says where to resume from."""


class PipelinedPPOTrainer(VerlTrainerStages, SeparateRayPPOTrainer):
    """PPO/GRPO+ with the rollout one (or up to `pipeline.max_staleness`) steps ahead of the trainer."""

    def __init__(
        self,
        config,
        tokenizer,
        role_worker_mapping,
        resource_pool_manager,
        ray_worker_group_cls=RayWorkerGroup,
        processor=None,
        train_dataset=None,
        val_dataset=None,
        collate_fn=None,
        train_sampler=None,
        device_name=None,
    ):
        # RayPPOTrainer.__init__ asserts a hybrid (colocated) engine, which is exactly what we do not have;
        # this sets every attribute it and SeparateRayPPOTrainer.__init__ set, and every one the verl methods we
        # call read (tests/test_verl_compat.py derives both lists from verl's source).
        self.tokenizer = tokenizer
        self.processor = processor
        self.config = config
        self.pipeline = PipelineConfig.from_omegaconf(config.pipeline)
        # shared placement runs the engine beside the trainer through verl's hybrid (colocated) launch
        self.hybrid_engine = self.pipeline.rollout_placement == "shared"
        # the rollout lives in replicas (on its own pool, or beside the trainer workers), never in a role of its own
        role_worker_mapping.pop(Role.Rollout, None)
        self.role_worker_mapping = role_worker_mapping
        self.resource_pool_manager = resource_pool_manager
        self.use_reference_policy = need_reference_policy(config)
        self.use_teacher_policy = need_teacher_policy(config)
        self.use_rm = need_reward_model(config)
        self.use_critic = need_critic(config)
        self.ray_worker_group_cls = ray_worker_group_cls
        self.device_name = device_name or config.trainer.device
        self.validation_generations_logger = ValidationGenerationsLogger(
            project_name=config.trainer.project_name, experiment_name=config.trainer.experiment_name
        )
        # verl derives this from LoRA (reference = actor without adapter); config.check_unsupported_modes refuses
        # each LoRA key (lora_rank, lora.rank, lora_adapter_path), so the reference is always a model of its own
        self.ref_in_actor = False
        if config.algorithm.use_kl_in_reward:
            self.kl_ctrl_in_reward = core_algos.get_kl_controller(config.algorithm.kl_ctrl)
        self.use_prefix_grouper = config.actor_rollout_ref.actor.use_prefix_grouper
        self.distillation_config = None
        self.create_dataloaders(train_dataset, val_dataset, collate_fn, train_sampler)
        self.checkpoint_manager = None
        self.start_generation_dumps()
        # SeparateRayPPOTrainer's per-step state
        self.global_steps = 0
        self.epoch = 0
        self.max_steps_duration = 0
        self.is_last_step = False
        self.prev_step_profile = self.curr_step_profile = self.next_step_profile = False
        self.metrics, self.timing_raw = {}, {}
        self.reward_tensor, self.reward_extra_infos_dict = None, {}
        self.logger = None
        # read only by verl's own fit (we run ours); set as verl does so that no verl method finds them missing
        self.progress_bar, self.last_val_metrics = None, {}
        self._start_epoch = 0
        eos = config.actor_rollout_ref.model.get("override_config", {}).get("eos_token_id", None)
        self._eos_token_ids = {int(e) for e in ([eos] if isinstance(eos, int) else (eos or []))}
        self._eos_token_ids.add(int(tokenizer.eos_token_id))

    # ------------------------------------------------------------------ workers
    # verl's init_workers calls these private hooks; verl_compat.PRIVATE_SEAMS lists each (a subclass must
    # override them under verl's names), and the fields they read (resource_pool_to_cls, all_wg, ...)
    def _create_actor_rollout_classes(self):
        role = actor_role(self.config)
        pool = self.resource_pool_manager.get_resource_pool(role)
        self.resource_pool_to_cls[pool][str(role)] = RayClassWithInitArgs(
            cls=self.role_worker_mapping[role], config=self.config.actor_rollout_ref, role=str(role)
        )

    def _init_models(self):
        if self.use_reference_policy:
            self.ref_policy_wg = self.all_wg[str(Role.RefPolicy)]
            self.ref_policy_wg.init_model()
        self.actor_rollout_wg = self.all_wg[str(actor_role(self.config))]
        self.actor_rollout_wg.init_model()

    def _init_async_rollout_manager(self):
        from verl.workers.rollout.llm_server import LLMServerManager

        from verl_pipeline.pipeline.agent_loop import TimestampedAgentLoopManager

        if self.pipeline.rollout_placement == "shared":
            # the engine's processes start on the trainer workers' GPUs (verl's hybrid launch); it never sleeps,
            # so it generates while the trainer trains, each in its own share of device memory
            self.llm_server_manager = LLMServerManager.create(config=self.config, worker_group=self.actor_rollout_wg)
        else:
            # standalone replicas on their own pool (rollout.nnodes x rollout.n_gpus_per_node)
            self.llm_server_manager = LLMServerManager.create(config=self.config)
        self.async_rollout_mode = True
        client_cls = None
        if self.pipeline.partial_rollout:
            from verl_pipeline.workers.resuming_client import ResumingLLMServerClient

            # a request aborted by a weight push continues from its prefix with the new weights
            client_cls = ResumingLLMServerClient
        # passing the reward workers makes the agent loop score each sample as soon as it finishes
        self.async_rollout_manager = TimestampedAgentLoopManager.create(
            config=self.config,
            llm_client=self.llm_server_manager.get_client(client_cls=client_cls),
            reward_loop_worker_handles=self.reward_loop_manager.reward_loop_workers,
        )

    def placement(self) -> dict[str, list[str]]:
        """Ray node ids of the trainer workers and of the rollout servers (the same nodes when placement is shared)."""
        import ray

        def node_of(actor):
            return actor.__ray_call__.remote(lambda self: ray.get_runtime_context().get_node_id())

        servers = rollout_servers(self.llm_server_manager)
        return {
            "trainer_nodes": ray.get([node_of(w) for w in self.actor_rollout_wg.workers]),
            "rollout_nodes": ray.get([node_of(s) for s in servers]),
        }

    def _apply_cpu_placement(self) -> None:
        """`pipeline.cpu_affinity`: pin each role's actors (and the processes they started) to its cores;
        `pipeline.cpu_nice`: set their niceness."""
        import ray

        actors = {  # looked up only for the roles asked for
            "trainer": lambda: list(self.actor_rollout_wg.workers),
            "rollout": lambda: rollout_servers(self.llm_server_manager),
            "agent_loop": lambda: [a for a in (*self.async_rollout_manager.agent_loop_workers,
                                               getattr(self.llm_server_manager, "global_load_balancer", None))
                                   if a is not None],
            "reward": lambda: list(self.reward_loop_manager.reward_loop_workers),
        }
        calls = []
        for role, cores in (self.pipeline.cpu_affinity or {}).items():
            calls += [(f"pinned a {role} actor to cores", a.__ray_call__.remote(lambda self, c=list(cores): _pin(c)))
                      for a in actors[role]()]
        for role, niceness in (self.pipeline.cpu_nice or {}).items():
            calls += [(f"set a {role} actor to niceness", a.__ray_call__.remote(lambda self, n=niceness: _renice(n)))
                      for a in actors[role]()]
        for what, result in zip([w for w, _ in calls], ray.get([c for _, c in calls])):
            print(f"[verl_pipeline] {what} {result}", flush=True)

    # ------------------------------------------------------------------ the loop
    def fit(self):
        """Train `total_training_steps` steps; the rollout samples ahead of the trainer within the bound."""
        start_step, gate = self._begin()
        if start_step is None:  # val_only
            shutdown_rollout_engines(self.llm_server_manager)
            return
        rollouter = Rollouter(
            gate,
            self._batches(),
            self.async_rollout_manager.generate_sequences,
            self._prepare_generation,
            first_index=start_step + 1,
            last_index=self.total_training_steps,
            overlap=self.pipeline.partial_rollout,
        ).start()
        last_step_end = time.monotonic()
        try:
            for step in range(start_step + 1, self.total_training_steps + 1):
                self.global_steps = step
                self.is_last_step = step == self.total_training_steps
                waited = time.monotonic()
                rollout = rollouter.next_batch()
                trainer_idle_s = time.monotonic() - waited
                with gate.training():
                    batch = self.train_step(rollout)
                gate.publish(step)  # weights of `step` go to the rollout now, or at its next boundary
                self._validate_and_save(gate, rollout)
                now = time.monotonic()
                self._log_step(batch, rollout, gate, trainer_idle_s, step_s=now - last_step_end)
                last_step_end = now
        except RolloutProducerError as err:
            raise RolloutProducerError(f"{err} during step {self.global_steps}. {self._resume_hint()}") from err.__cause__
        except ray.exceptions.RayActorError as err:
            # a worker died under the trainer's own calls (a weight push to a dead rollout server, a dead
            # trainer worker): the run cannot go on, but the last checkpoint is whole
            raise WorkerDiedError(f"a worker died during step {self.global_steps}: {type(err).__name__}: {err}\n"
                                  f"{self._resume_hint()}") from err
        finally:
            rollouter.stop()
            self.stop_generation_dumps()
            shutdown_rollout_engines(self.llm_server_manager)

    def _begin(self) -> tuple[int | None, PolicyVersionGate]:
        """Tracking, placement, resume, the initial weight push, validation before training; the gate."""
        from verl.utils.tracking import Tracking

        self.logger = Tracking(
            project_name=self.config.trainer.project_name,
            experiment_name=self.config.trainer.experiment_name,
            default_backend=self.config.trainer.logger,
            config=OmegaConf.to_container(self.config, resolve=True),
        )
        self._apply_cpu_placement()
        placement = self.placement()
        print(f"[verl_pipeline] trainer pool on nodes {sorted(set(placement['trainer_nodes']))}, "
              f"rollout pool on nodes {sorted(set(placement['rollout_nodes']))}", flush=True)
        self._append_trace({"event": "placement", **placement})
        self.load_checkpoint()
        start_step = self.global_steps
        self.checkpoint_manager.update_weights(start_step)
        gate = PolicyVersionGate(self.pipeline.max_staleness, self._push_weights, start_version=start_step,
                                 partial=self.pipeline.partial_rollout)
        if self.config.trainer.val_before_train and self.val_dataset is not None:
            with gate.exclusive_rollout():
                val_metrics = self.validate_policy()
            self.logger.log(data=val_metrics, step=start_step)
            if self.config.trainer.val_only:
                return None, gate
        return start_step, gate

    def _resume_hint(self) -> str:
        root = os.path.abspath(self.config.trainer.default_local_dir)
        step = find_latest_ckpt_path(root)
        if step is None:
            return f"No checkpoint was saved yet (trainer.default_local_dir={root})."
        return f"The last checkpoint is {step}; restart with trainer.resume_mode=auto to continue from it."

    def train_step(self, rollout: RolloutBatch) -> DataProto:
        """One PPO/GRPO+ update on a sampled batch: reward -> old log-probs -> advantages -> actor update."""
        self.metrics = {"training/global_step": self.global_steps, "training/epoch": rollout.epoch}
        self.timing_raw = {"gen": rollout.gen_s, **rollout.timing}
        batch = rollout.batch
        if "response_mask" not in batch.batch.keys():
            batch.batch["response_mask"] = compute_response_mask(batch)
        if self.config.trainer.balance_batch:
            self.balance_batch(batch, self.metrics)
        batch.meta_info["global_token_num"] = torch.sum(batch.batch["attention_mask"], dim=-1).tolist()
        batch.meta_info["images_seqlens"] = []
        batch.meta_info["temperature"] = self.config.actor_rollout_ref.rollout.temperature
        self.check_staleness(batch, rollout)

        batch = self.compute_reward(batch)
        batch = self.compute_old_log_prob(batch)
        if "rollout_log_probs" in batch.batch.keys():
            self.metrics.update(
                grpo_plus.importance_ratio_stats(
                    batch.batch["old_log_probs"], batch.batch["rollout_log_probs"], batch.batch["response_mask"]
                )
            )
        batch = self.compute_ref_log_prob(batch)
        batch = self.compute_advantage(batch)
        self.filter_overlong(batch)
        return self.update_actor(batch)

    def filter_overlong(self, batch: DataProto) -> None:
        """GRPO+ overlong filtering: responses cut off by the length limit carry no loss (logged as a fraction)."""
        truncated = grpo_plus.truncated_responses(
            batch.batch["responses"],
            batch.batch["response_mask"],
            self._eos_token_ids,
            self.config.actor_rollout_ref.rollout.response_length,
        )
        self.metrics["pipeline/truncated_frac"] = float(truncated.float().mean())
        masked = 0.0
        if self.pipeline.overlong_filtering:
            batch.batch["response_mask"] = grpo_plus.mask_truncated(batch.batch["response_mask"], truncated)
            masked = float(truncated.float().mean())
        self.metrics["pipeline/overlong_masked_frac"] = masked

    def check_staleness(self, batch: DataProto, rollout: RolloutBatch) -> None:
        """Record each sample's policy lag and refuse to train on anything older than the bound."""
        versions = batch.non_tensor_batch.get("min_global_steps")
        if versions is None or any(v is None for v in versions):
            versions = np.full(len(batch), rollout.policy_version)
        lag = grpo_plus.staleness(np.asarray(versions, dtype=np.int64), self.global_steps)
        if lag.max() > self.pipeline.max_staleness or lag.min() < 0:
            raise RuntimeError(
                f"step {self.global_steps}: samples with policy lag {int(lag.min())}..{int(lag.max())} outside "
                f"[0, pipeline.max_staleness={self.pipeline.max_staleness}] (batch sampled with version "
                f"{rollout.policy_version}); refusing to train on them"
            )
        self.metrics["pipeline/staleness"] = float(lag.mean())
        self.metrics["pipeline/staleness_max"] = float(lag.max())
        self.metrics["pipeline/policy_version"] = float(rollout.policy_version)
        token_versions = batch.non_tensor_batch.get("token_versions")
        if token_versions is not None:
            # partial rollout: every response token's version (ResumingLLMServerClient)
            token_lag = np.concatenate([grpo_plus.staleness(np.asarray(v, dtype=np.int64), self.global_steps)
                                        for v in token_versions if len(v)] or [np.zeros(0, dtype=np.int64)])
            self.metrics["pipeline/token_staleness"] = float(token_lag.mean()) if token_lag.size else 0.0
            segments = np.asarray(batch.non_tensor_batch["rollout_segments"], dtype=np.int64)
            self.metrics["pipeline/interrupted_frac"] = float((segments > 1).mean())
            self.metrics["pipeline/rollout_segments_max"] = float(segments.max())

    def _push_weights(self, version: int) -> None:
        self.checkpoint_manager.update_weights(version)

    def _prepare_generation(self, batch: DataProto, index: int) -> tuple[DataProto, DataProto]:
        """Split prompts into the agent-loop input and the rest; repeat both n times (GRPO groups)."""
        gen_batch = self.generation_input(batch)
        gen_batch.meta_info["global_steps"] = index
        n = self.config.actor_rollout_ref.rollout.n
        return batch.repeat(repeat_times=n, interleave=True), gen_batch.repeat(repeat_times=n, interleave=True)

    def _batches(self) -> Iterator[tuple[int, dict, dict]]:
        """Prompt batches in training order with the data-loader position after each (the resume point)."""
        for epoch in range(self._start_epoch, self.config.trainer.total_epochs):
            for batch_dict in self.train_dataloader:
                yield epoch, batch_dict, self.train_dataloader.state_dict()

    # ------------------------------------------------------------------ validation, checkpoints, metrics
    def _validate_and_save(self, gate: PolicyVersionGate, rollout: RolloutBatch) -> None:
        test_freq, save_freq = self.config.trainer.test_freq, self.config.trainer.save_freq
        if self.val_dataset is not None and test_freq > 0 and (self.is_last_step or self.global_steps % test_freq == 0):
            with marked_timer("testing", self.timing_raw), gate.exclusive_rollout():
                started = time.monotonic()
                self.metrics.update(self.validate_policy())
                self._append_trace({"event": "validation", "after_step": self.global_steps,
                                    "start": started, "end": time.monotonic()})
        if save_freq > 0 and (self.is_last_step or self.global_steps % save_freq == 0):
            with marked_timer("save_checkpoint", self.timing_raw), gate.training():
                self.save_checkpoint(rollout)

    def save_checkpoint(self, rollout: RolloutBatch) -> None:
        """Model, optimizer and the data position right after this step's prompts, then the tracker (atomically).

        Batches already sampled for later steps are not saved: on resume their prompts are drawn again from the
        saved position and re-sampled with the restored weights, so training continues on exactly the prompts an
        uninterrupted run would have used.
        """
        root = self.config.trainer.default_local_dir
        folder = os.path.join(root, f"global_step_{self.global_steps}")
        os.makedirs(folder, exist_ok=True)
        self.actor_rollout_wg.save_checkpoint(
            os.path.join(folder, "actor"),
            None,
            self.global_steps,
            max_ckpt_to_keep=self.config.trainer.max_actor_ckpt_to_keep,
        )
        torch.save(rollout.data_state, os.path.join(folder, DATA_STATE_FILE))
        _atomic_write(
            os.path.join(folder, PIPELINE_STATE_FILE),
            json.dumps({"step": self.global_steps, "epoch": rollout.epoch, "batch_index": rollout.index}),
        )
        # the tracker moves last, so a crash mid-save leaves the previous checkpoint as the latest
        _atomic_write(os.path.join(root, "latest_checkpointed_iteration.txt"), str(self.global_steps))

    def load_checkpoint(self) -> int:
        """Restore model, optimizer, step, epoch and data position (`trainer.resume_mode`: auto|resume_path|disable)."""
        trainer = self.config.trainer
        folder = resume_folder(trainer.resume_mode, trainer.get("resume_from_path"), trainer.default_local_dir)
        if folder is None:
            logger.info("no checkpoint to resume (trainer.resume_mode=%s): training from scratch", trainer.resume_mode)
            return 0
        point = resume_point(folder, len(self.train_dataloader))  # refuses a checkpoint without data.pt
        self.global_steps = point.step
        self.actor_rollout_wg.load_checkpoint(
            os.path.join(folder, "actor"), del_local_after_load=trainer.del_local_ckpt_after_load
        )
        self.train_dataloader.load_state_dict(torch.load(point.data_state, weights_only=False))
        self._start_epoch = point.epoch
        print(f"[verl_pipeline] resumed from {folder}: step {self.global_steps}, epoch {self._start_epoch}")
        return self.global_steps

    def _log_step(self, batch: DataProto, rollout: RolloutBatch, gate: PolicyVersionGate, trainer_idle_s: float,
                  step_s: float) -> None:
        accounting = gate.take_accounting()
        self.timing_raw["step"] = step_s
        self.timing_raw["update_weights"] = accounting["sync_s"]
        self.collect_metrics(batch)
        gen_done = batch.non_tensor_batch.get("gen_done_ts")
        reward_done = batch.non_tensor_batch.get("reward_done_ts")
        if gen_done is not None and reward_done is not None and None not in list(reward_done):
            self.metrics["timing_s/reward_tail"] = grpo_plus.reward_tail_s(
                np.asarray(gen_done, dtype=np.float64), np.asarray(reward_done, dtype=np.float64)
            )
        self.metrics.update(
            {
                "pipeline/trainer_idle_s": trainer_idle_s,
                "pipeline/rollout_idle_s": accounting["rollout_idle_s"],
                "pipeline/weight_syncs": accounting["num_syncs"],
                "pipeline/rollout_version": float(gate.rollout_version),
                "pipeline/max_staleness": float(self.pipeline.max_staleness),
            }
        )
        self.logger.log(data=self.metrics, step=self.global_steps)
        if self.pipeline.summary:
            print(format_step_summary(self.global_steps, self.total_training_steps, self.metrics), flush=True)
        if self.pipeline.trace_file:
            self._trace(batch, rollout)

    def _trace(self, batch: DataProto, rollout: RolloutBatch) -> None:
        """Append what this step trained on (prompt indices, versions) to `pipeline.trace_file` (JSON lines)."""
        extra = batch.non_tensor_batch.get("extra_info")
        indices = sorted({int(e.get("index", -1)) for e in extra}) if extra is not None else []
        # the versions the rollout server reports per sample (min and max over its generation): one batch, one
        # version, unless a weight sync ran mid-generation
        reported = [batch.non_tensor_batch.get(k) for k in ("min_global_steps", "max_global_steps")]
        sample_versions = sorted({int(v) for vs in reported if vs is not None for v in vs if v is not None})
        record = {
            "step": self.global_steps,
            "batch_index": rollout.index,
            "epoch": rollout.epoch,
            "policy_version": rollout.policy_version,
            "prompt_indices": indices,
            "sample_versions": sample_versions,
            "gen_start": rollout.gen_started_at,
            "gen_end": rollout.gen_ended_at,
            "staleness": self.metrics.get("pipeline/staleness"),
            # partial rollout: per sample (in batch order), its tokens' versions as [version, tokens] runs
            "token_version_runs": _runs(batch.non_tensor_batch.get("token_versions")),
            "score_mean": self.metrics.get("critic/score/mean"),
            "pg_loss": self.metrics.get("actor/pg_loss"),
            "grad_norm": self.metrics.get("actor/grad_norm"),
        }
        self._append_trace(record)

    def _append_trace(self, record: dict) -> None:
        if not self.pipeline.trace_file:
            return
        os.makedirs(os.path.dirname(os.path.abspath(self.pipeline.trace_file)), exist_ok=True)
        with open(self.pipeline.trace_file, "a") as f:
            f.write(json.dumps(record, default=float) + "\n")


def _runs(token_versions) -> list[list[list[int]]] | None:
    """[[version, count], ...] per sample: a response's per-token versions, run-length encoded."""
    if token_versions is None:
        return None
    out = []
    for versions in token_versions:
        runs: list[list[int]] = []
        for v in versions:
            if runs and runs[-1][0] == v:
                runs[-1][1] += 1
            else:
                runs.append([int(v), 1])
        out.append(runs)
    return out


def _pin(cores: list[int]) -> list[int]:
    from verl_pipeline.cpu.affinity import pin_current_process

    return pin_current_process(cores)


def _renice(niceness: int) -> int:
    from verl_pipeline.cpu.affinity import renice_current_process

    return renice_current_process(niceness)


def _atomic_write(path: str, text: str) -> None:
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
