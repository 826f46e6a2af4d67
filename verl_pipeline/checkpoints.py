"""Finding and reading checkpoints on disk (no verl import): what phase 2 of a recipe starts from, and where a
resumed run continues."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

TRACKER = "latest_checkpointed_iteration.txt"


def latest_step(root: str | os.PathLike) -> int | None:
    """The step of the newest complete checkpoint under `root` (verl's tracker file), or None."""
    tracker = Path(os.path.expanduser(str(root))) / TRACKER
    if not tracker.exists():
        return None
    return int(tracker.read_text().strip())


def latest_hf_export(root: str) -> str:
    """The Hugging Face export of the newest checkpoint under `root` (`${vp_latest_hf:ROOT}` in recipes).

    Raises:
        ValueError: naming the directory and what to do, when there is no checkpoint or no HF export in it.
    """
    root_path = Path(os.path.abspath(os.path.expanduser(root)))
    step = latest_step(root_path)
    if step is None:
        raise ValueError(
            f"this phase starts from the latest checkpoint in {root_path}, but there is none ({TRACKER} is missing). "
            "Run the previous phase first, or set actor_rollout_ref.model.path to a Hugging Face model directory."
        )
    export = root_path / f"global_step_{step}" / "actor" / "huggingface"
    if not (export / "config.json").exists():
        raise ValueError(
            f"checkpoint global_step_{step} in {root_path} has no Hugging Face export ({export}). The previous phase "
            "must save it: actor_rollout_ref.actor.checkpoint.save_contents must include hf_model."
        )
    return str(export)


PIPELINE_STATE_FILE = "pipeline_state.json"
DATA_STATE_FILE = "data.pt"


@dataclass
class ResumePoint:
    """Where training continues: the step, the epoch, and the data-loader state file (verl's `data.pt`)."""

    folder: str
    step: int
    epoch: int
    data_state: str


def resume_point(folder: str | os.PathLike, batches_per_epoch: int) -> ResumePoint:
    """Read a `global_step_N` checkpoint: ours (with pipeline_state.json) or one written by verl's own trainer.

    Raises:
        ValueError: when the folder has no `data.pt`. Without it the data loader would start again from the
            first batch while the step count continues, silently training twice on the first prompts.
    """
    folder = os.path.abspath(os.path.expanduser(str(folder)))
    step = int(folder.rsplit("global_step_", 1)[-1])
    data_state = os.path.join(folder, DATA_STATE_FILE)
    if not os.path.exists(data_state):
        raise ValueError(
            f"checkpoint {folder} has no {DATA_STATE_FILE} (the data loader's position): resuming would restore "
            f"step {step} but draw prompts again from the start of the data. Resume from a checkpoint that has it, "
            "or start a new run from these weights with trainer.resume_mode=disable and "
            f"actor_rollout_ref.model.path set to its Hugging Face export ({folder}/actor/huggingface)."
        )
    state_path = os.path.join(folder, PIPELINE_STATE_FILE)
    if os.path.exists(state_path):
        with open(state_path) as f:
            epoch = int(json.load(f)["epoch"])
    else:  # a checkpoint written by verl's own trainer: derive the epoch as verl does
        epoch = step // max(1, batches_per_epoch)
    return ResumePoint(folder=folder, step=step, epoch=epoch, data_state=data_state)


def resume_folder(mode: str, resume_from_path: str | None, default_local_dir: str) -> str | None:
    """The checkpoint `trainer.resume_mode` (auto | resume_path | disable) selects, or None to start fresh.

    Raises:
        ValueError: resume_path without a `global_step_N` folder, or one that does not exist.
    """
    if mode == "disable":
        return None
    if mode == "resume_path":
        if not resume_from_path or "global_step_" not in str(resume_from_path):
            raise ValueError(
                f"trainer.resume_from_path={resume_from_path!r} must point at a global_step_N folder when "
                "trainer.resume_mode=resume_path"
            )
        if not os.path.isdir(os.path.expanduser(str(resume_from_path))):
            raise ValueError(f"trainer.resume_from_path={resume_from_path!r} does not exist")
        return os.path.abspath(os.path.expanduser(str(resume_from_path)))
    root = os.path.abspath(os.path.expanduser(default_local_dir))
    step = latest_step(root)
    if step is None:
        return None
    folder = os.path.join(root, f"global_step_{step}")
    return folder if os.path.isdir(folder) else None
