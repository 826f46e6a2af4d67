"""One registry of data sources for curation and the reward (verl_pipeline/data/sources.py)."""

from __future__ import annotations

import base64
import json
import pickle
import zlib

import pytest

from verl_pipeline.data import formats as data_formats
from verl_pipeline.data import problem, sources
from verl_pipeline.reward import formats as reward_formats


def test_both_packages_know_exactly_the_registry_sources():
    assert problem.DATA_SOURCES == sources.NAMES == reward_formats.KNOWN_SOURCES
    assert reward_formats.TIME_LIMITS["livecodebench"] == sources.SOURCES["livecodebench"].time_limit_s == 6.0
    assert {name for name, _ in data_formats._PATH_HINTS} == set(sources.NAMES)


def test_one_lcb_decoder_serves_curation_and_the_reward():
    tests = [{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}]
    blob = base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode()
    assert data_formats.decode_lcb_private_tests(blob) == tests
    assert reward_formats.parse_problem("livecodebench", blob).cases[0].expected == "3\n"


def test_a_pickled_class_is_refused_not_imported():
    blob = base64.b64encode(zlib.compress(pickle.dumps(ValueError("x")))).decode()
    with pytest.raises(ValueError, match="refusing to load builtins.ValueError"):
        sources.decode_lcb_tests(blob)
