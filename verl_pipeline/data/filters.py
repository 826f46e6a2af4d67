"""The curation filters that do not run code: duplicate ids, date window, test count, dedup, decontamination.

Each filter takes problems in a deterministic order and returns (kept, drops); a Drop's reason says why in
terms a user can act on (the flag and the value that decided it). Verification (which runs reference
solutions) is in verify.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from verl_pipeline.data.dedup import Signatures, contaminated, duplicate_clusters, similarity
from verl_pipeline.data.problem import Drop, Problem

Result = tuple[list[Problem], list[Drop]]


def drop_duplicate_ids(problems: Sequence[Problem]) -> Result:
    """The same uid twice (the same file given twice, a problem in two shards): keep the first by sort key."""
    kept: dict[str, Problem] = {}
    drops = []
    for p in sorted(problems, key=lambda p: p.sort_key):
        if p.uid in kept:
            drops.append(Drop("duplicate_id", p.uid, p.data_source, f"{p.origin}: same id as {kept[p.uid].origin}"))
        else:
            kept[p.uid] = p
    return list(kept.values()), drops


def date_window(problems: Sequence[Problem], start: dt.date | None, end: dt.date | None,
                sources: Collection[str] = ("livecodebench",)) -> Result:
    """Keep dated problems of `sources` whose date is in [start, end] (both inclusive).

    Undated problems and other sources pass: the window is about LiveCodeBench's contest dates.
    """
    kept, drops = [], []
    for p in problems:
        if p.data_source in sources and p.date and (start or end):
            day = dt.date.fromisoformat(p.date)
            if (start and day < start) or (end and day > end):
                window = f"--lcb-date-from {start or '(none)'} .. --lcb-date-to {end or '(none)'}"
                drops.append(Drop("date_window", p.uid, p.data_source, f"date {p.date} outside {window}"))
                continue
        kept.append(p)
    return kept, drops


def min_tests(problems: Sequence[Problem], minimum: int) -> Result:
    """Keep problems with at least `minimum` tests (with fewer, a model can print memorised answers)."""
    kept, drops = [], []
    for p in problems:
        if p.num_tests < minimum:
            drops.append(Drop("min_tests", p.uid, p.data_source, f"{p.num_tests} tests < --min-tests {minimum}"))
        else:
            kept.append(p)
    return kept, drops


def decontaminate(problems: Sequence[Problem], test_statements: Sequence[tuple[str, str]], threshold: float,
                  ngram: int) -> Result:
    """Remove problems whose statement matches a test-set statement (same normalised text or n-gram overlap)."""
    if not test_statements or not problems:
        return list(problems), []
    hits = contaminated(
        Signatures.build([p.statement for p in problems], ngram),
        Signatures.build([s for _, s in test_statements], ngram),
        threshold,
    )
    kept, drops = [], []
    for i, p in enumerate(problems):
        if i not in hits:
            kept.append(p)
            continue
        j, sim = hits[i]
        how = "same normalised statement" if sim == 1.0 else f"n-gram overlap {sim:.3f} >= --contam-threshold {threshold}"
        drops.append(Drop("decontaminate", p.uid, p.data_source, f"matches test problem {test_statements[j][0]}: {how}"))
    return kept, drops


def deduplicate(problems: Sequence[Problem], threshold: float, ngram: int, preferred: Collection[str] = ()) -> Result:
    """Keep one problem per group of exact / near-duplicate statements.

    The kept one is, in order: in `preferred` (its reference solution was verified), has the most tests,
    comes first by sort key. Groups are transitive (A~B and B~C put A, B, C together).
    """
    if not problems:
        return [], []
    sigs = Signatures.build([p.statement for p in problems], ngram)
    kept_idx, drops = [], []
    for group in duplicate_clusters(sigs, threshold):
        best = min(group, key=lambda i: (problems[i].uid not in preferred, -problems[i].num_tests,
                                         problems[i].sort_key))
        kept_idx.append(best)
        for i in group:
            if i == best:
                continue
            if sigs.digests[i] == sigs.digests[best]:
                how = "same normalised statement"
            else:
                sim = similarity(sigs.shingle_sets[i], sigs.shingle_sets[best])
                how = f"n-gram overlap {sim:.3f} (group linked at >= {threshold})"
            p = problems[i]
            drops.append(Drop("dedup", p.uid, p.data_source, f"duplicate of {problems[best].uid}: {how}"))
    return [problems[i] for i in sorted(kept_idx)], drops
