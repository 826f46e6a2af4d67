"""Peer suites: the reference programs other projects ship, judged by our reward under each rule set.

A reward must accept every correct program and reject every wrong one. The programs here were written
by others: rLLM's LeetCode reference solutions (``leetcode_train.json``, ``leetcode_test.json``: 2,089
``class Solution`` programs with ``check()`` tests) and PrimeIntellect's verified stdin solutions
(``primeintellect_verify.json``). For each program, under each rule set:

* the program as published must be accepted; a rejection is either listed in ``SUITE_TESTS_WRONG``
  (the suite's own test is wrong, and why) or counted as *unexplained* (a bug of ours);
* the same program made wrong (``wrong_leetcode``/``wrong_stdin``: a deterministic change of the
  value it returns or prints) must be rejected.

The suites without programs (LiveCodeBench, Codeforces, CodeContests: tests only) are checked for
what can be checked without a program: every problem's tests parse (no ``BAD_TESTS``).

Runs one program at a time (CPU heavy: ~8,400 judgements for everything); ``--limit`` takes the
first N rows of each file. Exit status 1 when a program is rejected without an explanation, a wrong
program is accepted or a test list does not parse. ``--json`` writes every rejection with its
verdict and reason. Not measured here: time (see ``reward_throughput.py``).

    nice -n 10 python benchmarks/peer_suites.py --json benchmarks/results/peer_suites.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from verl_pipeline.reward import compute_score
from verl_pipeline.reward.api import RULES
from verl_pipeline.reward.formats import BadTests, parse_problem

DATA_DIR = Path("/work/shared/data")
LEETCODE_FILES = ("leetcode_train.json", "leetcode_test.json")
STDIN_FILES = {"primeintellect_verify.json": "primeintellect"}
TESTS_ONLY_FILES = {
    "livecodebench_train.json": "livecodebench",
    "livecodebench_test.json": "livecodebench",
    "codeforces_test.json": "codeforces",
    "code_contests_test.json": "code_contests",
}

# "file#row" -> why the suite's own test is wrong (the reference program is right, or no program could
# pass); found by reading each rejection of a full run. A rejection not listed here is our bug.
SUITE_TESTS_WRONG: dict[str, str] = {}

# The method under test returns something else than the reference computes: an int +1, a bool negated,
# a string longer, a list one element longer, anything else 12345 (None, a linked list, a tree). Only the
# outermost call is changed: a recursive method perturbed at every level computes some other function,
# which may well give the expected answers (leetcode_train.json#362, isSubtree, did).
_WRONG_METHOD = """

def _perturb(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, (list, tuple)):
        return list(value) + [value[0] if value else 0]
    return 12345

_method = getattr(Solution, METHOD)
_depth = [0]

def _outermost_perturbed(self, *a, **k):
    _depth[0] += 1
    try:
        value = _method(self, *a, **k)
    finally:
        _depth[0] -= 1
    return _perturb(value) if _depth[0] == 0 else value

