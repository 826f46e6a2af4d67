"""Padding-free training on CPU rests on one transformers behaviour: verl's use_remove_padding packs a micro-batch's
samples into one row (attention_mask None, position_ids restarting at 0 per sample, use_cache False) and relies on
the attention kernel to keep samples apart. flash-attn does that on GPUs; on CPU, sdpa does it only because
transformers reads the sample boundaries from position_ids and masks across them. If that stopped, every CPU recipe
with use_remove_padding would train on tokens that attend to other samples."""

from __future__ import annotations

import torch
from transformers import AutoModelForCausalLM


def test_packed_samples_under_sdpa_score_as_they_do_alone(tiny_model_path):
    model = AutoModelForCausalLM.from_pretrained(tiny_model_path, attn_implementation="sdpa",
                                                 dtype=torch.float32).eval()
    generator = torch.Generator().manual_seed(0)
    lengths = [7, 30, 3, 50]
    samples = [torch.randint(0, model.config.vocab_size, (n,), generator=generator) for n in lengths]
    with torch.no_grad():
        alone = [model(input_ids=s[None], use_cache=False).logits[0] for s in samples]
        packed = model(input_ids=torch.cat(samples)[None], attention_mask=None, use_cache=False,
                       position_ids=torch.cat([torch.arange(n) for n in lengths])[None]).logits[0]
        # the same row without the restarts is one long sample: later samples then see earlier ones
        run_on = model(input_ids=torch.cat(samples)[None], use_cache=False).logits[0]
    for one, together in zip(alone, torch.split(packed, lengths)):
        torch.testing.assert_close(together, one, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(torch.split(run_on, lengths)[1], alone[1], atol=1e-3)
