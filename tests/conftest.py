"""Shared fixtures. Tests never reach a hub: models, tokenizers and data are built in code (verl_pipeline.assets)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_model_path() -> str:
    from verl_pipeline.assets.tiny import tiny_model_path

    return tiny_model_path()



def pytest_collection_modifyitems(config, items):
    """`gpu` tests need CUDA: on CPU machines they are skipped, with the reason in the report."""
    try:
        import torch

        has_gpu = torch.cuda.is_available()
    except ImportError:
        has_gpu = False
    if has_gpu:
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (and the gpu extra: pip install -e '.[gpu]')")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
