"""Judge one response from the command line and print the verdict as JSON.

    python -m verl_pipeline.reward --data-source livecodebench --tests tests.json response.md

``tests.json`` holds the problem's tests in the data source's format (see docs/reward.md);
``response.md`` is the model's answer (``-`` reads stdin). Exit status: 0 when a verdict was
printed (whatever it is), 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .api import compute_score
from .formats import KNOWN_SOURCES
from .sandbox import ISOLATION_CHOICES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verl_pipeline.reward", description=__doc__.split("\n\n")[0])
    parser.add_argument("response", help="the model's response (markdown with a ```python block); - for stdin")
    parser.add_argument("--data-source", required=True, help=f"one of {', '.join(KNOWN_SOURCES)}")
    parser.add_argument("--tests", required=True, type=Path, help="JSON file with the problem's tests")
    parser.add_argument("--extra-info", type=Path, help="JSON file with the row's extra_info (starter_code, metadata...)")
    parser.add_argument("--time-limit", type=float, help="seconds per test (default: per data source)")
    parser.add_argument("--memory-limit", type=int, help="MiB per test process (default 2048)")
    parser.add_argument("--max-tests", type=int, help="run at most this many tests, the longest inputs (0: all)")
    parser.add_argument("--isolation", choices=ISOLATION_CHOICES, help="sandbox layer (default: auto)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log which sandbox layer is used")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")

    response = sys.stdin.read() if args.response == "-" else Path(args.response).read_text()
    extra_info = json.loads(args.extra_info.read_text()) if args.extra_info else None
    options = {"time_limit_s": args.time_limit, "memory_limit_mb": args.memory_limit,
               "max_tests": args.max_tests, "isolation": args.isolation}
    try:
        result = compute_score(
            args.data_source,
            response,
            args.tests.read_text(),
            extra_info,
            **{k: v for k, v in options.items() if v is not None},
        )
    except ValueError as e:
        parser.error(str(e))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
