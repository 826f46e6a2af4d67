"""`eval score`, `eval codeforces --data` and `eval generate` end to end, graded by the real code reward."""

import json
from pathlib import Path

import pytest

from verl_pipeline.data.curate import main as curate
from verl_pipeline.eval.__main__ import main

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def parquet(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("eval_data")
    assert curate(["--input", str(FIXTURES / "problems.json"), "--output", str(out), "--min-tests", "1", "--no-verify"]) == 0
    return out / "train.parquet"


@pytest.fixture(scope="module")
def results(parquet, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("eval_results") / "results.json"
    assert main(["score", "--data", str(parquet), "--responses", str(FIXTURES / "responses.jsonl"),
                 "--k", "1,2,4", "--workers", "2", "--output", str(out)]) == 0
    return json.loads(out.read_text())


def test_pass_at_k_of_graded_responses_matches_hand_computed_values(results):
    # passing samples: index 0: 2 of 4, index 1: 2 of 2, index 2: 1 of 4, index 3: 1 of 1
    # pass@1 = (2/4 + 2/2 + 1/4 + 1/1) / 4 = 2.75 / 4
    assert results["pass@1"] == pytest.approx(0.6875)
    # pass@2 over n >= 2 (indices 0, 1, 2): 1 - C(2,2)/C(4,2) = 5/6; 1; 1 - C(3,2)/C(4,2) = 1/2
    assert results["pass@2"] == pytest.approx((5 / 6 + 1 + 0.5) / 3)
    assert results["overall"]["problems_with_n>=2"] == 3
    # pass@4 over n >= 4 (indices 0, 2): 1 - C(2,4)/C(4,4) = 1 and 1 - C(3,4)/C(4,4) = 1
    assert results["pass@4"] == pytest.approx(1.0)


def test_breakdown_by_source_and_verdicts(results):
    assert results["by_source"]["codeforces"]["pass@1"] == pytest.approx((0.5 + 1) / 2)
    assert results["by_source"]["livecodebench"]["pass@1"] == pytest.approx((0.25 + 1) / 2)
    by_index = {p["index"]: p for p in results["problems"]}
    assert by_index[0]["verdicts"] == ["AC", "WA", "NO_CODE", "AC"]
    # the right code inside <think> does not count: the last block after </think> is graded
    assert by_index[2]["verdicts"][1] == "WA" and by_index[2]["verdicts"][3] == "AC"
    assert results["verdicts"]["NO_CODE"] == 1


def test_score_cli_prints_the_table(parquet, capsys):
    assert main(["score", "--data", str(parquet), "--responses", str(FIXTURES / "responses.jsonl"), "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "all" in out and "68.75" in out and "codeforces" in out


def test_codeforces_grades_responses_when_given_data(parquet, tmp_path):
    standings = {"contests": [{"contest_id": 1, "problems": [{"index": "A", "points": 500, "data_index": 0},
                                                             {"index": "B", "points": 1000, "data_index": 1}],
                               "standings": [{"points": 1500, "penalty": 0, "old_rating": 1500}] * 3}]}
    path = tmp_path / "standings.json"
    path.write_text(json.dumps(standings))
    out = tmp_path / "cf.json"
    assert main(["codeforces", "--data", str(parquet), "--responses", str(FIXTURES / "responses.jsonl"),
                 "--standings", str(path), "--min-participants", "0", "--workers", "2", "--output", str(out)]) == 0
    contest = json.loads(out.read_text())["contests"][0]
    # A: first attempt passes -> 500; B: first attempt passes -> 1000; the three 1500-point participants lead
    assert (contest["score"], contest["rank"]) == (1500.0, 3)


@pytest.mark.slow
def test_generate_on_cpu_with_the_tiny_model(parquet, tmp_path):
    from verl_pipeline.assets.tiny import tiny_model_path

    out = tmp_path / "gen"
    assert main(["generate", "--data", str(parquet), "--model", tiny_model_path(), "--output-dir", str(out),
                 "--backend", "hf", "--n", "2", "--max-tokens", "8", "--limit", "2", "--k", "1,2", "--workers", "2"]) == 0
    responses = [json.loads(line) for line in (out / "responses.jsonl").read_text().splitlines()]
    assert [(r["index"], r["sample"]) for r in responses] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert all(r["num_tokens"] <= 8 and r["finish_reason"] in ("stop", "length") for r in responses)
    results = json.loads((out / "results.json").read_text())
    # a random tiny model writes no fenced code: every sample is NO_CODE and pass@k is 0
    assert results["verdicts"] == {"NO_CODE": 4} and results["pass@1"] == 0.0 and results["pass@2"] == 0.0
    assert results["backend"] == "hf" and results["sampling"]["temperature"] == 0.6 and results["sampling"]["top_p"] == 0.95
    # same seed, same samples
    again = tmp_path / "again"
    assert main(["generate", "--data", str(parquet), "--model", tiny_model_path(), "--output-dir", str(again),
                 "--backend", "hf", "--n", "2", "--max-tokens", "8", "--limit", "2", "--workers", "2"]) == 0
    assert (again / "responses.jsonl").read_text() == (out / "responses.jsonl").read_text()


def test_generate_rejects_a_response_length_beyond_64k(parquet, tmp_path, caplog):
    assert main(["generate", "--data", str(parquet), "--model", "unused", "--output-dir", str(tmp_path),
                 "--max-tokens", "70000"]) == 2
    assert "--max-tokens=70000 must be in [1, 65536]" in caplog.text


def test_livecodebench_is_graded_by_its_official_rules_unless_told_otherwise():
    from verl_pipeline.eval.score import Problem, grade, rules_for

    assert (rules_for("livecodebench"), rules_for("taco"), rules_for("livecodebench", "deepcoder")) == (
        "livecodebench", "deepcoder", "deepcoder")
    # 0.1 + 0.2 prints 0.30000000000000004: the official grader (exact Decimals) rejects it for 0.3
    gt = json.dumps([{"input": "", "output": "0.3", "testtype": "stdin"}])
    problems = {p.index: p for p in (Problem(0, "livecodebench", gt, {}), Problem(1, "taco", json.dumps(
        {"inputs": [""], "outputs": ["0.3"]}), {}))}
    answer = "```python\nprint(0.1 + 0.2)\n```"
    graded = grade(problems, {0: [answer], 1: [answer]}, workers=1, max_tests=0)
    assert (graded[0][0]["verdict"], graded[1][0]["verdict"]) == ("WA", "AC")
    graded = grade(problems, {0: [answer]}, workers=1, max_tests=0, rules="deepcoder")
    assert graded[0][0]["verdict"] == "AC"
    with pytest.raises(ValueError, match="rules must be one of"):
        rules_for("taco", "lcb")
