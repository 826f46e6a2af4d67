"""The transformers sampler behind the CPU rollout: per-request seeds, honest log-probs, finish reasons."""

from __future__ import annotations

import pytest
import torch

from verl_pipeline.workers.hf_sampling import SamplingParams, _filter_logits, sample_batch


@pytest.fixture(scope="module")
def model_and_tokenizer(tiny_model_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(1)
    return (
        AutoModelForCausalLM.from_pretrained(tiny_model_path, attn_implementation="sdpa").eval(),
        AutoTokenizer.from_pretrained(tiny_model_path),
    )


def _gen(model, tok, prompts, params):
    return sample_batch(model, prompts, params, {tok.eos_token_id}, tok.pad_token_id)


def test_a_request_samples_the_same_tokens_alone_or_in_a_batch(model_and_tokenizer):
    model, tok = model_and_tokenizer
    short, long = tok("a b")["input_ids"], tok("def main(): return sum(range(10))")["input_ids"]
    params = [SamplingParams(max_tokens=16, seed=11), SamplingParams(max_tokens=16, seed=12)]
    together = _gen(model, tok, [short, long], params)
    alone = [_gen(model, tok, [p], [q])[0] for p, q in zip([short, long], params)]
    assert [s.token_ids for s in together] == [s.token_ids for s in alone]


def test_log_probs_are_the_models_temperature_scaled_log_probs(model_and_tokenizer):
    model, tok = model_and_tokenizer
    prompt = tok("print(")["input_ids"]
    (sample,) = _gen(model, tok, [prompt], [SamplingParams(max_tokens=12, temperature=0.7, top_p=0.9, seed=3)])
    ids = torch.tensor([prompt + sample.token_ids])
    with torch.no_grad():
        logits = model(ids).logits[0, len(prompt) - 1 : -1] / 0.7
    expected = torch.log_softmax(logits, -1).gather(-1, torch.tensor(sample.token_ids)[:, None]).squeeze(-1)
    assert torch.allclose(expected, torch.tensor(sample.log_probs), atol=1e-4)


def test_length_limit_is_reported_as_length_and_eos_as_stop(model_and_tokenizer):
    model, tok = model_and_tokenizer
    prompt = tok("x")["input_ids"]
    (cut,) = _gen(model, tok, [prompt], [SamplingParams(max_tokens=5, seed=1, ignore_eos=True)])
    assert cut.finish_reason == "length" and len(cut.token_ids) == 5
    # greedy decoding under a model whose EOS logit we force to dominate must stop at once
    bias = torch.zeros(model.config.vocab_size)
    bias[tok.eos_token_id] = 1e4
    handle = model.lm_head.register_forward_hook(lambda m, i, out: out + bias)
    try:
        (stopped,) = _gen(model, tok, [prompt], [SamplingParams(max_tokens=5, temperature=0.0)])
    finally:
        handle.remove()
    assert stopped.finish_reason == "stop" and stopped.token_ids == [tok.eos_token_id]


def test_top_k_and_top_p_keep_only_the_nucleus():
    logits = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    assert torch.isfinite(_filter_logits(logits, top_k=2, top_p=1.0)).tolist() == [True, True, False, False]
    # top_p 0.7: 0.5 then 0.3 crosses 0.7 -> keep both, drop the rest
    assert torch.isfinite(_filter_logits(logits, top_k=-1, top_p=0.7)).tolist() == [True, True, False, False]
    assert torch.isfinite(_filter_logits(logits, top_k=-1, top_p=0.4)).tolist() == [True, False, False, False]
