"""The Rollouter thread with the real gate and a stand-in generate function (no Ray): order, versions, the data
position each batch carries, and errors that reach the trainer instead of hanging it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from verl import DataProto

from verl_pipeline.pipeline.gate import PolicyVersionGate
from verl_pipeline.pipeline.rollouter import Rollouter, RolloutProducerError


def _batches(n):
    for i in range(n):
        yield 0, {"prompt_id": torch.tensor([10 * i, 10 * i + 1])}, {"position": i + 1}


def _prepare(batch, index):
    return batch, DataProto.from_dict(tensors={"prompt_id": batch.batch["prompt_id"]})


def _generate(gen_input):
    return DataProto.from_dict(tensors={"responses": gen_input.batch["prompt_id"] + 1})


def test_batches_arrive_in_order_with_their_version_and_data_position():
    gate = PolicyVersionGate(1, lambda v: None)
    rollouter = Rollouter(gate, _batches(3), _generate, _prepare, first_index=1, last_index=3).start()
    try:
        got = []
        for step in (1, 2, 3):
            batch = rollouter.next_batch(poll_s=0.05)
            got.append((batch.index, batch.policy_version, batch.data_state["position"],
                        batch.batch.batch["responses"].tolist()))
            assert len(set(batch.batch.non_tensor_batch["uid"])) == 2  # one uid per prompt
            with gate.training():
                pass
            gate.publish(step)
        # batches 1, 2 may use version 0; batch 3 needs version >= 3 - 1 - 1 = 1 (it waits for step 1's weights)
        assert [(g[0], g[2]) for g in got] == [(1, 1), (2, 2), (3, 3)]
        assert got[0][1] == 0 and 0 <= got[1][1] <= 1 and 1 <= got[2][1] <= 2
        assert got[2][3] == [21, 22]
    finally:
        rollouter.stop()


def test_a_generation_error_reaches_the_trainer():
    def broken(gen_input):
        raise ConnectionError("rollout server died")

    rollouter = Rollouter(PolicyVersionGate(1, lambda v: None), _batches(2), broken, _prepare, 1, 2).start()
    try:
        with pytest.raises(RolloutProducerError, match="rollout server died"):
            rollouter.next_batch(poll_s=0.05)
    finally:
        rollouter.stop()


def test_data_running_out_before_the_last_step_is_an_error():
    rollouter = Rollouter(PolicyVersionGate(2, lambda v: None), _batches(1), _generate, _prepare, 1, 3).start()
    try:
        rollouter.next_batch(poll_s=0.05)
        with pytest.raises(RolloutProducerError, match="data ran out"):
            rollouter.next_batch(poll_s=0.05)
    finally:
        rollouter.stop()
