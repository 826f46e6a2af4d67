"""`python -m verl_pipeline.data.curate`: published coding problems -> DeepCoder-style verl RL parquet.

Steps, in the order they run (each is counted in report.json, per step and per data source):
  1. malformed      read + normalise every row; a row that does not fit its format is dropped with a reason
  2. duplicate_id   the same problem id twice (same file given twice, overlapping shards)
  3. date_window    LiveCodeBench problems outside --lcb-date-from/--lcb-date-to (only when given)
  4. min_tests      fewer than --min-tests tests
  5. decontaminate  statement matches a --test-sets problem (same normalised text or n-gram overlap)
  6. verify         no reference solution passes all tests in the sandbox (problems without solutions kept)
  7. dedup          exact / near-duplicate statements: one per group kept (verified, most tests, first);
                    --no-dedup skips it (benchmarks)
Cheap filters run before the sandbox so that it only sees problems that could be kept; dedup runs after
it so that a verified copy wins over an unverified one.

Outputs in --output: train.parquet, val.parquet (with --val-size), report.json. The same inputs and flags
give byte-identical files (timing goes to the log, not the report). Imports neither verl nor Ray.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from verl_pipeline.data import filters
from verl_pipeline.data.argtypes import at_least, fraction, iso_date
from verl_pipeline.data.formats import InputSpec, UnreadableFile, load_input, load_statements
from verl_pipeline.data.problem import Drop, Problem
from verl_pipeline.data.verify import NO_SOLUTIONS, PASSED, verify_all
from verl_pipeline.data.writer import to_row, write_json, write_parquet

logger = logging.getLogger("verl_pipeline.data.curate")


@dataclass
class CurateConfig:
    inputs: list[InputSpec]
    output: Path
    test_sets: list[InputSpec] = field(default_factory=list)
    min_tests: int = 5
    workers: int = 1
    similarity: float = 0.9
    contam_similarity: float | None = None  # None: same as `similarity`
    ngram: int = 5
    lcb_date_from: dt.date | None = None
    lcb_date_to: dt.date | None = None
    verify: bool = True
    dedup: bool = True
    max_solutions: int = 3
    val_size: int = 0
    seed: int = 0


class _Ledger:
    """Counts per step and per source, and every dropped id with its reason, for report.json."""

    def __init__(self) -> None:
        self.steps: list[dict] = []
        self.drops: list[Drop] = []
        self.read_by_source: Counter = Counter()
        self.inputs: list[dict] = []
        self.test_sets: list[dict] = []

    def record(self, step: str, n_in: int, kept: Sequence[Problem], drops: Sequence[Drop]) -> list[Problem]:
        by_source = Counter(d.data_source for d in drops)
        self.steps.append({
            "step": step, "in": n_in, "dropped": len(drops), "out": len(kept),
            "dropped_by_source": dict(sorted(by_source.items())),
        })
        self.drops += drops
        logger.info("%-14s in %6d  dropped %6d  out %6d", step, n_in, len(drops), len(kept))
        return list(kept)

    def by_source(self, kept: Sequence[Problem]) -> dict[str, dict[str, int]]:
        kept_by_source = Counter(p.data_source for p in kept)
        out = {}
        for source in sorted(self.read_by_source):
            entry = {"read": self.read_by_source[source]}
            entry.update({s["step"]: s["dropped_by_source"].get(source, 0) for s in self.steps})
            entry["kept"] = kept_by_source.get(source, 0)
            out[source] = entry
        return out


def _load(cfg: CurateConfig, ledger: _Ledger) -> tuple[list[Problem], list[tuple[str, str]]]:
    """Normalised problems of every input (sorted by sort key) and the (origin, statement) of the test sets."""
    problems: list[Problem] = []
    malformed: list[Drop] = []
    for spec in cfg.inputs:
        loaded = load_input(spec)
        problems += loaded.problems
        malformed += loaded.malformed
        ledger.inputs.append({"input": str(spec.path), "source": spec.source, "files": loaded.files})
    ledger.read_by_source.update([p.data_source for p in problems] + [d.data_source for d in malformed])
    problems.sort(key=lambda p: p.sort_key)
    ledger.record("malformed", len(problems) + len(malformed), problems, sorted(malformed, key=lambda d: d.uid))
    test_statements = []
    for spec in cfg.test_sets:
        statements, skipped = load_statements(spec)
        test_statements += statements
        ledger.test_sets.append({"input": str(spec.path), "problems": len(statements), "skipped_rows": skipped})
    return problems, test_statements


def _verify(problems: list[Problem], cfg: CurateConfig, reference: dict[str, str]) -> filters.Result:
    """Keep problems whose reference passes (or that have none); records each status in `reference`."""
    kept, drops = [], []
    for p, v in zip(problems, verify_all(problems, cfg.workers, cfg.max_solutions), strict=True):
        reference[p.uid] = v.status
        if v.status in (PASSED, NO_SOLUTIONS):
            kept.append(p)
        else:
            why = f"none of {v.tried} reference solution(s) passes all {p.num_tests} tests (last: {v.detail})"
            drops.append(Drop("verify", p.uid, p.data_source, why))
    return kept, drops


def _val_uids(problems: list[Problem], val_size: int, seed: int) -> set[str]:
    """uids of the validation rows: the first `val_size` by a seeded hash of the uid (stable, input-order free)."""
    ranked = sorted(problems, key=lambda p: hashlib.sha256(f"{seed}:{p.uid}".encode()).hexdigest())
    return {p.uid for p in ranked[:val_size]}


def _write(problems: list[Problem], cfg: CurateConfig, reference: dict[str, str]) -> dict[str, int]:
    """train.parquet (+ val.parquet); indices follow the sort-key order, so they are stable across runs."""
    val_uids = _val_uids(problems, cfg.val_size, cfg.seed)
    rows: dict[str, list] = {"train": [], "val": []}
    for index, p in enumerate(problems):
        split = "val" if p.uid in val_uids else "train"
        rows[split].append(to_row(p, index, split, reference[p.uid]))
    cfg.output.mkdir(parents=True, exist_ok=True)
    write_parquet(rows["train"], cfg.output / "train.parquet")
    if cfg.val_size:
        write_parquet(rows["val"], cfg.output / "val.parquet")
    return {split: len(r) for split, r in rows.items()}


def curate(cfg: CurateConfig) -> dict:
    """Run every step and write the outputs; returns the report (also written as report.json)."""
    ledger = _Ledger()
    current, test_statements = _load(cfg, ledger)
    current = ledger.record("duplicate_id", len(current), *filters.drop_duplicate_ids(current))
    if cfg.lcb_date_from or cfg.lcb_date_to:
        window = filters.date_window(current, cfg.lcb_date_from, cfg.lcb_date_to)
        current = ledger.record("date_window", len(current), *window)
    current = ledger.record("min_tests", len(current), *filters.min_tests(current, cfg.min_tests))
    contam = cfg.contam_similarity if cfg.contam_similarity is not None else cfg.similarity
    cleaned = filters.decontaminate(current, test_statements, contam, cfg.ngram)
    current = ledger.record("decontaminate", len(current), *cleaned)
    reference = {p.uid: "not_checked" for p in current}
    if cfg.verify:
        current = ledger.record("verify", len(current), *_verify(current, cfg, reference))
    if cfg.dedup:
        verified = {uid for uid, status in reference.items() if status == PASSED}
        unique = filters.deduplicate(current, cfg.similarity, cfg.ngram, preferred=verified)
        current = ledger.record("dedup", len(current), *unique)
    counts = _write(current, cfg, reference)

    report = {
        "config": {
            "min_tests": cfg.min_tests, "similarity": cfg.similarity, "contam_similarity": contam,
            "ngram": cfg.ngram, "lcb_date_from": str(cfg.lcb_date_from or ""), "lcb_date_to": str(cfg.lcb_date_to or ""),
            "verify": cfg.verify, "dedup": cfg.dedup, "max_solutions": cfg.max_solutions,
            "val_size": cfg.val_size, "seed": cfg.seed,
        },
        "inputs": ledger.inputs,
        "test_sets": ledger.test_sets,
        "steps": ledger.steps,
        "by_source": ledger.by_source(current),
        "reference_check": dict(sorted(Counter(reference[p.uid] for p in current).items())),
        "output": counts,
        "dropped": [{"step": d.step, "uid": d.uid, "data_source": d.data_source, "reason": d.reason} for d in ledger.drops],
    }
    write_json(report, cfg.output / "report.json")
    return report


# ---------------------------------------------------------------------------------------------- CLI


def _input_spec(text: str) -> InputSpec:
    try:
        return InputSpec.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m verl_pipeline.data.curate",
        description="Curate coding problems (TACO, PrimeIntellect, LiveCodeBench, DeepCoder, rllm JSON) into verl RL parquet.",
    )
    p.add_argument("--input", nargs="+", required=True, type=_input_spec, metavar="[SOURCE=]PATH",
                   help="files (.json/.jsonl/.parquet) or directories; SOURCE= forces the data source")
    p.add_argument("--test-sets", nargs="*", default=[], type=_input_spec, metavar="PATH",
                   help="benchmark problems that must not appear in the output (decontamination)")
    p.add_argument("--output", required=True, type=Path, help="directory for train.parquet, val.parquet, report.json")
    p.add_argument("--min-tests", type=at_least("--min-tests", 0), default=5,
                   help="drop problems with fewer tests (DeepCoder: 5)")
    p.add_argument("--workers", type=at_least("--workers", 1), default=os.cpu_count() or 1,
                   help="problems verified in parallel (default: CPU count)")
    p.add_argument("--similarity", type=fraction("--similarity"), default=0.9,
                   help="n-gram overlap at which two statements are near-duplicates (default 0.9)")
    p.add_argument("--contam-similarity", type=fraction("--contam-similarity"), default=None,
                   help="the same for matches against --test-sets (default: --similarity)")
    p.add_argument("--ngram", type=at_least("--ngram", 1), default=5, help="words per n-gram (default 5)")
    p.add_argument("--lcb-date-from", type=iso_date("--lcb-date-from"), default=None,
                   help="keep LiveCodeBench problems dated on/after this day (DeepCoder train: 2023-05-01)")
    p.add_argument("--lcb-date-to", type=iso_date("--lcb-date-to"), default=None,
                   help="... and on/before this day (DeepCoder train: 2024-07-31)")
    p.add_argument("--no-verify", action="store_true", help="skip running reference solutions")
    p.add_argument("--no-dedup", action="store_true",
                   help="keep near-duplicate statements (benchmarks: Codeforces E1/E2 versions are distinct problems)")
    p.add_argument("--max-solutions", type=at_least("--max-solutions", 1), default=3,
                   help="reference solutions tried per problem before it counts as failed (default 3)")
    p.add_argument("--val-size", type=at_least("--val-size", 0), default=0,
                   help="problems moved to val.parquet (seeded, stable choice)")
    p.add_argument("--seed", type=int, default=0, help="seed of the validation split")
    return p


def config_from_args(args: argparse.Namespace) -> CurateConfig:
    if args.lcb_date_from and args.lcb_date_to and args.lcb_date_from > args.lcb_date_to:
        raise ValueError(f"--lcb-date-from={args.lcb_date_from} is after --lcb-date-to={args.lcb_date_to}; swap them")
    if args.output.exists() and not args.output.is_dir():
        raise ValueError(f"--output={args.output} is a file; give a directory (it is created if missing)")
    return CurateConfig(
        inputs=args.input, output=args.output, test_sets=args.test_sets, min_tests=args.min_tests,
        workers=args.workers, similarity=args.similarity, contam_similarity=args.contam_similarity, ngram=args.ngram,
        lcb_date_from=args.lcb_date_from, lcb_date_to=args.lcb_date_to, verify=not args.no_verify, dedup=not args.no_dedup,
        max_solutions=args.max_solutions, val_size=args.val_size, seed=args.seed,
    )


def _print_summary(report: dict) -> None:
    print(f"{'step':<14} {'in':>7} {'dropped':>8} {'out':>7}")
    for s in report["steps"]:
        print(f"{s['step']:<14} {s['in']:>7} {s['dropped']:>8} {s['out']:>7}")
    steps = [s["step"] for s in report["steps"]]
    print()
    print(f"{'source':<15} {'read':>6} " + " ".join(f"{s[:9]:>9}" for s in steps) + f" {'kept':>6}")
    for source, e in report["by_source"].items():
        print(f"{source:<15} {e['read']:>6} " + " ".join(f"{e[s]:>9}" for s in steps) + f" {e['kept']:>6}")
    print(f"\nreference check of kept problems: {report['reference_check']}; rows: {report['output']}")


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        cfg = config_from_args(args)
    except ValueError as e:
        parser.error(str(e))
    start = time.monotonic()
    try:
        report = curate(cfg)
    except UnreadableFile as e:
        logger.error("%s", e)
        return 2
    _print_summary(report)
    logger.info("wrote %s in %.1f s", cfg.output, time.monotonic() - start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