setattr(Solution, METHOD, _outermost_perturbed)
"""

# The program runs as published with stdout captured, then its output is printed with its last token
# changed: an integer +1, any other token with "x" appended; no output at all becomes "x".
_WRONG_STDOUT = '''
import io as _io, re as _re, sys as _sys

def _mutated(text):
    last = _re.search(r"(\\S+)(\\s*)\\Z", text)
    if last is None:
        return text + "x\\n"
    token = last.group(1)
    changed = str(int(token) + 1) if _re.fullmatch(r"-?\\d+", token) else token + "x"
    return text[: last.start(1)] + changed + last.group(2)

_real = _sys.stdout
_sys.stdout = _io.TextIOWrapper(_io.BytesIO(), encoding="utf-8")
try:
    exec(compile(SOURCE, "<solution>", "exec"), dict(globals(), __name__="__main__"))
except SystemExit:
    pass
finally:
    _sys.stdout.flush()
    _text = _sys.stdout.buffer.getvalue().decode("utf-8", "replace")
    _sys.stdout = _real
    print(_mutated(_text), end="")
'''


def fence(code: str) -> str:
    return f"```python\n{code}\n```"


def unfence(text: str) -> str:
    match = re.search(r"```(?:python|py)?\n(.*?)```", text, re.DOTALL)
    return match.group(1) if match else text


def wrong_leetcode(solution: str, tests: dict) -> str:
    method = tests["functional"].rsplit("check(Solution().", 1)[1].split(")")[0]
    return solution + _WRONG_METHOD.replace("METHOD", repr(method))


def wrong_stdin(solution: str) -> str:
    return _WRONG_STDOUT.replace("SOURCE", repr(solution))


ALL_FILES = (*LEETCODE_FILES, *STDIN_FILES, *TESTS_ONLY_FILES)


def load(data_dir: Path, name: str, limit: int | None) -> list[dict]:
    rows = json.loads((data_dir / name).read_text())
    return rows[:limit] if limit else rows


def programs(data_dir: Path, files: tuple[str, ...], limit: int | None) -> list[tuple[str, str, str, str, object]]:
    """(suite, id, program, wrong program, tests) for every row with a reference program."""
    out = []
    for name in (n for n in LEETCODE_FILES if n in files):
        for row_index, row in enumerate(load(data_dir, name, limit)):
            out.append(("leetcode", f"{name}#{row_index}", row["solutions"],
                        wrong_leetcode(row["solutions"], row["tests"]), row["tests"]))
    for name, source in STDIN_FILES.items():
        if name not in files:
            continue
        for row_index, row in enumerate(load(data_dir, name, limit)):
            code = unfence(row["solutions"][0])
            out.append((source, f"{name}#{row_index}", code, wrong_stdin(code), row["tests"]))
    return out


def judge_suites(data_dir: Path, rule_sets: list[str], files: tuple[str, ...] = ALL_FILES, limit: int | None = None,
                 progress=None) -> dict:
    """Counts per (suite, rule set) and every rejection; see the module docstring."""
    report: dict = {"programs": {}, "rejections": [], "wrong_accepted": [], "wrong_not_wa": [], "wrong_verdicts": {}, "tests_only": {}}
    jobs = programs(data_dir, files, limit)
    for rules in rule_sets:
        for n, (source, uid, code, wrong, tests) in enumerate(jobs, 1):
            key = f"{source}/{rules}"
            counts = report["programs"].setdefault(key, Counter())
            right = compute_score(source, fence(code), tests, max_tests=0, rules=rules)
            counts["programs"] += 1
            if right["acc"]:
                counts["accepted"] += 1
            else:
                explained = uid in SUITE_TESTS_WRONG
                counts["rejected, suite's test wrong" if explained else "rejected, unexplained"] += 1
                report["rejections"].append({"suite": source, "rules": rules, "id": uid, "verdict": right["verdict"],
                                             "reason": right["reason"], "why": SUITE_TESTS_WRONG.get(uid)})
            bad = compute_score(source, fence(wrong), tests, max_tests=0, rules=rules)
            counts["wrong programs rejected" if not bad["acc"] else "wrong programs accepted"] += 1
            report["wrong_verdicts"].setdefault(key, Counter())[bad["verdict"]] += 1
            if bad["acc"]:
                report["wrong_accepted"].append({"suite": source, "rules": rules, "id": uid})
            elif bad["verdict"] != "WA":  # rejected, but not for its changed value: worth a look
                report["wrong_not_wa"].append({"suite": source, "rules": rules, "id": uid, "verdict": bad["verdict"],
                                               "reason": bad["reason"]})
            if progress and n % 100 == 0:
                progress(f"{rules}: {n}/{len(jobs)}")
    for name, source in TESTS_ONLY_FILES.items():
        if name not in files:
            continue
        counts = report["tests_only"].setdefault(source, Counter())
        for row_index, row in enumerate(load(data_dir, name, limit)):
            counts["problems"] += 1
            extra = {"starter_code": row.get("starter_code") or ""}
            try:
                parse_problem(source, row["tests"], extra)
                counts["tests parse"] += 1
            except BadTests as e:
                counts["BAD_TESTS"] += 1
                report["rejections"].append({"suite": source, "rules": "-", "id": f"{name}#{row_index}",
                                             "verdict": "BAD_TESTS", "reason": str(e), "why": None})
    return report


def failed(report: dict) -> bool:
    unexplained = sum(c["rejected, unexplained"] for c in report["programs"].values())
    bad_tests = sum(c["BAD_TESTS"] for c in report["tests_only"].values())
    return bool(unexplained or report["wrong_accepted"] or bad_tests)


def print_report(report: dict) -> None:
    columns = ("programs", "accepted", "rejected, suite's test wrong", "rejected, unexplained",
               "wrong programs rejected", "wrong programs accepted")
    print(f"{'suite/rules':28s}" + "".join(f"{c:>30s}" for c in columns))
    for key, counts in report["programs"].items():
        print(f"{key:28s}" + "".join(f"{counts[c]:>30d}" for c in columns))
    for key, verdicts in report["wrong_verdicts"].items():
        print(f"{key:28s} wrong programs' verdicts: {dict(sorted(verdicts.items()))}")
    for source, counts in report["tests_only"].items():
        print(f"{source + ' (tests only)':28s} {counts['problems']} problems, {counts['tests parse']} parse, "
              f"{counts['BAD_TESTS']} BAD_TESTS")
    by_class = Counter((r["suite"], r["rules"], r["verdict"], r["why"] is not None) for r in report["rejections"])
    for (suite, rules, verdict, explained), n in sorted(by_class.items()):
        print(f"rejected: {suite}/{rules} {verdict} x{n} ({'suite test wrong' if explained else 'UNEXPLAINED'})")
    for r in report["rejections"]:
        print(f"  {r['suite']}/{r['rules']} {r['id']}: {r['verdict']} {r['reason'][:160]}"
              + (f"  [suite: {r['why']}]" if r["why"] else ""))
    for r in report["wrong_accepted"]:
        print(f"  WRONG PROGRAM ACCEPTED {r['suite']}/{r['rules']} {r['id']}")
    for r in report["wrong_not_wa"]:
        print(f"  wrong program rejected as {r['verdict']}: {r['suite']}/{r['rules']} {r['id']}: {r['reason'][:160]}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--data-dir", type=Path, default=DATA_DIR, help="where the suites' JSON files are")
    p.add_argument("--rules", default=",".join(RULES), help=f"comma-separated rule sets (default: all: {', '.join(RULES)})")
    p.add_argument("--files", default=",".join(ALL_FILES), help="comma-separated suite files (default: all)")
    p.add_argument("--limit", type=int, default=None, help="only the first N rows of each file")
    p.add_argument("--json", type=Path, default=None, help="write the counts and every rejection here")
    args = p.parse_args(argv)
    rule_sets = [r.strip() for r in args.rules.split(",") if r.strip()]
    unknown = [r for r in rule_sets if r not in RULES]
    if unknown:
        p.error(f"--rules: unknown rule set(s) {unknown}; known: {', '.join(RULES)}")
    files = tuple(f.strip() for f in args.files.split(",") if f.strip())
    unknown = [f for f in files if f not in ALL_FILES]
    if unknown:
        p.error(f"--files: unknown suite file(s) {unknown}; known: {', '.join(ALL_FILES)}")
    missing = [n for n in files if not (args.data_dir / n).is_file()]
    if missing:
        p.error(f"--data-dir {args.data_dir}: missing {', '.join(missing)} (pass the shared data folder, or "
                "--files with the ones you have)")
    report = judge_suites(args.data_dir, rule_sets, files, args.limit, progress=lambda m: print(m, file=sys.stderr, flush=True))
    print_report(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, default=dict) + "\n")
    return 1 if failed(report) else 0


if __name__ == "__main__":
    sys.exit(main())
