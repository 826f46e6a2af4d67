"""The ``deepcoder_code`` reward-loop manager, in-process, with a real DataProto and tokenizer."""

from __future__ import annotations

import asyncio
import json
import time

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from verl import DataProto
from verl.experimental.reward_loop.reward_manager import get_reward_manager_cls

from verl_pipeline.reward.manager import DeepCoderCodeRewardManager, register_reward_manager

CORRECT = "Sure.\n```python\nprint(sum(map(int, input().split())))\n```"
WRONG = "Sure.\n```python\nprint(0)\n```"
TESTS = json.dumps({"inputs": ["1 2\n", "3 4\n"], "outputs": ["3\n", "7\n"]})


@pytest.fixture(scope="module")
def tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<pad>", "<eos>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([CORRECT, WRONG, "Write a program.\n```python\nprint(3)\n```\n"] * 20, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>")


def make_batch(tokenizer, prompts: list[str], responses: list[str], tests: str = TESTS) -> DataProto:
    """Left-padded prompts, right-padded responses, as verl's rollout produces them."""
    pad = tokenizer.pad_token_id
    p_ids = [tokenizer.encode(p) for p in prompts]
    r_ids = [tokenizer.encode(r) + [tokenizer.eos_token_id] for r in responses]
    plen, rlen = max(map(len, p_ids)), max(map(len, r_ids)) + 3
    prompt = torch.tensor([[pad] * (plen - len(x)) + x for x in p_ids])
    response = torch.tensor([x + [pad] * (rlen - len(x)) for x in r_ids])
    mask = torch.cat([(prompt != pad).long(), torch.tensor([[1] * len(x) + [0] * (rlen - len(x)) for x in r_ids])], 1)
    n = len(prompts)
    return DataProto.from_dict(
        tensors={"prompts": prompt, "responses": response, "input_ids": torch.cat([prompt, response], 1),
                 "attention_mask": mask},
        non_tensors={
            "data_source": np.array(["taco"] * n, dtype=object),
            "reward_model": np.array([{"ground_truth": tests, "style": "rule"}] * n, dtype=object),
            "extra_info": np.array([{"index": i} for i in range(n)], dtype=object),
        },
    )


@pytest.fixture
def make_manager(tokenizer, monkeypatch):
    # a fresh shared pool per test, so each test chooses its own concurrency
    monkeypatch.setattr(DeepCoderCodeRewardManager, "_executor", None)

    def build(**reward_kwargs) -> DeepCoderCodeRewardManager:
        config = OmegaConf.create({"reward": {"num_workers": 1, "reward_kwargs": reward_kwargs}})
        return DeepCoderCodeRewardManager(config, tokenizer, compute_score=None)

    yield build
    if DeepCoderCodeRewardManager._executor is not None:
        DeepCoderCodeRewardManager._executor.shutdown()


def test_registered_under_its_name_idempotently():
    register_reward_manager()
    register_reward_manager()
    assert get_reward_manager_cls("deepcoder_code") is DeepCoderCodeRewardManager


def test_scores_a_correct_and_a_wrong_response(tokenizer, make_manager):
    mgr = make_manager()
    batch = make_batch(tokenizer, ["Write a program.", "Write a program."], [CORRECT, WRONG])

    async def score_all():
        return await asyncio.gather(*(mgr.run_single(batch[i : i + 1]) for i in range(len(batch))))

    right, wrong = asyncio.run(score_all())
    assert right["reward_score"] == 1.0 and wrong["reward_score"] == 0.0
    assert wrong["reward_extra_info"]["verdict"] == "WA" and wrong["reward_extra_info"]["failed_test"] == 0
    assert right["reward_extra_info"].keys() == wrong["reward_extra_info"].keys()  # verl stacks them per key
    assert right["reward_extra_info"]["failed_test"] == -1 and right["reward_extra_info"]["judge_s"] > 0


def test_only_the_response_is_judged_never_the_prompt(tokenizer, make_manager):
    # the prompt carries a correct program; the response has no code at all
    batch = make_batch(tokenizer, [CORRECT], ["I do not know."])
    out = asyncio.run(make_manager().run_single(batch))
    assert (out["reward_score"], out["reward_extra_info"]["verdict"]) == (0.0, "NO_CODE")


def test_the_event_loop_keeps_running_while_judging(tokenizer, make_manager):
    slow = "```python\nimport time\ntime.sleep(0.5)\nprint(sum(map(int, input().split())))\n```"
    batch = make_batch(tokenizer, ["Write a program."], [slow], tests=json.dumps({"inputs": ["1 2\n"], "outputs": ["3\n"]}))
    mgr = make_manager()
    ticks = []

    async def ticker(stop: asyncio.Event):
        while not stop.is_set():
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    async def main():
        stop = asyncio.Event()
        task = asyncio.create_task(ticker(stop))
        out = await mgr.run_single(batch)
        stop.set()
        await task
        return out

    out = asyncio.run(main())
    assert out["reward_score"] == 1.0
    assert len(ticks) >= 10  # ~50 ticks in 0.5 s when the loop is free; 1 or 2 if judging blocked it


def test_concurrency_is_bounded(tokenizer, make_manager):
    slow = "```python\nimport time\ntime.sleep(0.3)\nprint(sum(map(int, input().split())))\n```"
    batch = make_batch(tokenizer, ["Write a program."] * 3, [slow] * 3,
                       tests=json.dumps({"inputs": ["1 2\n"], "outputs": ["3\n"]}))
    mgr = make_manager(max_concurrent=1)

    async def score_all():
        return await asyncio.gather(*(mgr.run_single(batch[i : i + 1]) for i in range(3)))

    start = time.monotonic()
    results = asyncio.run(score_all())
    assert time.monotonic() - start >= 0.9  # one at a time
    assert max(r["reward_extra_info"]["queue_s"] for r in results) >= 0.5


def test_an_unexpected_error_reading_one_samples_tests_is_that_samples_verdict(tokenizer, make_manager, monkeypatch):
    # CPython 3.11 once raised this from ast.parse under concurrency (formats._AST_PARSE_LOCK); whatever the
    # parser raises next must cost one sample its score, not end the training run
    from verl_pipeline.reward import formats, sandbox

    taco = formats._taco

    def parse_or_fail(raw):
        if raw["inputs"] == ["boom\n"]:
            raise SystemError("AST constructor recursion depth mismatch (before=1, after=2)")
        return taco(raw)

    monkeypatch.setattr(formats, "_taco", parse_or_fail)
    mgr = make_manager()
    good = make_batch(tokenizer, ["Write a program."], [CORRECT])
    bad = make_batch(tokenizer, ["Write a program."], [CORRECT], tests=json.dumps({"inputs": ["boom\n"], "outputs": ["3\n"]}))
    before = sandbox.counters()["internal_errors"]

    async def score_both():
        return await asyncio.gather(mgr.run_single(bad), mgr.run_single(good))

    failed, judged = asyncio.run(score_both())
    assert failed["reward_score"] == 0.0 and failed["reward_extra_info"]["verdict"] == "INTERNAL_ERROR"
    assert "SystemError" in failed["reward_extra_info"]["reason"]
    assert failed["reward_extra_info"].keys() == judged["reward_extra_info"].keys()
    assert judged["reward_score"] == 1.0
    assert sandbox.counters()["internal_errors"] == before + 1


def test_judge_options_come_from_reward_kwargs(tokenizer, make_manager):
    slow = "```python\nimport time\ntime.sleep(1)\n```"
    batch = make_batch(tokenizer, ["Write a program."], [slow])
    out = asyncio.run(make_manager(time_limit_s=0.2).run_single(batch))
    assert out["reward_extra_info"]["verdict"] == "TLE"


def test_unknown_reward_kwargs_are_refused(make_manager):
    with pytest.raises(ValueError, match="unknown keys \\['time_limit'\\]"):
        make_manager(time_limit=3)


def test_verl_reward_loop_worker_uses_it(tokenizer, tmp_path, monkeypatch):
    # verl's own worker (what it wraps in a Ray actor), loading the manager by its registered name
    from verl.experimental.reward_loop.reward_loop import RewardLoopWorker

    monkeypatch.setattr(DeepCoderCodeRewardManager, "_executor", None)
    register_reward_manager()
    tokenizer.save_pretrained(tmp_path)
    config = OmegaConf.create({
        "actor_rollout_ref": {"model": {"path": str(tmp_path), "tokenizer_path": None}},
        "reward": {
            "num_workers": 1,
            "reward_kwargs": {"max_concurrent": 2},
            "custom_reward_function": {"path": None, "name": "compute_score"},
            "reward_manager": {"source": "register", "name": "deepcoder_code"},
            "reward_model": {"enable": False},
            "sandbox_fusion": {"url": None},
        },
    })
    worker = RewardLoopWorker(config)
    assert isinstance(worker.reward_manager, DeepCoderCodeRewardManager)
    outputs = asyncio.run(worker.compute_score_batch(make_batch(tokenizer, ["Write a program."] * 2, [CORRECT, WRONG])))
    assert [o["reward_score"] for o in outputs] == [1.0, 0.0]
