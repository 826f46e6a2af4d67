"""Fixtures for the code-reward tests: real sandboxes, both isolation layers.

``layer`` runs a test once under bubblewrap (namespaces) and once under the Landlock fallback,
forced with ``isolation=...``. Nothing is mocked: every program really runs in a sandbox.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verl_pipeline.reward import compute_score, isolation, sandbox

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(params=["bwrap", "landlock"])
def layer(request) -> str:
    if request.param == "bwrap" and isolation.bwrap_path() is None:
        pytest.skip("bubblewrap is not installed (CI installs it: apt-get install -y bubblewrap)")
    if request.param == "landlock" and isolation.landlock_abi() < 1:
        pytest.skip("this kernel has no Landlock")
    return request.param


@pytest.fixture
def rules() -> str:
    """The rule set ``stdio`` and ``call`` judge with; a module overrides it to run both."""
    return "deepcoder"


def fence(code: str) -> str:
    return f"Here is my solution.\n```python\n{code}\n```\n"


@pytest.fixture
def stdio(layer, rules):
    """Judge ``code`` on stdin/stdout tests [(input, output), ...] under ``layer``."""

    def run(code: str, tests: list[tuple[str, str]], **kwargs) -> dict:
        gt = {"inputs": [i for i, _ in tests], "outputs": [o for _, o in tests]}
        kwargs.setdefault("time_limit_s", 2)
        kwargs.setdefault("rules", rules)
        return compute_score("taco", fence(code), json.dumps(gt), isolation=layer, **kwargs)

    return run


@pytest.fixture
def call(layer, rules):
    """Judge ``code`` on function-call tests [(args, expected), ...] of ``fn`` under ``layer``."""

    def run(code: str, fn: str, tests: list[tuple[list, object]], **kwargs) -> dict:
        gt = [{"input": "\n".join(json.dumps(a) for a in args), "output": json.dumps(out),
               "testtype": "functional", "metadata": {"func_name": fn}} for args, out in tests]
        kwargs.setdefault("time_limit_s", 2)
        kwargs.setdefault("rules", rules)
        return compute_score("livecodebench", fence(code), gt, isolation=layer, **kwargs)

    return run


@pytest.fixture
def no_pool():
    """Start from (and leave) an empty sandbox pool, so process checks see only this test's work."""
    sandbox.close_sandboxes()
    yield
    sandbox.close_sandboxes()
