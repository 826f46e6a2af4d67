"""GRPO+ as the recipes configure it: clip-high is active in the loss verl computes, overlong filtering removes
truncated responses from the loss, and the pipeline metrics compute what their names say."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from vp_testing import compose

from verl_pipeline.pipeline import grpo_plus


def _actor_config(*overrides: str):
    """The actor config dataclass the smoke recipe gives verl (GRPO+: clip 0.2 / 0.28, token-mean)."""
    from verl.utils.config import omega_conf_to_dataclass

    cfg = compose(["+recipe=smoke", *overrides])
    actor = OmegaConf.to_container(cfg.actor_rollout_ref.actor, resolve=False)
    actor["rollout_n"] = 4
    actor["ppo_micro_batch_size_per_gpu"] = 4
    config = omega_conf_to_dataclass(OmegaConf.create(actor))
    config.global_batch_info.update(dp_size=1, batch_num_tokens=None, global_batch_size=None, loss_scale_factor=None)
    return config


@pytest.fixture(scope="module")
def actor_config():
    return _actor_config()


def _loss_and_grad(config, ratios, advantages):
    from verl.trainer.ppo.core_algos import get_policy_loss_fn

    old = torch.zeros(1, len(ratios))
    log_prob = torch.log(torch.tensor([ratios], dtype=torch.float64)).float().requires_grad_(True)
    adv = torch.tensor([advantages], dtype=torch.float32)
    loss, _ = get_policy_loss_fn(config.policy_loss.loss_mode)(
        old_log_prob=old, log_prob=log_prob, advantages=adv, response_mask=torch.ones_like(adv),
        loss_agg_mode=config.loss_agg_mode, config=config,
    )
    loss.backward()
    return float(loss.detach()), log_prob.grad[0].tolist()


def test_clip_high_is_active_in_the_configured_loss(actor_config):
    # Regression for DeepCoder's released loss, whose clip did nothing (rllm#81).
    # Tokens (ratio, advantage):
    #   (1.50, +1): above 1 + 0.28 with A > 0 -> clipped, no gradient
    #   (1.25, +1): inside the high clip 0.28 (a symmetric 0.2 clip would cut it) -> gradient
    #   (0.70, -1): below 1 - 0.2 with A < 0 -> clipped, no gradient
    #   (0.90, -1): inside -> gradient
    assert (actor_config.clip_ratio_low, actor_config.clip_ratio_high) == (0.2, 0.28)
    loss, grad = _loss_and_grad(actor_config, [1.5, 1.25, 0.7, 0.9], [1.0, 1.0, -1.0, -1.0])
    assert grad[0] == 0.0 and grad[2] == 0.0, grad
    assert grad[1] != 0.0 and grad[3] != 0.0, grad
    # loss = mean(-A * clip(r)): (-1.28 - 1.25 + 0.8 + 0.9) / 4 = -0.2075
    assert loss == pytest.approx(-0.2075, abs=1e-5)


def test_symmetric_clip_would_cut_what_clip_high_keeps(actor_config):
    symmetric = _actor_config("actor_rollout_ref.actor.clip_ratio_high=0.2")
    _, grad = _loss_and_grad(symmetric, [1.25], [1.0])
    assert grad == [0.0]
    _, grad = _loss_and_grad(actor_config, [1.25], [1.0])
    assert grad[0] != 0.0


def test_truncated_means_full_length_without_eos():
    eos = {2}
    responses = torch.tensor([
        [5, 6, 7, 8],  # full length, no EOS -> truncated
        [5, 6, 7, 2],  # full length, ends with EOS -> complete
        [5, 2, 0, 0],  # EOS early -> complete
        [5, 6, 0, 0],  # short without EOS (e.g. a stop string) -> not truncated by the length limit
    ])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 0, 0], [1, 1, 0, 0]])
    assert grpo_plus.truncated_responses(responses, mask, eos, 4).tolist() == [True, False, False, False]


def test_overlong_filtering_removes_truncated_responses_from_the_loss(actor_config):
    from verl.trainer.ppo.core_algos import get_policy_loss_fn

    mask = torch.ones(2, 3)
    filtered = grpo_plus.mask_truncated(mask, torch.tensor([True, False]))
    assert filtered.tolist() == [[0, 0, 0], [1, 1, 1]]
    # with the filtered mask, the truncated sample's tokens get no gradient at all
    log_prob = torch.zeros(2, 3, requires_grad=True)
    loss, _ = get_policy_loss_fn("vanilla")(
        old_log_prob=torch.zeros(2, 3), log_prob=log_prob, advantages=torch.tensor([[-1.0] * 3, [1.0] * 3]),
        response_mask=filtered, loss_agg_mode="token-mean", config=actor_config,
    )
    loss.backward()
    assert log_prob.grad[0].abs().sum() == 0 and log_prob.grad[1].abs().sum() > 0


def test_staleness_is_the_version_lag_of_each_sample():
    # training step 5 starts from version 4
    assert grpo_plus.staleness(np.array([4, 3, 3]), step=5).tolist() == [0, 1, 1]


def test_importance_ratio_stats_ignore_padding():
    old = torch.log(torch.tensor([[1.0, 2.0, 9.0]]))
    rollout = torch.zeros(1, 3)
    stats = grpo_plus.importance_ratio_stats(old, rollout, torch.tensor([[1, 1, 0]]))
    assert stats["pipeline/is_ratio_mean"] == pytest.approx(1.5) and stats["pipeline/is_ratio_max"] == pytest.approx(2.0)


def test_reward_tail_is_from_last_sample_to_last_reward():
    gen = np.array([10.0, 12.0, 11.0])
    assert grpo_plus.reward_tail_s(gen, np.array([10.5, 12.25, 11.2])) == pytest.approx(0.25)
    assert grpo_plus.reward_tail_s(gen, np.array([10.5, 11.0, 11.5])) == 0.0
