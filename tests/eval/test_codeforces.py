"""CodeElo scoring: per-problem points, rank against standings, Elo from rank, the standings file."""

import json
from pathlib import Path

import pytest

from verl_pipeline.eval.__main__ import main
from verl_pipeline.eval.codeforces import (
    Participant,
    StandingsError,
    evaluate,
    expected_rank,
    load_standings,
    percentile,
    problem_score,
    rank_in,
    rating_from_rank,
)

FIXTURES = Path(__file__).parent / "fixtures"
# `eval score` output: the per-problem verdicts in attempt order are what CodeElo scoring reads
RESULTS = {"problems": [
    {"index": 0, "uid": "codeforces/codeforces_test.json#0", "verdicts": ["WA", "AC"]},  # A: 500 - 50 * 1
    {"index": 1, "uid": "codeforces/codeforces_test.json#1", "verdicts": ["WA", "TLE", "WA"]},  # B: unsolved
    {"index": 2, "uid": "codeforces/codeforces_test.json#2", "verdicts": ["AC"]},  # +1, penalty 0
    {"index": 3, "uid": "codeforces/codeforces_test.json#3", "verdicts": ["RE", "AC", "AC"]},  # +1, penalty 10
]}


@pytest.mark.parametrize("attempts, points, expected", [
    ([False, False, True], 1000, (900.0, 0.0)),  # 1000 - 50 * 2
    ([True, True], 500, (500.0, 0.0)),  # the first pass counts
    ([False] * 12 + [True], 500, (0.0, 0.0)),  # max(0, 500 - 600)
    ([False, True], None, (1.0, 10.0)),  # ICPC-style: +1, 10 per failed attempt
    ([False, False], 500, (0.0, 0.0)),
    ([], None, (0.0, 0.0)),
])
def test_problem_score_first_passing_attempt_minus_50_per_earlier_failure(attempts, points, expected):
    assert problem_score(attempts, points) == expected


def test_rank_counts_participants_at_least_as_good_ties_against_the_model():
    standings = [Participant(10, 0, 1500), Participant(5, 20, 1500), Participant(5, 30, 1500), Participant(1, 0, 1500)]
    # (5, penalty 20): ahead are 10 points, and 5 points with penalty 20 (<= 20, a tie); not 5 with 30
    assert rank_in(standings, 5, 20) == 2


def test_expected_rank_of_equal_ratings_is_the_middle():
    # 1 + 2 * 1/(1 + 10^0) = 2
    assert expected_rank(1500, [1500, 1500]) == pytest.approx(2.0)


@pytest.mark.parametrize("rank, ratings, expected", [
    # 1 + 4/(1 + 10^((r-1500)/400)) = 4  =>  10^((r-1500)/400) = 1/3  =>  r = 1500 - 400*log10(3) = 1309.1
    (4, [1500] * 4, 1309),
    # 1 + 3/(1 + 10^((r-1500)/400)) = 3  =>  10^(...) = 1/2  =>  r = 1500 - 400*log10(2) = 1379.6
    (3, [1500] * 3, 1379),
    # symmetric ratings: 1/(1+10^((r-1200)/400)) + 1/(1+10^((r-1600)/400)) = 1 at r = 1400
    (2, [1200, 1600], 1400),
    # the search runs in [0, max rating + 100) as CodeElo's does: the exact 1500 + 400*log10(3) = 1690.8
    # is above 1600, so the answer stops at 1599 (real standings span far wider ratings)
    (2, [1500] * 4, 1599),
    (0, [1500, 1700], 1799),
])
def test_rating_from_rank_matches_hand_solved_expected_rank(rank, ratings, expected):
    assert rating_from_rank(rank, ratings) == expected


