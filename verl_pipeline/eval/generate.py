"""`python -m verl_pipeline.eval generate`: sample responses for a verl RL parquet, then score them.

Backends:
- `vllm` (GPU): the engine DeepCoder evaluated with; imported only when chosen. Defaults follow DeepCoder's
  LiveCodeBench protocol: temperature 0.6, top_p 0.95, top_k -1; `--max-tokens` up to 65536 (DeepCoder's
  64K evaluation), 32768 by default.
- `hf` (CPU or any torch device): `verl_pipeline.workers.hf_sampling.sample_batch`, the transformers
  engine behind the CPU rollout; for tiny models, so the path is exercised without a GPU.
`auto` picks vllm when CUDA and vllm are available, else hf.

Prompts are the parquet's chat messages through the tokenizer's chat template (generation prompt added),
exactly what verl's rollout sees. Sample j of problem i uses seed `seed + 1000003 * i + j` (hf; vLLM
takes one seed for the run). Writes `responses.jsonl` (index, sample, response, finish_reason,
num_tokens) and `results.json` (the `eval score` results plus model, step and sampling settings).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MAX_TOKENS_LIMIT = 65536


@dataclass
class GenerateConfig:
    data: Path
    model: str
    output_dir: Path
    n: int = 1
    temperature: float = 0.6
    top_p: float = 0.95
    top_k: int = -1
    max_tokens: int = 32768
    seed: int = 0
    backend: str = "auto"  # auto | vllm | hf
    limit: int | None = None  # first N problems only (by extra_info.index)
    batch_size: int = 8  # hf: prompts per forward batch
    tensor_parallel_size: int = 1  # vllm
    gpu_memory_utilization: float = 0.9  # vllm
    ks: tuple[int, ...] = (1,)
    workers: int = 1
    max_tests: int = 0
    rules: str = "auto"  # see score.rules_for


@dataclass
class Generation:
    index: int
    sample: int
    response: str
    finish_reason: str
    num_tokens: int


def pick_backend(choice: str) -> str:
    if choice != "auto":
        return choice
    import importlib.util

    import torch

    return "vllm" if torch.cuda.is_available() and importlib.util.find_spec("vllm") else "hf"


def _prompt_ids(tokenizer, messages: list[dict[str, str]]) -> list[int]:
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    # transformers >= 5 returns a BatchEncoding, older versions a plain list
    return list(ids["input_ids"] if hasattr(ids, "keys") else ids)


def _generate_hf(cfg: GenerateConfig, prompts: list[tuple[int, list[int]]], tokenizer) -> list[Generation]:
    import torch
    from transformers import AutoModelForCausalLM

    from verl_pipeline.workers.hf_sampling import SamplingParams, sample_batch

    model = AutoModelForCausalLM.from_pretrained(cfg.model, dtype=torch.float32)
    model.eval()
    eos = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    gen_eos = getattr(model.generation_config, "eos_token_id", None)
    eos |= set(gen_eos if isinstance(gen_eos, list) else [gen_eos] if gen_eos is not None else [])
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(eos)
    requests = [(index, j, ids) for index, ids in prompts for j in range(cfg.n)]
    out = []
    for start in range(0, len(requests), cfg.batch_size):
        chunk = requests[start : start + cfg.batch_size]
        params = [SamplingParams(max_tokens=cfg.max_tokens, temperature=cfg.temperature, top_p=cfg.top_p,
                                 top_k=cfg.top_k, seed=cfg.seed + 1000003 * index + j) for index, j, _ in chunk]
        samples = sample_batch(model, [ids for _, _, ids in chunk], params, eos, pad)
        for (index, j, _), s in zip(chunk, samples, strict=True):
            text = tokenizer.decode(s.token_ids, skip_special_tokens=True)
            out.append(Generation(index, j, text, s.finish_reason, len(s.token_ids)))
    return out


def _generate_vllm(cfg: GenerateConfig, prompts: list[tuple[int, list[int]]]) -> list[Generation]:
    from vllm import LLM, SamplingParams

    longest = max((len(ids) for _, ids in prompts), default=0)
    llm = LLM(model=cfg.model, tensor_parallel_size=cfg.tensor_parallel_size, seed=cfg.seed,
              max_model_len=longest + cfg.max_tokens, gpu_memory_utilization=cfg.gpu_memory_utilization)
    params = SamplingParams(n=cfg.n, temperature=cfg.temperature, top_p=cfg.top_p, top_k=cfg.top_k,
                            max_tokens=cfg.max_tokens, seed=cfg.seed)
    outputs = llm.generate([{"prompt_token_ids": ids} for _, ids in prompts], params)
    out = []
    for (index, _), request in zip(prompts, outputs, strict=True):
        for j, o in enumerate(request.outputs):
            out.append(Generation(index, j, o.text, str(o.finish_reason), len(o.token_ids)))
    return out


def checkpoint_step(model: str) -> int | None:
    match = re.search(r"global_step_(\d+)", model)
    return int(match.group(1)) if match else None


def generate(cfg: GenerateConfig) -> dict[str, Any]:
    """Generate, write responses.jsonl, score, write results.json; returns the results."""
    import pyarrow.parquet as pq
    from transformers import AutoTokenizer

    from verl_pipeline.eval.score import grade, load_problems, summarise

    if not 1 <= cfg.max_tokens <= MAX_TOKENS_LIMIT:
        raise ValueError(f"--max-tokens={cfg.max_tokens} must be in [1, {MAX_TOKENS_LIMIT}] (DeepCoder evaluated at 65536)")
    problems = load_problems(cfg.data)
    rows = {int(r["extra_info"]["index"]): r for r in pq.read_table(cfg.data).to_pylist()}
    indices = sorted(problems)[: cfg.limit] if cfg.limit else sorted(problems)
    tokenizer = AutoTokenizer.from_pretrained(cfg.model)
    prompts = [(i, _prompt_ids(tokenizer, rows[i]["prompt"])) for i in indices]
    backend = pick_backend(cfg.backend)
    logger.info("generating %d x %d responses with %s (max %d tokens)", len(prompts), cfg.n, backend, cfg.max_tokens)
    generations = _generate_vllm(cfg, prompts) if backend == "vllm" else _generate_hf(cfg, prompts, tokenizer)

    cfg.output_dir.mkdir(parents=True, exist_ok=True)
    with open(cfg.output_dir / "responses.jsonl", "w", encoding="utf-8") as f:
        for g in generations:
            f.write(json.dumps(asdict(g), ensure_ascii=False) + "\n")
    responses: dict[int, list[str]] = {}
    for g in sorted(generations, key=lambda g: (g.index, g.sample)):
        responses.setdefault(g.index, []).append(g.response)
    graded = grade({i: problems[i] for i in indices}, responses, cfg.workers, cfg.max_tests, cfg.rules)
    results = summarise({i: problems[i] for i in indices}, graded, cfg.ks)
    results.update({
        "model": cfg.model, "step": checkpoint_step(cfg.model), "backend": backend,
        "sampling": {"n": cfg.n, "temperature": cfg.temperature, "top_p": cfg.top_p, "top_k": cfg.top_k,
                     "max_tokens": cfg.max_tokens, "seed": cfg.seed},
        "truncated": sum(g.finish_reason == "length" for g in generations),
    })
    with open(cfg.output_dir / "results.json", "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write("\n")
    return results
