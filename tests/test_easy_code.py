"""The easy coding problem set (verl_pipeline/assets/easy_code.py): judged for real by our sandboxed reward."""

import json

import pytest

from verl_pipeline.assets.easy_code import FAMILIES, easy_problems, verl_rows
from verl_pipeline.reward.api import judge


@pytest.mark.parametrize("split", ["train", "val"])
def test_reference_solutions_are_accepted_and_wrong_ones_rejected(split):
    for p in easy_problems(split):
        tests = json.loads(p["tests"])
        assert len(tests) >= 5, p["source"]
        good = judge(p["data_source"], f"```python\n{p['solutions'][0]}\n```", p["tests"])
        assert good.verdict == "AC", (p["source"], good.reason)
    # an off-by-one program fails: the tests discriminate
    p = easy_problems(split)[0]
    wrong = judge(p["data_source"], "```python\nprint(int(input()) + 12345)\n```", p["tests"])
    assert wrong.verdict != "AC"


def test_split_is_by_family_and_deterministic():
    family = lambda p: p["source"].split("/")[1]  # noqa: E731
    train, val = {family(p) for p in easy_problems("train")}, {family(p) for p in easy_problems("val")}
    assert train and val and not train & val
    assert {f.name for f in FAMILIES} == train | val
    assert verl_rows("val") == verl_rows("val")
    assert len(easy_problems("train")) + len(easy_problems("val")) >= 200
