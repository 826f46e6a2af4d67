"""Drive verl_pipeline's rollout pool outside training: sample responses for the prompts of a parquet file.

Everything here is public verl machinery plus the pieces verl_pipeline registers into it, so another project can
do the same: a standalone rollout replica on its own Ray resource pool (`LLMServerManager`, here with the CPU
rollout `hf`; `vllm` on GPUs), verl's agent loop to apply the chat template and call the servers, and optionally
the `deepcoder_code` reward workers to score each sample as it finishes.

    python examples/reuse_worker_groups.py                       # bundled problems, tiny model, CPU
    python examples/reuse_worker_groups.py --parquet data/deepcoder/val.parquet --model /path/to/hf --n 4 --score
"""

from __future__ import annotations

import argparse

import numpy as np
import ray


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parquet", help="verl RL parquet (default: the bundled validation problems)")
    parser.add_argument("--model", help="Hugging Face model directory (default: the tiny coder built in code)")
    parser.add_argument("--num-prompts", type=int, default=4)
    parser.add_argument("--n", type=int, default=2, help="samples per prompt")
    parser.add_argument("--max-response-length", type=int, default=48)
    parser.add_argument("--score", action="store_true", help="score each sample with the sandboxed code reward")
    args = parser.parse_args()

    from verl_pipeline.assets import resolve_asset
    from verl_pipeline.main import compose_config

    cfg = compose_config([
        "+recipe=smoke",
        f"data.val_files={args.parquet or resolve_asset('bundled_val')}",
        f"data.train_files={args.parquet or resolve_asset('bundled_val')}",
        f"actor_rollout_ref.model.path={args.model or resolve_asset('tiny_coder')}",
        f"data.max_response_length={args.max_response_length}",
    ])
    ray.init(num_cpus=8, num_gpus=1, include_dashboard=False, runtime_env={"env_vars": {"VERL_PLATFORM": "cpu"}})

    from verl import DataProto
    from verl.experimental.agent_loop import AgentLoopManager
    from verl.experimental.reward_loop import RewardLoopManager
    from verl.trainer.ppo.utils import create_rl_dataset
    from verl.utils.config import omega_conf_to_dataclass
    from verl.utils.dataset.rl_dataset import collate_fn
    from verl.workers.config import HFModelConfig
    from verl.workers.rollout.llm_server import LLMServerManager

    model_config: HFModelConfig = omega_conf_to_dataclass(cfg.actor_rollout_ref.model)
    tokenizer = model_config.tokenizer
    dataset = create_rl_dataset(cfg.data.val_files, cfg.data, tokenizer, None, is_train=False)
    prompts = DataProto.from_single_dict(collate_fn([dataset[i] for i in range(min(args.num_prompts, len(dataset)))]))
    gen_batch = prompts.pop(
        batch_keys=[], non_tensor_batch_keys=[k for k in prompts.non_tensor_batch if k not in ("data_source", "reward_model", "extra_info")]
    )
    gen_batch.non_tensor_batch.update(prompts.non_tensor_batch)

    # the rollout pool: one standalone hf replica (a Ray placement group of its own)
    servers = LLMServerManager.create(config=cfg)
    rewards = RewardLoopManager(config=cfg, rm_resource_pool=None) if args.score else None
    agents = AgentLoopManager.create(
        config=cfg, llm_client=servers.get_client(),
        reward_loop_worker_handles=rewards.reward_loop_workers if rewards else None,
    )
    out = agents.generate_sequences(gen_batch.repeat(repeat_times=args.n, interleave=True))

    responses = [tokenizer.decode(ids[mask.bool()]) for ids, mask in zip(out.batch["responses"], out.batch["response_mask"])]
    scores = out.batch["rm_scores"].sum(-1).tolist() if "rm_scores" in out.batch.keys() else [None] * len(responses)
    versions = out.non_tensor_batch.get("global_steps", np.full(len(responses), None))
    for i, (text, score, version) in enumerate(zip(responses, scores, versions)):
        verdict = out.non_tensor_batch["verdict"][i] if "verdict" in out.non_tensor_batch else ""
        print(f"--- sample {i} (prompt {i // args.n}, policy v{version}, reward {score} {verdict})\n{text}")
    ray.shutdown()


if __name__ == "__main__":
    main()
