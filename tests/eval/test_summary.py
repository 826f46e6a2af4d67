"""Aggregation of graded responses into pass@k and breakdowns, input checks, and the checkpoint plot.

Grading itself (the reward in the sandbox) is exercised in test_score.py; here the inputs are reward
results as `compute_score` returns them, to check the arithmetic of the summary by hand.
"""

import json
from pathlib import Path

import pytest

from verl_pipeline.eval.__main__ import main
from verl_pipeline.eval.plot import checkpoint_step, collect, plot
from verl_pipeline.eval.score import EvalInputError, Problem, format_table, load_responses, summarise


def _problem(index, source, difficulty, date):
    return Problem(index, source, "[]", {"index": index, "uid": f"{source}/{index}", "difficulty": difficulty, "date": date})


AC, WA = {"score": 1.0, "verdict": "AC"}, {"score": 0.0, "verdict": "WA"}
PROBLEMS = {
    0: _problem(0, "livecodebench", "easy", "2024-08-03"),
    1: _problem(1, "livecodebench", "hard", "2024-09-10"),
    2: _problem(2, "codeforces", None, None),
    3: _problem(3, "livecodebench", "easy", "2024-08-20"),  # no responses
}
GRADED = {
    0: [AC, WA, WA, AC],  # n=4, c=2
    1: [WA, WA, WA, WA],  # n=4, c=0
    2: [AC, WA],  # n=2, c=1
}


def test_top_level_pass_at_k_is_the_mean_over_problems_with_enough_samples():
    results = summarise(PROBLEMS, GRADED, (1, 4))
    # pass@1: (2/4 + 0/4 + 1/2) / 3 = 1/3
    assert results["pass@1"] == pytest.approx(1 / 3)
    # pass@4: problem 0: 1 - C(2,4)/C(4,4) = 1; problem 1: 0; problem 2 has n=2 < 4: left out -> (1 + 0) / 2
    assert results["pass@4"] == pytest.approx(0.5)
    assert results["overall"]["problems_with_n>=4"] == 2 and results["overall"]["samples"] == 10


def test_breakdowns_by_source_difficulty_and_month():
    results = summarise(PROBLEMS, GRADED, (1,))
    assert results["by_source"]["livecodebench"]["pass@1"] == pytest.approx(0.25)  # (2/4 + 0) / 2
    assert results["by_source"]["codeforces"]["pass@1"] == pytest.approx(0.5)
    assert results["by_difficulty"]["easy"]["pass@1"] == pytest.approx(0.5)
    assert results["by_difficulty"]["unknown"]["problems"] == 1
    assert set(results["by_month"]) == {"2024-08", "2024-09", "unknown"}


def test_per_problem_table_keeps_verdicts_in_attempt_order_and_missing_problems_are_listed():
    results = summarise(PROBLEMS, GRADED, (1,))
    row = results["problems"][0]
    assert (row["index"], row["n"], row["c"], row["verdicts"]) == (0, 4, 2, ["AC", "WA", "WA", "AC"])
    assert results["problems_without_responses"] == [3] and results["verdicts"] == {"AC": 3, "WA": 7}


def test_table_shows_percentages_and_not_available_values():
    text = format_table(summarise(PROBLEMS, GRADED, (1, 8)))
    assert "33.33" in text and "n/a" in text and "1 problems without responses" in text


def test_responses_must_name_known_indices(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"index": 0, "response": "a"}\n{"index": 7, "response": "b"}\n')
    with pytest.raises(EvalInputError, match="line 2: index 7 is not an extra_info.index of --data"):
        load_responses(path, known=[0, 1])


@pytest.mark.parametrize("line, message", [
    ("{oops", "line 1: not JSON"),
    ('{"index": "0", "response": "x"}', 'line 1: expected {"index": int, "response": str}'),
])
def test_malformed_response_lines_are_errors_with_their_line(tmp_path, line, message):
    path = tmp_path / "r.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(EvalInputError, match=message):
        load_responses(path)


def test_several_responses_per_problem_keep_file_order(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps({"index": i, "response": r}) + "\n" for i, r in [(1, "a"), (0, "b"), (1, "c")]))
    assert load_responses(path) == {1: ["a", "c"], 0: ["b"]}


def test_score_cli_reports_an_unreadable_parquet(tmp_path, caplog):
    (tmp_path / "r.jsonl").write_text("")
    assert main(["score", "--data", str(tmp_path / "missing.parquet"), "--responses", str(tmp_path / "r.jsonl")]) == 2
    assert "--data" in caplog.text and "missing.parquet: cannot read parquet" in caplog.text


def _results(tmp_path: Path, name: str, value: float, step: int | None = None) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pass@1": value, **({"step": step} if step is not None else {})}))
    return path


def test_checkpoint_step_comes_from_the_file_then_the_path():
    assert checkpoint_step(Path("x/global_step_40/results.json"), {"step": 7}) == 7
    assert checkpoint_step(Path("x/global_step_40/results.json"), {}) == 40
    assert checkpoint_step(Path("x/results.json"), {}) is None


def test_plot_orders_checkpoints_by_step_and_writes_a_png(tmp_path):
    files = [_results(tmp_path, "global_step_20/results.json", 0.30), _results(tmp_path, "global_step_10/results.json", 0.25),
             _results(tmp_path, "final.json", 0.40, step=30)]
    points = plot(files, tmp_path / "pass1.png")
    assert [(x, y) for x, y, _ in points] == [(10.0, 0.25), (20.0, 0.30), (30.0, 0.40)]
    assert (tmp_path / "pass1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_rejects_a_metric_the_files_do_not_have(tmp_path):
    with pytest.raises(ValueError, match=r"no 'pass@8'; --metric can be one of \['pass@1'\]"):
        collect([_results(tmp_path, "a.json", 0.1)], "pass@8")


def test_plot_cli_prints_the_series(tmp_path, capsys):
    files = [_results(tmp_path, f"step_{s}.json", v) for s, v in [(5, 0.1), (15, 0.2)]]
    assert main(["plot", *map(str, files), "--output", str(tmp_path / "p.png")]) == 0
    out = capsys.readouterr().out
    assert "10.00" in out and "20.00" in out and (tmp_path / "p.png").exists()
