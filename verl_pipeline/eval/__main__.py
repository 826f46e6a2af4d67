"""`python -m verl_pipeline.eval score|generate|codeforces|plot ...` (see docs/eval.md).

Each command prints a readable table and writes JSON (or a PNG for `plot`). Errors in the inputs exit
with status 2 and a message naming the flag, the value and the fix. Imports neither verl nor Ray.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from verl_pipeline.data.argtypes import at_least

logger = logging.getLogger("verl_pipeline.eval")


def _ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(sorted({int(k) for k in text.split(",") if k.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--k={text!r}: write comma-separated integers, e.g. 1,4,8") from None
    if not ks or ks[0] < 1:
        raise argparse.ArgumentTypeError(f"--k={text!r}: every k must be >= 1")
    return ks


def _write_json(obj: dict, path: Path | None) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    logger.info("wrote %s", path)


def _grading_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--k", type=_ks, default=(1,), help="pass@k to report, e.g. 1,4,8 (default 1)")
    p.add_argument("--workers", type=at_least("--workers", 1), default=os.cpu_count() or 1,
                   help="responses graded in parallel (default: CPU count)")
    p.add_argument("--max-tests", type=at_least("--max-tests", 0), default=0,
                   help="grade on at most this many tests per problem (0 = all, DeepCoder's LiveCodeBench protocol)")
    p.add_argument("--rules", choices=("auto", "deepcoder", "livecodebench"), default="auto",
                   help="reward rule set (default auto: livecodebench, i.e. the official grader's verdicts, for "
                        "LiveCodeBench data; deepcoder for the rest); see docs/reward.md")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m verl_pipeline.eval", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("score", help="grade responses for a parquet and report pass@k")
    p.add_argument("--data", type=Path, required=True, help="verl RL parquet (extra_info.index per row)")
    p.add_argument("--responses", type=Path, required=True, help='JSON lines {"index": int, "response": str}')
    p.add_argument("--output", type=Path, default=None, help="results JSON file")
    _grading_flags(p)

    p = sub.add_parser("generate", help="sample responses (vLLM on GPU, transformers on CPU) and score them")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--model", required=True, help="local model directory (HF format)")
    p.add_argument("--output-dir", type=Path, required=True, help="gets responses.jsonl and results.json")
    p.add_argument("--n", type=at_least("--n", 1), default=1, help="samples per problem (default 1)")
    p.add_argument("--temperature", type=float, default=0.6)
    p.add_argument("--top-p", type=float, default=0.95)
    p.add_argument("--top-k", type=int, default=-1)
    p.add_argument("--max-tokens", type=at_least("--max-tokens", 1), default=32768,
                   help="response length, up to 65536 (DeepCoder's 64K evaluation)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", choices=("auto", "vllm", "hf"), default="auto")
    p.add_argument("--limit", type=at_least("--limit", 1), default=None, help="only the first N problems")
    p.add_argument("--batch-size", type=at_least("--batch-size", 1), default=8, help="hf backend: prompts per batch")
    p.add_argument("--tensor-parallel-size", type=at_least("--tensor-parallel-size", 1), default=1)
    p.add_argument("--gpu-memory-utilization", type=float, default=0.9)
    _grading_flags(p)

    p = sub.add_parser("codeforces", help="CodeElo scoring and rating from local contest standings")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--results", type=Path, help="results JSON of `eval score` (per-problem verdicts)")
    src.add_argument("--data", type=Path, help="parquet to grade --responses against (instead of --results)")
    p.add_argument("--responses", type=Path, help="with --data: the responses JSON lines")
    p.add_argument("--standings", type=Path, default=None, help="contest standings JSON (schema: docs/eval.md)")
    p.add_argument("--attempts", type=at_least("--attempts", 1), default=None,
                   help="use only the first N attempts per problem (CodeElo: 8)")
    p.add_argument("--min-participants", type=at_least("--min-participants", 0), default=None,
                   help="skip contests with fewer rated participants (default 201: CodeElo skips <= 200)")
    p.add_argument("--output", type=Path, default=None)
    _grading_flags(p)

    p = sub.add_parser("plot", help="a metric over checkpoints from several results files")
    p.add_argument("results", type=Path, nargs="+", help="results JSON files, one per checkpoint")
    p.add_argument("--output", type=Path, required=True, help="PNG file")
    p.add_argument("--metric", default="pass@1")
    p.add_argument("--title", default=None)
    return parser


def _score(args: argparse.Namespace) -> dict:
    from verl_pipeline.eval.score import format_table, score

    results = score(args.data, args.responses, args.k, args.workers, args.max_tests, args.rules)
    print(format_table(results))
    _write_json(results, args.output)
    return results


def _generate(args: argparse.Namespace) -> dict:
    from verl_pipeline.eval.generate import GenerateConfig, generate
    from verl_pipeline.eval.score import format_table

    cfg = GenerateConfig(
        data=args.data, model=args.model, output_dir=args.output_dir, n=args.n, temperature=args.temperature,
        top_p=args.top_p, top_k=args.top_k, max_tokens=args.max_tokens, seed=args.seed, backend=args.backend,
        limit=args.limit, batch_size=args.batch_size, tensor_parallel_size=args.tensor_parallel_size,
        gpu_memory_utilization=args.gpu_memory_utilization, ks=args.k, workers=args.workers, max_tests=args.max_tests,
        rules=args.rules,
    )
    results = generate(cfg)
    print(format_table(results))
    return results


def _codeforces(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict:
    from verl_pipeline.eval.codeforces import CODEELO_MIN_PARTICIPANTS, evaluate, format_report, load_standings
    from verl_pipeline.eval.score import score

    if args.data is not None:
        if args.responses is None:
            parser.error("codeforces --data needs --responses (or pass --results from `eval score`)")
        results = score(args.data, args.responses, (1,), args.workers, args.max_tests, args.rules)
    else:
        try:
            results = json.loads(args.results.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            parser.error(f"--results {args.results}: cannot read JSON ({e})")
        if "problems" not in results:
            parser.error(f"--results {args.results}: no per-problem table; write it with `eval score --output`")
    contests, ratings = load_standings(args.standings) if args.standings else (None, None)
    minimum = CODEELO_MIN_PARTICIPANTS if args.min_participants is None else args.min_participants
    report = evaluate(results, contests, ratings, args.attempts, minimum)
    print(format_report(report))
    _write_json(report, args.output)
    return report


def _plot(args: argparse.Namespace) -> list:
    from verl_pipeline.eval.plot import plot

    points = plot(args.results, args.output, args.metric, args.title)
    print(f"{'step':>8}  {args.metric:>8}  file")
    for x, y, label in points:
        print(f"{x:>8.0f}  {'n/a' if y is None else f'{100 * y:.2f}':>8}  {label}")
    logger.info("wrote %s", args.output)
    return points


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    from verl_pipeline.eval.codeforces import StandingsError
    from verl_pipeline.eval.score import EvalInputError

    try:
        if args.command == "score":
            _score(args)
        elif args.command == "generate":
            _generate(args)
        elif args.command == "codeforces":
            _codeforces(args, parser)
        else:
            _plot(args)
    except (EvalInputError, StandingsError, ValueError) as e:
        logger.error("%s", e)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
