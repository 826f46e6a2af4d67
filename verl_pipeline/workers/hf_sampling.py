"""Token-in, token-out sampling with a Hugging Face causal LM on CPU (or any torch device).

This is the engine behind the CPU rollout server (`verl_pipeline.workers.hf_rollout`) and the CPU path of
`python -m verl_pipeline.eval generate`. It imports neither verl nor Ray.

What it guarantees:
- Each request carries its own seed and its own `torch.Generator`, so a request's sample does not depend on
  which other requests share its batch (up to float reduction order in the batched forward pass).
- `log_probs` are log-softmax(logits / temperature) of the sampled tokens, before top-k/top-p truncation:
  the same quantity verl's actor computes for `old_log_probs`, so importance ratios between the sampler and
  the trainer compare like with like.
- `finish_reason` is "stop" when an EOS token ended the sequence (the EOS token is included in `token_ids`)
  and "length" when `max_tokens` did: "length" is what overlong filtering keys on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class SamplingParams:
    max_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = -1
    seed: int = 0
    ignore_eos: bool = False


@dataclass
class Sample:
    token_ids: list[int]
    log_probs: list[float]
    finish_reason: str  # "stop" | "length"


@dataclass
class _Row:
    prompt: list[int]
    params: SamplingParams
    generator: torch.Generator
    tokens: list[int] = field(default_factory=list)
    log_probs: list[float] = field(default_factory=list)
    finish_reason: str | None = None


def _filter_logits(logits: torch.Tensor, top_k: int, top_p: float) -> torch.Tensor:
    """Mask logits outside top-k / the top-p nucleus with -inf. logits: [V]."""
    if top_k is not None and 0 < top_k < logits.numel():
        kth = torch.topk(logits, top_k).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and 0.0 < top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True)
        cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
        # keep the smallest prefix whose mass reaches top_p (the token that crosses it stays)
        drop = cumulative - torch.softmax(sorted_logits, dim=-1) >= top_p
        logits = logits.masked_fill(torch.zeros_like(drop).scatter(0, order, drop), float("-inf"))
    return logits


def _pick_token(logits: torch.Tensor, row: _Row) -> tuple[int, float]:
    """Sample (or take the argmax of) one token from logits [V]; return it and its log-prob."""
    p = row.params
    logits = logits.float()
    if p.temperature <= 0:
        token = int(torch.argmax(logits))
        return token, float(torch.log_softmax(logits, dim=-1)[token])
    scaled = logits / p.temperature
    filtered = _filter_logits(scaled, p.top_k, p.top_p)
    probs = torch.softmax(filtered, dim=-1)
    token = int(torch.multinomial(probs, 1, generator=row.generator))
    return token, float(torch.log_softmax(scaled, dim=-1)[token])


@torch.no_grad()
def sample_batch(
    model: torch.nn.Module,
    prompts: list[list[int]],
    params: list[SamplingParams],
    eos_token_ids: set[int],
    pad_token_id: int,
) -> list[Sample]:
    """Generate one completion per prompt, all in one left-padded batch with a KV cache.

    Args:
        model: a causal LM returning `.logits` and accepting `past_key_values`.
        prompts: prompt token ids, one list per request.
        params: sampling parameters, one per request (each with its own seed).
        eos_token_ids: tokens that end a sequence unless `ignore_eos`.
        pad_token_id: id used for left padding (masked out, never attended).
    """
    if len(prompts) != len(params):
        raise ValueError(f"got {len(prompts)} prompts but {len(params)} sampling params")
    if not prompts:
        return []
    device = next(model.parameters()).device
    rows = [
        _Row(prompt=list(pr), params=pa, generator=torch.Generator().manual_seed(int(pa.seed) & ((1 << 63) - 1)))
        for pr, pa in zip(prompts, params)
    ]
    width = max(len(r.prompt) for r in rows)
    input_ids = torch.full((len(rows), width), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        input_ids[i, width - len(r.prompt) :] = torch.tensor(r.prompt, dtype=torch.long)
        attention_mask[i, width - len(r.prompt) :] = 1
    input_ids, attention_mask = input_ids.to(device), attention_mask.to(device)
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)

    past = None
    step_ids = input_ids
    step_pos = position_ids
    max_steps = max(r.params.max_tokens for r in rows)
    for _ in range(max_steps):
        out = model(
            input_ids=step_ids,
            attention_mask=attention_mask,
            position_ids=step_pos,
            past_key_values=past,
            use_cache=True,
        )
        past = out.past_key_values
        last_logits = out.logits[:, -1, :].cpu()  # [B, V]
        next_ids = torch.full((len(rows),), pad_token_id, dtype=torch.long)
        for i, r in enumerate(rows):
            if r.finish_reason is not None:
                continue
            token, logp = _pick_token(last_logits[i], r)
            r.tokens.append(token)
            r.log_probs.append(logp)
            next_ids[i] = token
            if token in eos_token_ids and not r.params.ignore_eos:
                r.finish_reason = "stop"
            elif len(r.tokens) >= r.params.max_tokens:
                r.finish_reason = "length"
        if all(r.finish_reason is not None for r in rows):
            break
        # finished rows keep decoding a masked pad token; their outputs are ignored
        alive = torch.tensor([r.finish_reason is None for r in rows], dtype=torch.long)
        attention_mask = torch.cat([attention_mask, alive.unsqueeze(1).to(device)], dim=1)
        step_ids = next_ids.unsqueeze(1).to(device)
        step_pos = step_pos[:, -1:] + 1
    return [Sample(token_ids=r.tokens, log_probs=r.log_probs, finish_reason=r.finish_reason or "length") for r in rows]
