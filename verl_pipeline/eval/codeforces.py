"""Codeforces rating the way CodeElo (and DeepCoder's `cf_elo_calc.py`) computes it, from local standings.

Per contest, from each problem's attempts in order (the responses' order for that problem):
- a point-scored problem solved first at attempt i (0-based) earns max(0, points - 50 * i);
- a problem without points (ICPC-style rounds) earns 1 and adds a penalty of 10 * i;
- an unsolved problem earns nothing.
The model's rank is the number of rated participants with more points, or as many points and no more
penalty (CodeElo's convention: ties go against the model). The contest rating is the integer r, searched
in [0, max old rating + 100), at which the expected rank 1 + sum_i 1 / (1 + 10^((r - r_i) / 400)) over the
participants' pre-contest ratings r_i reaches that rank; the reported rating is the mean over contests.
Contests with fewer than `min_participants` rated participants are skipped (CodeElo skips <= 200).

Standings are never fetched (the Codeforces API is not reachable here): the user supplies a JSON file,
schema in `docs/eval.md` and `load_standings`. Without one, only per-problem solve rates are reported.
Not covered: hacks, partial scoring, virtual participation time (the model's penalty has no minutes).
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verl_pipeline.eval.passk import pass_at_k

CODEELO_MIN_PARTICIPANTS = 201


@dataclass(frozen=True)
class ContestProblem:
    index: str  # the problem letter in the contest ("A", "B1", ...)
    points: float | None  # None: ICPC-style (solved count + penalty)
    uid: str | None  # extra_info.uid of the problem in the evaluated parquet ...
    data_index: int | None  # ... or its extra_info.index


@dataclass(frozen=True)
class Participant:
    points: float
    penalty: float
    old_rating: float


@dataclass(frozen=True)
class Contest:
    contest_id: str
    name: str
    problems: list[ContestProblem]
    standings: list[Participant]


class StandingsError(ValueError):
    """The standings file does not fit the schema; the message names the JSON path and the fix."""


def _need(obj: Any, key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise StandingsError(f"{where}.{key}: missing")
    if not isinstance(obj[key], kind) or isinstance(obj[key], bool):
        raise StandingsError(f"{where}.{key}={obj[key]!r}: expected {getattr(kind, '__name__', kind)}")
    return obj[key]


def load_standings(path: Path) -> tuple[list[Contest], list[float] | None]:
    """Contests and (optional) the sorted ratings of all rated users, from a standings JSON file.

    {"contests": [{"contest_id": 2000, "name": "...",
                   "problems": [{"index": "A", "points": 500, "uid": "..."} | {"index": "B", "data_index": 7}],
                   "standings": [{"points": 1500, "penalty": 0, "old_rating": 1650}, ...]}],
     "rating_histogram": {"1650": 12, ...}}          # optional, for a percentile
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise StandingsError(f"--standings {path}: cannot read JSON ({e})") from e
    contests = []
    for ci, c in enumerate(_need(data, "contests", "$", list)):
        where = f"$.contests[{ci}]"
        problems = []
        for pi, p in enumerate(_need(c, "problems", where, list)):
            pw = f"{where}.problems[{pi}]"
            index = _need(p, "index", pw, str)
            points = p.get("points")
            if points is not None and (not isinstance(points, (int, float)) or isinstance(points, bool) or points < 0):
                raise StandingsError(f"{pw}.points={points!r}: expected a number >= 0, or leave it out (ICPC-style)")
            if p.get("uid") is None and p.get("data_index") is None:
                raise StandingsError(f"{pw}: give `uid` (extra_info.uid) or `data_index` (extra_info.index) of the problem")
            problems.append(ContestProblem(index, points, p.get("uid"), p.get("data_index")))
        standings = []
        for si, s in enumerate(_need(c, "standings", where, list)):
            sw = f"{where}.standings[{si}]"
            standings.append(Participant(_need(s, "points", sw, (int, float)), _need(s, "penalty", sw, (int, float)),
                                         _need(s, "old_rating", sw, (int, float))))
        contests.append(Contest(str(_need(c, "contest_id", where, (int, str))), str(c.get("name", "")), problems, standings))
    ratings = None
    if data.get("rating_histogram") is not None:
        hist = _need(data, "rating_histogram", "$", dict)
        ratings = sorted(float(r) for r, count in hist.items() for _ in range(int(count)))
    return contests, ratings


def problem_score(attempts: list[bool], points: float | None) -> tuple[float, float]:
    """(score, penalty) of one problem from its attempts' outcomes, first passing attempt counts."""
    for i, passed in enumerate(attempts):
        if passed:
            if points is not None:
                return max(0.0, points - 50 * i), 0.0
            return 1.0, 10.0 * i
    return 0.0, 0.0


def rank_in(standings: list[Participant], score: float, penalty: float) -> int:
    """Participants who did at least as well as (score, penalty): more points, or equal with no more penalty."""
    return sum(1 for p in standings if p.points > score or (p.points == score and p.penalty <= penalty))


