"""Reading a checkpoint to resume from: ours, one in verl's own trainer layout, and one without the data position."""

from __future__ import annotations

import json

import pytest

from verl_pipeline.checkpoints import resume_folder, resume_point


def _checkpoint(root, step, *, data=True, ours=True, tracker=True):
    folder = root / f"global_step_{step}"
    (folder / "actor").mkdir(parents=True)
    if data:
        (folder / "data.pt").write_bytes(b"state")
    if ours:
        (folder / "pipeline_state.json").write_text(json.dumps({"step": step, "epoch": 3, "batch_index": step}))
    if tracker:
        (root / "latest_checkpointed_iteration.txt").write_text(str(step))
    return folder


def test_our_checkpoint_resumes_at_its_step_epoch_and_data_position(tmp_path):
    folder = _checkpoint(tmp_path, 7)
    point = resume_point(resume_folder("auto", None, str(tmp_path)), batches_per_epoch=2)
    assert (point.step, point.epoch, point.data_state) == (7, 3, str(folder / "data.pt"))


def test_a_checkpoint_of_verls_trainer_derives_the_epoch_as_verl_does(tmp_path):
    # verl's RayPPOTrainer writes actor/, data.pt and the tracker, no pipeline_state.json
    _checkpoint(tmp_path, 7, ours=False)
    point = resume_point(resume_folder("auto", None, str(tmp_path)), batches_per_epoch=2)
    assert (point.step, point.epoch) == (7, 3)  # 7 // 2


@pytest.mark.parametrize("ours", [True, False])
def test_a_checkpoint_without_the_data_position_is_refused(tmp_path, ours):
    folder = _checkpoint(tmp_path, 4, data=False, ours=ours)
    with pytest.raises(ValueError, match="no data.pt") as err:
        resume_point(folder, batches_per_epoch=2)
    assert "trainer.resume_mode=disable" in str(err.value) and "step 4" in str(err.value)


def test_resume_path_picks_the_named_folder_not_the_latest(tmp_path):
    older = _checkpoint(tmp_path, 2)
    _checkpoint(tmp_path, 5)
    folder = resume_folder("resume_path", str(older), str(tmp_path))
    assert resume_point(folder, batches_per_epoch=10).step == 2


@pytest.mark.parametrize("path", [None, "/nowhere/ckpt", "/nowhere/global_step_3"])
def test_resume_path_must_name_an_existing_global_step_folder(tmp_path, path):
    with pytest.raises(ValueError, match="trainer.resume_from_path"):
        resume_folder("resume_path", path, str(tmp_path))


def test_auto_without_a_checkpoint_and_disable_start_fresh(tmp_path):
    assert resume_folder("auto", None, str(tmp_path)) is None
    _checkpoint(tmp_path, 3)
    assert resume_folder("disable", None, str(tmp_path)) is None
