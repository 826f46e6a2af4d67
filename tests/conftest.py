"""Shared fixtures. Tests never reach a hub: models, tokenizers and data are built in code (verl_pipeline.assets)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_model_path() -> str:
    from verl_pipeline.assets.tiny import tiny_model_path

    return tiny_model_path()