def test_evaluate_scores_ranks_and_averages_contests():
    contests, histogram = load_standings(FIXTURES / "standings.json")
    report = evaluate(RESULTS, contests, histogram, min_participants=0)
    first, second = report["contests"]
    # contest 1000: A 450 + B 0 = 450; ahead: 1500, 1000, 500 and the tie at 450 -> rank 4 of four 1500s -> 1309
    assert (first["score"], first["penalty"], first["rank"], first["rating"]) == (450.0, 0.0, 4, 1309)
    # contest 1001: 2 solved, penalty 10; ahead: (2, 5) and the two ties (2, 10) -> rank 3 of three 1500s -> 1379
    assert (second["score"], second["penalty"], second["rank"], second["rating"]) == (2.0, 10.0, 3, 1379)
    assert second["problems_without_responses"] == ["C"]
    assert report["rating"] == pytest.approx((1309 + 1379) / 2)
    # ratings 1000, 1500, 1500, 2000: one is below 1344 -> 25th percentile
    assert report["percentile"] == 25.0


def test_small_contests_are_skipped_like_codeelo():
    contests, _ = load_standings(FIXTURES / "standings.json")
    report = evaluate(RESULTS, contests)
    assert report["rating"] is None and report["rated_contests"] == 0
    assert report["contests"][0]["skipped"] == "4 rated participants < --min-participants 201"


def test_max_attempts_uses_only_the_first_attempts():
    contests, _ = load_standings(FIXTURES / "standings.json")
    report = evaluate(RESULTS, contests, max_attempts=1, min_participants=0)
    # only first attempts: A fails (0), problem 2 passes (+1), problem 3 fails
    assert report["contests"][0]["score"] == 0.0 and report["contests"][1]["score"] == 1.0


def test_without_standings_reports_solve_rates_and_says_the_rating_needs_them():
    report = evaluate(RESULTS, None)
    assert report["rating"] is None and "needs contest standings" in report["note"]
    assert [r["passed"] for r in report["solve_rates"]] == [1, 0, 1, 2]
    assert report["solved_any"] == 3
    # pass@1 per problem: 1/2, 0/3, 1/1, 2/3 -> mean 13/24
    assert report["pass@1"] == pytest.approx((0.5 + 0 + 1 + 2 / 3) / 4)


def test_percentile_counts_users_strictly_below():
    assert percentile(1500, [1000.0, 1500.0, 1500.0, 2000.0]) == 25.0


@pytest.mark.parametrize("broken, message", [
    ({"contests": [{"contest_id": 1, "problems": [], "standings": [{"points": 1, "penalty": 0}]}]},
     "$.contests[0].standings[0].old_rating: missing"),
    ({"contests": [{"contest_id": 1, "problems": [{"index": "A"}], "standings": []}]},
     "$.contests[0].problems[0]: give `uid`"),
    ({"contests": [{"contest_id": 1, "problems": [{"index": "A", "uid": "x", "points": "5"}], "standings": []}]},
     "$.contests[0].problems[0].points='5': expected a number"),
    ({"contest": []}, "$.contests: missing"),
])
def test_standings_errors_name_the_json_path(tmp_path, broken, message):
    path = tmp_path / "standings.json"
    path.write_text(json.dumps(broken))
    with pytest.raises(StandingsError) as err:
        load_standings(path)
    assert message in str(err.value)


def test_cli_reads_score_results_and_standings(tmp_path, capsys):
    results = tmp_path / "results.json"
    results.write_text(json.dumps(RESULTS))
    out = tmp_path / "cf.json"
    assert main(["codeforces", "--results", str(results), "--standings", str(FIXTURES / "standings.json"),
                 "--min-participants", "0", "--output", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["rating"] == pytest.approx(1344.0)
    assert "rating (mean of 2 contests): 1344.0, percentile 25.0" in capsys.readouterr().out


def test_cli_without_standings_says_what_is_missing(tmp_path, capsys):
    results = tmp_path / "results.json"
    results.write_text(json.dumps(RESULTS))
    assert main(["codeforces", "--results", str(results)]) == 0
    assert "needs contest standings: pass --standings FILE" in capsys.readouterr().out
