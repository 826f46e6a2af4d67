"""PipelinedPPOTrainer's per-batch checks on hand-built batches (no Ray): the staleness bound and overlong masking."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from verl import DataProto

from verl_pipeline.config import PipelineConfig
from verl_pipeline.pipeline.rollouter import RolloutBatch
from verl_pipeline.pipeline.trainer import PipelinedPPOTrainer


def _trainer(step: int, k: int, overlong: bool = True) -> PipelinedPPOTrainer:
    trainer = object.__new__(PipelinedPPOTrainer)  # only the fields these checks read
    trainer.global_steps, trainer.metrics = step, {}
    trainer.pipeline = PipelineConfig(max_staleness=k, overlong_filtering=overlong)
    trainer.config = OmegaConf.create({"actor_rollout_ref": {"rollout": {"response_length": 3}}})
    trainer._eos_token_ids = {2}
    return trainer


def _rollout(batch, version):
    return RolloutBatch(index=1, batch=batch, policy_version=version, epoch=0, data_state={}, gen_s=0.0)


def _batch(versions):
    return DataProto.from_dict(tensors={"x": torch.zeros(len(versions), 1)},
                               non_tensors={"min_global_steps": np.array(versions, dtype=object)})


def test_check_staleness_records_the_lag_of_each_sample():
    trainer = _trainer(step=5, k=2)
    trainer.check_staleness(_batch([4, 3, 2]), _rollout(None, 2))  # lags (5-1)-v: 0, 1, 2
    assert trainer.metrics["pipeline/staleness"] == pytest.approx(1.0)
    assert trainer.metrics["pipeline/staleness_max"] == 2.0


@pytest.mark.parametrize("versions", [[4, 1], [5]])  # lag 3 > k=2; and a version from the future (lag -1)
def test_check_staleness_refuses_samples_outside_the_bound(versions):
    with pytest.raises(RuntimeError, match="max_staleness=2"):
        _trainer(step=5, k=2).check_staleness(_batch(versions), _rollout(None, 2))


@pytest.mark.parametrize("overlong", [True, False])
def test_filter_overlong_masks_only_responses_cut_off_by_the_length_limit(overlong):
    # rows: ends with eos inside the limit; hits the limit of 3 without eos (truncated); short without eos
    responses = torch.tensor([[5, 2, 0], [5, 6, 7], [5, 0, 0]])
    mask = torch.tensor([[1, 1, 0], [1, 1, 1], [1, 0, 0]])
    batch = DataProto.from_dict(tensors={"responses": responses, "response_mask": mask.clone()})
    trainer = _trainer(step=1, k=1, overlong=overlong)
    trainer.filter_overlong(batch)
    assert trainer.metrics["pipeline/truncated_frac"] == pytest.approx(1 / 3)
    expected = mask.clone()
    if overlong:
        expected[1] = 0
    assert torch.equal(batch.batch["response_mask"], expected)
    assert trainer.metrics["pipeline/overlong_masked_frac"] == pytest.approx(1 / 3 if overlong else 0.0)