def expected_rank(rating: float, ratings: list[float]) -> float:
    """Elo expected rank of a player rated `rating` among players rated `ratings`."""
    return 1.0 + sum(1.0 / (1.0 + 10 ** ((rating - r) / 400.0)) for r in ratings)


def rating_from_rank(rank: float, ratings: list[float]) -> int:
    """The integer rating whose expected rank matches `rank` (CodeElo's binary search and bounds)."""
    lo, hi = 0, int(max(ratings)) + 100
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if expected_rank(mid, ratings) < rank:
            hi = mid
        else:
            lo = mid
    return lo


def percentile(rating: float, sorted_ratings: list[float]) -> float:
    """Share of rated users strictly below `rating`, in percent (one decimal, as CodeElo reports it)."""
    return round(100.0 * bisect.bisect_left(sorted_ratings, float(rating)) / len(sorted_ratings), 1)


def _attempts_by_problem(results: dict[str, Any], max_attempts: int | None) -> tuple[dict, dict]:
    by_uid, by_index = {}, {}
    for row in results["problems"]:
        attempts = [v == "AC" for v in row["verdicts"]][:max_attempts]
        by_uid[row["uid"]] = attempts
        by_index[row["index"]] = attempts
    return by_uid, by_index


def solve_rates(results: dict[str, Any], max_attempts: int | None) -> list[dict[str, Any]]:
    """Per problem: attempts, how many passed, pass@1 and whether any attempt passed."""
    out = []
    for row in results["problems"]:
        attempts = [v == "AC" for v in row["verdicts"]][:max_attempts]
        n, c = len(attempts), sum(attempts)
        out.append({"index": row["index"], "uid": row["uid"], "attempts": n, "passed": c,
                    "pass@1": pass_at_k(n, c, 1) if n else None, "solved": c > 0})
    return out


def evaluate(results: dict[str, Any], contests: list[Contest] | None, ratings: list[float] | None = None,
             max_attempts: int | None = None, min_participants: int = CODEELO_MIN_PARTICIPANTS) -> dict[str, Any]:
    """Per-contest CodeElo scores, ranks and ratings, their mean, and per-problem solve rates.

    `results` is the output of `eval score` (its per-problem `verdicts`, in attempt order).
    """
    rates = solve_rates(results, max_attempts)
    solved = [r for r in rates if r["attempts"]]
    out: dict[str, Any] = {
        "problems": len(solved),
        "solved_any": sum(r["solved"] for r in solved),
        "pass@1": sum(r["pass@1"] for r in solved) / len(solved) if solved else None,
        "solve_rates": rates,
    }
    if contests is None:
        out["rating"] = None
        out["note"] = ("a Codeforces rating needs contest standings: pass --standings FILE "
                       "(schema in docs/eval.md); per-problem solve rates only")
        return out
    by_uid, by_index = _attempts_by_problem(results, max_attempts)
    per_contest, contest_ratings = [], []
    for c in contests:
        entry: dict[str, Any] = {"contest_id": c.contest_id, "name": c.name, "participants": len(c.standings)}
        score = penalty = 0.0
        missing = []
        for p in c.problems:
            attempts = by_uid.get(p.uid) if p.uid is not None else by_index.get(p.data_index)
            if attempts is None:
                missing.append(p.index)
                attempts = []
            s, pen = problem_score(attempts, p.points)
            score, penalty = score + s, penalty + pen
        entry.update({"score": score, "penalty": penalty, "problems_without_responses": missing})
        if len(c.standings) < min_participants:
            entry["skipped"] = f"{len(c.standings)} rated participants < --min-participants {min_participants}"
        else:
            rank = rank_in(c.standings, score, penalty)
            rating = rating_from_rank(rank, [p.old_rating for p in c.standings])
            entry.update({"rank": rank, "rating": rating})
            contest_ratings.append(rating)
        per_contest.append(entry)
    out["contests"] = per_contest
    out["rated_contests"] = len(contest_ratings)
    out["rating"] = sum(contest_ratings) / len(contest_ratings) if contest_ratings else None
    if out["rating"] is not None and ratings:
        out["percentile"] = percentile(out["rating"], ratings)
    return out


def format_report(report: dict[str, Any]) -> str:
    p1 = "n/a" if report["pass@1"] is None else f"{100 * report['pass@1']:.2f}"
    lines = [f"problems with responses: {report['problems']}, solved by any attempt: {report['solved_any']}, pass@1: {p1}"]
    if report.get("contests") is not None:
        lines.append(f"{'contest':<10} {'participants':>12} {'score':>8} {'penalty':>8} {'rank':>6} {'rating':>7}")
        for c in report["contests"]:
            tail = c.get("skipped") or f"{c['rank']:>6} {c['rating']:>7}"
            lines.append(f"{c['contest_id']:<10} {c['participants']:>12} {c['score']:>8.0f} {c['penalty']:>8.0f} {tail}")
    if report["rating"] is None:
        lines.append(report.get("note") or "no contest could be rated")
    else:
        lines.append(f"rating (mean of {report['rated_contests']} contests): {report['rating']:.1f}"
                     + (f", percentile {report['percentile']}" if "percentile" in report else ""))
    return "\n".join(lines)
