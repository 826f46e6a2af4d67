"""Where built assets live: `$VERL_PIPELINE_CACHE`, default `~/.cache/verl_pipeline`.

Its own module so the asset builders import it without importing each other (models need problems for the
tokenizer corpus; the smoke data set needs the warm-up problems, which need the model)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    return Path(os.environ.get("VERL_PIPELINE_CACHE", Path.home() / ".cache" / "verl_pipeline"))
