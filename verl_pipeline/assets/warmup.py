"""A tiny *coder*: the tiny random model, briefly fine-tuned so the real code reward has signal on a laptop.

A random model never writes a fenced Python block, so the code reward is 0 for every sample, every GRPO
advantage is 0 and nothing trains. The smoke recipe instead starts from the tiny model after a few seconds of
supervised fine-tuning on eight trivial stdin/stdout problems, with a correct and a plausible wrong program for
each. Sampling then gives a mix of passing and failing programs, judged for real in the sandbox, so GRPO has a
reward to climb: the smoke run exercises the whole reward path, not a stand-in.

The problems are in PrimeIntellect's `stdin_stdout` test format (at least 5 tests each, as DeepCoder requires).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from verl_pipeline.assets.cache import cache_root
from verl_pipeline.assets.problems import load_bundled_problems, write_parquet
from verl_pipeline.assets.tiny import TinyModelSpec, build_cached, tiny_model_path
from verl_pipeline.data.prompts import build_chat


@dataclass(frozen=True)
class WarmupProblem:
    statement: str
    solution: str
    wrong: str
    inputs: tuple[str, ...]
    answer: Callable[[str], str]

    def tests(self) -> list[dict]:
        return [
            {"type": "stdin_stdout", "input": i, "output": self.answer(i) + "\n"} for i in self.inputs
        ]


WARMUP_PROBLEMS: tuple[WarmupProblem, ...] = (
    WarmupProblem(
        "Read two integers a and b on one line and print a + b.",
        "a, b = map(int, input().split())\nprint(a + b)",
        "a, b = map(int, input().split())\nprint(a - b)",
        ("1 2\n", "10 -3\n", "0 0\n", "123 456\n", "-5 -7\n"),
        lambda s: str(sum(map(int, s.split()))),
    ),
    WarmupProblem(
        "Read an integer n and print 2 * n.",
        "print(int(input()) * 2)",
        "print(int(input()) * 3)",
        ("1\n", "7\n", "-4\n", "100\n", "0\n"),
        lambda s: str(int(s) * 2),
    ),
    WarmupProblem(
        "Read a line of text and print it reversed.",
        "print(input()[::-1])",
        "print(input())",
        ("abc\n", "hello world\n", "racecar x\n", "12345\n", "ab\n"),
        lambda s: s.rstrip("\n")[::-1],
    ),
    WarmupProblem(
        "Read two integers on one line and print the larger one.",
        "print(max(map(int, input().split())))",
        "print(min(map(int, input().split())))",
        ("1 2\n", "9 3\n", "-1 -8\n", "5 5\n", "0 10\n"),
        lambda s: str(max(map(int, s.split()))),
    ),
    WarmupProblem(
        "Read a word and print it in upper case.",
        "print(input().upper())",
        "print(input().lower())",
        ("abc\n", "Hello\n", "xYz\n", "python\n", "q\n"),
        lambda s: s.strip().upper(),
    ),
    WarmupProblem(
        "Read an integer n and print n squared.",
        "n = int(input())\nprint(n * n)",
        "n = int(input())\nprint(n + n)",
        ("3\n", "5\n", "-4\n", "10\n", "7\n"),
        lambda s: str(int(s) ** 2),
    ),
    WarmupProblem(
        "Read a line of text and print its length.",
        "print(len(input()))",
        "print(len(input()) - 1)",
        ("abc\n", "hello world\n", "x\n", "0123456789\n", "a b c\n"),
        lambda s: str(len(s.rstrip("\n"))),
    ),
    WarmupProblem(
        "Read integers on one line and print their sum.",
        "print(sum(map(int, input().split())))",
        "print(len(input().split()))",
        ("1 2 3\n", "10\n", "5 5 5 5\n", "-1 1 -1 1 9\n", "100 200\n"),
        lambda s: str(sum(map(int, s.split()))),
    ),
)

WARMUP_SOURCE = "verl_pipeline warm-up problems (written for this project, verl_pipeline/assets/warmup.py)"


def warmup_rows() -> list[dict]:
    """The warm-up problems in the bundled-problem row format (see assets/problems.py)."""
    return [
        {
            "split": "train",
            "data_source": "primeintellect",
            "source": f"{WARMUP_SOURCE} #{i}",
            "problem": p.statement,
            "starter_code": "",
            "tests": json.dumps(p.tests()),
            "solutions": [p.solution],
        }
        for i, p in enumerate(WARMUP_PROBLEMS)
    ]


def _fence(code: str) -> str:
    return f"```python\n{code}\n```"


def build_tiny_coder(base_path: str, out_dir: Path, steps: int = 150, seed: int = 0) -> None:
    """Fine-tune the tiny model on (prompt, program) pairs, the correct program weighted 0.6, the wrong 0.4."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(base_path)
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32, attn_implementation="sdpa")
    examples = []
    for p in WARMUP_PROBLEMS:
        prompt = tokenizer.apply_chat_template(build_chat(p.statement), add_generation_prompt=True, tokenize=False)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        for code, weight in ((p.solution, 0.6), (p.wrong, 0.4)):
            response_ids = tokenizer(_fence(code), add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
            examples.append((prompt_ids, response_ids, weight))
    width = max(len(p) + len(r) for p, r, _ in examples)
    input_ids = torch.full((len(examples), width), tokenizer.pad_token_id)
    labels = torch.full((len(examples), width), -100)
    attention = torch.zeros((len(examples), width), dtype=torch.long)
    weights = torch.tensor([w for _, _, w in examples])
    for i, (p, r, _) in enumerate(examples):
        ids = p + r
        input_ids[i, : len(ids)] = torch.tensor(ids)
        labels[i, len(p) : len(ids)] = torch.tensor(r)  # loss on the response only
        attention[i, : len(ids)] = 1
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    targets = labels[:, 1:]
    valid = targets != -100
    model.train()
    for _ in range(steps):
        logits = model(input_ids=input_ids, attention_mask=attention).logits[:, :-1]  # [N, T-1, V]
        token_loss = torch.nn.functional.cross_entropy(
            logits.transpose(1, 2), targets.clamp(min=0), reduction="none"
        )  # [N, T-1]
        per_example = (token_loss * valid).sum(-1) / valid.sum(-1)
        loss = (per_example * weights).sum() / weights.sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)


def tiny_coder_path(spec: TinyModelSpec = TinyModelSpec()) -> str:
    """Directory of the warmed-up tiny model, built (a few seconds) and cached on first use."""
    base = tiny_model_path(spec)
    key = hashlib.sha256((base + json.dumps([p.solution + p.wrong for p in WARMUP_PROBLEMS])).encode()).hexdigest()[:12]
    return build_cached(cache_root() / f"tiny-coder-{key}", lambda out_dir: build_tiny_coder(base, out_dir))


def smoke_parquet() -> str:
    """The smoke recipe's training set: the 8 warm-up problems, then the 8 shortest bundled real problems."""
    real = sorted(load_bundled_problems("train"), key=lambda p: len(p["problem"]))[:8]
    return write_parquet("smoke-train", warmup_rows() + real)
