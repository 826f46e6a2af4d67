"""`python -m verl_pipeline.eval score`: grade model responses for a verl RL parquet and report pass@k.

Inputs:
- `--data`: a parquet in verl's RL format (e.g. from `python -m verl_pipeline.data.curate`); each row needs
  `data_source`, `reward_model.ground_truth` and a unique `extra_info.index`.
- `--responses`: JSON lines `{"index": <extra_info.index>, "response": <model output>}`, any number per
  problem; their order within a problem is the attempt order (Codeforces scoring uses it).

Every response is graded by `verl_pipeline.reward.compute_score` on ALL the problem's tests (DeepCoder's
LiveCodeBench protocol; `--max-tests` caps it), in parallel threads (the reward sandboxes each program in
its own process). The results JSON has `pass@k` at the top level, breakdowns by data source, difficulty
and month (from `extra_info.date`), verdict counts, and a per-problem table. Problems without responses
are listed and left out of every mean (a warning says so).
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verl_pipeline.eval.passk import mean_pass_at_k, pass_at_k

logger = logging.getLogger(__name__)


class EvalInputError(ValueError):
    """Input files that do not fit together (the message names the file, the line and the fix)."""


@dataclass(frozen=True)
class Problem:
    index: int
    data_source: str
    ground_truth: str
    extra_info: dict[str, Any]

    @property
    def uid(self) -> str:
        return str(self.extra_info.get("uid") or f"index-{self.index}")


def load_problems(path: Path) -> dict[int, Problem]:
    """Rows of a verl RL parquet, keyed by extra_info.index."""
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(path).to_pylist()
    except Exception as e:  # missing file, not parquet: one clear message
        raise EvalInputError(f"--data {path}: cannot read parquet ({type(e).__name__}: {e})") from e
    out: dict[int, Problem] = {}
    for i, row in enumerate(rows):
        extra = row.get("extra_info") or {}
        index = extra.get("index")
        gt = (row.get("reward_model") or {}).get("ground_truth")
        if index is None or gt is None or row.get("data_source") is None:
            raise EvalInputError(
                f"--data {path} row {i}: needs data_source, reward_model.ground_truth and extra_info.index "
                "(write the parquet with `python -m verl_pipeline.data.curate`)"
            )
        if index in out:
            raise EvalInputError(f"--data {path} row {i}: extra_info.index {index} appears twice; indices must be unique")
        out[int(index)] = Problem(int(index), row["data_source"], gt if isinstance(gt, str) else json.dumps(gt), extra)
    return out


def load_responses(path: Path, known: Sequence[int] | None = None) -> dict[int, list[str]]:
    """index -> responses in file order. Raises EvalInputError naming the line of a bad or unknown entry."""
    out: dict[int, list[str]] = defaultdict(list)
    known_set = set(known) if known is not None else None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise EvalInputError(f"--responses {path}: cannot read ({e})") from e
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise EvalInputError(f"--responses {path} line {n}: not JSON ({e})") from None
        if not isinstance(rec, dict) or not isinstance(rec.get("index"), int) or not isinstance(rec.get("response"), str):
            raise EvalInputError(f"--responses {path} line {n}: expected {{\"index\": int, \"response\": str}}, got {line[:120]}")
        if known_set is not None and rec["index"] not in known_set:
            raise EvalInputError(
                f"--responses {path} line {n}: index {rec['index']} is not an extra_info.index of --data; "
                "were the responses generated for another parquet?"
            )
        out[rec["index"]].append(rec["response"])
    return dict(out)


RULE_CHOICES = ("auto", "deepcoder", "livecodebench")


def rules_for(data_source: str, rules: str = "auto") -> str:
    """The reward's rule set for a problem: ``auto`` grades LiveCodeBench exactly as its official
    grader does (so pass@1 is comparable with published numbers) and everything else as DeepCoder."""
    if rules not in RULE_CHOICES:
        raise ValueError(f"rules must be one of {', '.join(RULE_CHOICES)}; got {rules!r}")
    if rules != "auto":
        return rules
    from verl_pipeline.reward.formats import canonical_source

    return "livecodebench" if canonical_source(data_source) == "livecodebench" else "deepcoder"


def grade(problems: dict[int, Problem], responses: dict[int, list[str]], workers: int, max_tests: int,
          rules: str = "auto") -> dict[int, list[dict]]:
    """index -> one reward result per response (same order), graded `workers` at a time with a progress bar.
    ``rules``: see ``rules_for``."""
    from tqdm import tqdm

    from verl_pipeline.reward import compute_score

    jobs = [(idx, j, text) for idx in sorted(responses) for j, text in enumerate(responses[idx])]
    out: dict[int, list[dict | None]] = {idx: [None] * len(rs) for idx, rs in responses.items()}

    def one(idx: int, text: str) -> dict:
        p = problems[idx]
        extra = {**p.extra_info, "max_tests": max_tests}
        try:
            return compute_score(p.data_source, text, p.ground_truth, extra_info=extra,
                                 rules=rules_for(p.data_source, rules))
        except Exception as e:  # a reward bug on one response must not lose the whole evaluation
            logger.warning("reward raised on index %d: %r", idx, e)
            return {"score": 0.0, "acc": False, "verdict": "REWARD_ERROR", "reason": f"{type(e).__name__}: {e}"}

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool, tqdm(total=len(jobs), desc="grade", unit="response") as bar:
        futures = {pool.submit(one, idx, text): (idx, j) for idx, j, text in jobs}
        for fut in as_completed(futures):
            idx, j = futures[fut]
            out[idx][j] = fut.result()
            bar.update(1)
    return out  # type: ignore[return-value]


def _month(extra: dict) -> str:
    date = str(extra.get("date") or "")
    return date[:7] if len(date) >= 7 else "unknown"


def _group_summary(counts: list[tuple[int, int]], ks: Sequence[int]) -> dict[str, Any]:
    entry: dict[str, Any] = {"problems": len(counts), "samples": sum(n for n, _ in counts)}
    for k in ks:
        value, counted = mean_pass_at_k(counts, k)
        entry[f"pass@{k}"] = value
        if counted != len(counts):
            entry[f"problems_with_n>={k}"] = counted
    return entry


def summarise(problems: dict[int, Problem], graded: dict[int, list[dict]], ks: Sequence[int]) -> dict[str, Any]:
    """Overall pass@k, breakdowns, verdict counts and the per-problem table (JSON-ready)."""
    table, groups = [], {"by_source": defaultdict(list), "by_difficulty": defaultdict(list), "by_month": defaultdict(list)}
    verdicts: Counter = Counter()
    for idx in sorted(graded):
        p, results = problems[idx], graded[idx]
        n, c = len(results), sum(1 for r in results if r.get("score", 0.0) >= 1.0)
        verdicts.update(str(r.get("verdict")) for r in results)
        row = {"index": idx, "uid": p.uid, "data_source": p.data_source, "difficulty": p.extra_info.get("difficulty"),
               "date": p.extra_info.get("date"), "n": n, "c": c}
        row.update({f"pass@{k}": pass_at_k(n, c, k) for k in ks})
        row["verdicts"] = [str(r.get("verdict")) for r in results]
        table.append(row)
        groups["by_source"][p.data_source].append((n, c))
        groups["by_difficulty"][str(p.extra_info.get("difficulty") or "unknown").lower()].append((n, c))
        groups["by_month"][_month(p.extra_info)].append((n, c))
    overall = _group_summary([(r["n"], r["c"]) for r in table], ks)
    missing = sorted(set(problems) - set(graded))
    if missing:
        logger.warning("%d of %d problems have no responses and are left out of pass@k", len(missing), len(problems))
    return {
        **{f"pass@{k}": overall[f"pass@{k}"] for k in ks},
        "k": list(ks),
        "overall": overall,
        "problems_in_data": len(problems),
        "problems_without_responses": missing,
        **{name: {key: _group_summary(v, ks) for key, v in sorted(g.items())} for name, g in groups.items()},
        "verdicts": dict(sorted(verdicts.items())),
        "problems": table,
    }


def _fmt(value: float | None) -> str:
    return "   n/a" if value is None else f"{100 * value:6.2f}"


def format_table(results: dict[str, Any]) -> str:
    """The summary as aligned text: overall, then each breakdown (pass@k in percent)."""
    ks = results["k"]
    head = f"{'':<28} {'problems':>8} {'samples':>8} " + " ".join(f"{'pass@' + str(k):>8}" for k in ks)
    lines = [head, "-" * len(head)]

    def line(name: str, e: dict) -> str:
        return f"{name[:28]:<28} {e['problems']:>8} {e['samples']:>8} " + " ".join(f"{_fmt(e[f'pass@{k}']):>8}" for k in ks)

    lines.append(line("all", results["overall"]))
    for section in ("by_source", "by_difficulty", "by_month"):
        if len(results[section]) > 1 or section == "by_source":
            lines.append(f"{section.replace('_', ' ')}:")
            lines += [line("  " + key, e) for key, e in results[section].items()]
    lines.append("verdicts: " + ", ".join(f"{k} {v}" for k, v in results["verdicts"].items()))
    if results["problems_without_responses"]:
        lines.append(f"{len(results['problems_without_responses'])} problems without responses (not counted)")
    return "\n".join(lines)


def score(data: Path, responses: Path, ks: Sequence[int], workers: int, max_tests: int,
          rules: str = "auto") -> dict[str, Any]:
    """Load, grade and summarise (the `score` command without its printing and writing)."""
    problems = load_problems(data)
    answers = load_responses(responses, known=list(problems))
    graded = grade(problems, answers, workers, max_tests, rules)
    return summarise(problems, graded, ks)
