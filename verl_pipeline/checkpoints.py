"""Finding checkpoints on disk (no verl import): what phase 2 of a recipe starts from."""

from __future__ import annotations

import os
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
