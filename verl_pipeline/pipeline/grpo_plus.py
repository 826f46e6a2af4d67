"""GRPO+ pieces verl 0.9.1 lacks, and the pipeline's per-step metrics. Pure torch/numpy; no verl, no Ray.

GRPO+ (DeepCoder) = GRPO advantages without std normalisation, no KL and no entropy loss, clip-high
(eps_low 0.2, eps_high 0.28), token-level loss, and *overlong filtering*: a response cut off by the length
limit carries no loss, so the model is not punished for a long chain of thought that simply did not fit.
Everything but overlong filtering is verl configuration (see recipes/); overlong filtering is here.
"""

from __future__ import annotations

import numpy as np
import torch


def truncated_responses(
    responses: torch.Tensor, response_mask: torch.Tensor, eos_token_ids: set[int], response_length: int
) -> torch.Tensor:
    """Which responses were cut off by the length limit: full length and not ended by an EOS token.

    Args:
        responses: [B, T] response token ids (right-padded).
        response_mask: [B, T] 1 for generated tokens.
        eos_token_ids: tokens that end a response.
        response_length: the sampler's limit (`actor_rollout_ref.rollout.response_length`, which verl
            interpolates from `data.max_response_length` unless set).
    Returns:
        [B] bool.
    """
    lengths = response_mask.sum(dim=-1).long()  # [B]
    last = responses.gather(1, (lengths - 1).clamp(min=0).unsqueeze(1)).squeeze(1)  # [B]
    ended_by_eos = torch.tensor([int(t) in eos_token_ids for t in last.tolist()], dtype=torch.bool)
    return (lengths >= response_length) & ~ended_by_eos


def mask_truncated(response_mask: torch.Tensor, truncated: torch.Tensor) -> torch.Tensor:
    """Overlong filtering: zero the loss mask of truncated responses. [B, T] -> [B, T]."""
    return response_mask * (~truncated).unsqueeze(1).to(response_mask.dtype)


def staleness(policy_versions: np.ndarray, step: int) -> np.ndarray:
    """Per-sample lag: training step `step` starts from version step-1; a sample from version v lags by step-1-v."""
    return (step - 1) - policy_versions.astype(np.int64)


def importance_ratio_stats(
    old_log_probs: torch.Tensor, rollout_log_probs: torch.Tensor, response_mask: torch.Tensor
) -> dict[str, float]:
    """Mean and max token-level ratio pi_old / pi_sampler over valid tokens (before any truncation)."""
    mask = response_mask.bool()
    if not mask.any():
        return {"pipeline/is_ratio_mean": 1.0, "pipeline/is_ratio_max": 1.0}
    ratio = torch.exp((old_log_probs - rollout_log_probs).clamp(-20.0, 20.0))[mask]
    return {"pipeline/is_ratio_mean": float(ratio.mean()), "pipeline/is_ratio_max": float(ratio.max())}


def reward_tail_s(gen_done_ts: np.ndarray, reward_done_ts: np.ndarray) -> float:
    """Time from the last sample finishing to the last reward being known (0 if rewards were all in time)."""
    return max(0.0, float(np.max(reward_done_ts)) - float(np.max(gen_done_ts)))
