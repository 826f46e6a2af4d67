"""Easy stdin/stdout coding problems built in code, for a 135M instruct model to learn on (recipe smollm2_coder).

Each *family* is a template ("read n, print n plus K") instantiated with several constants; every problem has a
reference solution and 7 tests in PrimeIntellect's `stdin_stdout` format. The split is by family: a family's
problems are all in train or all held-out, so no template is shared across the split, and held-out pass@1 measures
transfer to unseen task wordings (e.g. train has "n plus K", held-out has "n minus K"), not memorised constants.
The order is fixed (no randomness beyond a seeded RNG for test inputs), so the parquet files are deterministic.

The prompt (fixed for before and after training): one solved example as a prior chat turn, then the problem with
an exact statement of the format: "Write a Python program that reads from standard input and prints only the
answer. No prompts, no extra text. Put the program in one ```python code block." (see `chat`).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Callable

DATA_SOURCE = "primeintellect"
INSTRUCTION = (
    "Write a Python program that reads from standard input and prints only the answer. "
    "No prompts, no extra text. Put the program in one ```python code block.\n\nProblem: "
)
ONE_SHOT = [
    {"role": "user", "content": INSTRUCTION + "Read an integer n and print n times 2."},
    {"role": "assistant", "content": "```python\nn = int(input())\nprint(n * 2)\n```"},
]


@dataclass(frozen=True)
class Family:
    name: str
    split: str
    statement: str  # formatted with k=
    solution: str  # formatted with k=
    answer: Callable[[str, int], str]
    make_input: Callable[[random.Random], str]
    constants: tuple[int, ...]


def _int(lo: int = -50, hi: int = 100) -> Callable[[random.Random], str]:
    return lambda r: f"{r.randint(lo, hi)}\n"


def _word(r: random.Random) -> str:
    return "".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(r.randint(1, 9))) + "\n"


def _line(r: random.Random) -> str:
    return " ".join(_word(r).strip() for _ in range(r.randint(1, 4))) + "\n"


def _two(r: random.Random) -> str:
    return f"{r.randint(-50, 100)} {r.randint(-50, 100)}\n"


def _list(r: random.Random) -> str:
    n = r.randint(1, 8)
    return f"{n}\n" + " ".join(str(r.randint(-20, 50)) for _ in range(n)) + "\n"


def _nums(s: str) -> list[int]:
    return list(map(int, s.split()[1:]))


K = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 17, 20, 25, 30, 50, 100)
SMALL = (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 20)

FAMILIES: tuple[Family, ...] = (
    # ---- train ----
    Family("add_k", "train", "Read an integer n and print n plus {k}.", "print(int(input()) + {k})",
           lambda s, k: str(int(s) + k), _int(), K),
    Family("mul_k", "train", "Read an integer n and print n times {k}.", "print(int(input()) * {k})",
           lambda s, k: str(int(s) * k), _int(), SMALL),
    Family("square_plus_k", "train", "Read an integer n and print n squared plus {k}.",
           "n = int(input())\nprint(n * n + {k})", lambda s, k: str(int(s) ** 2 + k), _int(-30, 30), K),
    Family("upper_repeat", "train", "Read a word and print it in upper case, {k} times on one line with no spaces.",
           "print(input().upper() * {k})", lambda s, k: s.strip().upper() * k, _word, SMALL[:6]),
    Family("repeat_word", "train", "Read a word and print it {k} times on one line with no spaces.",
           "print(input() * {k})", lambda s, k: s.strip() * k, _word, SMALL[:8]),
    Family("sum_plus_k", "train", "Read two integers a and b on one line and print a + b + {k}.",
           "a, b = map(int, input().split())\nprint(a + b + {k})", lambda s, k: str(sum(map(int, s.split())) + k),
           _two, K),
    Family("mod_k", "train", "Read a non-negative integer n and print the remainder of n divided by {k}.",
           "print(int(input()) % {k})", lambda s, k: str(int(s) % k), _int(0, 1000), SMALL),
    Family("count_to_k", "train", "Read an integer n and print the numbers from n to n + {k}, one per line.",
           "n = int(input())\nfor i in range(n, n + {k} + 1):\n    print(i)",
           lambda s, k: "\n".join(str(i) for i in range(int(s), int(s) + k + 1)), _int(), SMALL[:8]),
    Family("list_sum_plus_k", "train",
           "Read n on the first line and n integers on the second line. Print their sum plus {k}.",
           "input()\nprint(sum(map(int, input().split())) + {k})",
           lambda s, k: str(sum(_nums(s)) + k), _list, K),
    Family("len_plus_k", "train", "Read a line of text and print its length plus {k}.",
           "print(len(input()) + {k})", lambda s, k: str(len(s.rstrip("\n")) + k), _line, K),
    # ---- held-out: different wordings and operations, never seen in training ----
    Family("sub_k", "val", "Read an integer n and print n minus {k}.", "print(int(input()) - {k})",
           lambda s, k: str(int(s) - k), _int(), K),
    Family("cube_minus_k", "val", "Read an integer n and print the cube of n minus {k}.",
           "n = int(input())\nprint(n ** 3 - {k})", lambda s, k: str(int(s) ** 3 - k), _int(-20, 20), SMALL),
    Family("lower_k", "val", "Read a word and print it in lower case followed by the number {k}.",
           "print(input().lower() + '{k}')", lambda s, k: s.strip().lower() + str(k),
           lambda r: _word(r).upper(), SMALL[:8]),
    Family("max_plus_k", "val",
           "Read n on the first line and n integers on the second line. Print the largest plus {k}.",
           "input()\nprint(max(map(int, input().split())) + {k})", lambda s, k: str(max(_nums(s)) + k), _list, SMALL),
)


def _tests(f: Family, k: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [{"type": "stdin_stdout", "input": (i := f.make_input(rng)), "output": f.answer(i, k) + "\n"}
            for _ in range(7)]


def easy_problems(split: str) -> list[dict]:
    """The problems of `split` ("train" or "val") in the bundled-problem row format (see assets/problems.py)."""
    if split not in ("train", "val"):
        raise ValueError(f"split={split!r} is not one of ('train', 'val')")
    rows = []
    for fi, f in enumerate(FAMILIES):
        if f.split != split:
            continue
        for k in f.constants:
            rows.append({
                "split": split, "data_source": DATA_SOURCE, "source": f"easy_code/{f.name}/{k}",
                "problem": f.statement.format(k=k), "starter_code": "",
                "tests": json.dumps(_tests(f, k, seed=fi * 1000 + k)), "solutions": [f.solution.format(k=k)],
            })
    return rows


def chat(problem: str) -> list[dict[str, str]]:
    """The fixed prompt: the one-shot turn, then the problem."""
    return ONE_SHOT + [{"role": "user", "content": INSTRUCTION + problem}]


def verl_rows(split: str, sources: set[str] | None = None) -> list[dict]:
    """verl RL rows (the `data.train_files` parquet format), optionally only the problems named in `sources`."""
    return [
        {"data_source": p["data_source"], "prompt": chat(p["problem"]), "ability": "code",
         "reward_model": {"style": "rule", "ground_truth": p["tests"]},
         "extra_info": {"index": i, "split": split, "source": p["source"]}}
        for i, p in enumerate(q for q in easy_problems(split) if sources is None or q["source"] in sources)
    ]


def easy_parquet(split: str) -> str:
    """Path of a split as a verl parquet file, written to the cache on first use.

    "val_small" is the held-out subset the recipe validates on during training (the first 4 constants of each
    held-out family: 16 problems, a few minutes of CPU generation); the full "val" split is for `eval generate`.
    """
    from verl_pipeline.assets.problems import write_rows

    if split == "val_small":
        small = {f"easy_code/{f.name}/{k}" for f in FAMILIES if f.split == "val" for k in f.constants[:4]}
        return write_rows("easy_code-val_small", verl_rows("val", small))
    return write_rows(f"easy_code-{split}", verl_rows(split))
