"""Pipelined vs synchronous steps on the same workload: how close does one-off pipelining get to the ideal?

Runs `python -m verl_pipeline.main +recipe=smoke` twice (or more) on the same workload: `pipeline.max_staleness=0`
(synchronous, the baseline) and `=1` (and any others asked for), the rollout and the trainer on disjoint cores
(one each on a 2-core machine). From the synchronous run's stage times it computes the ideal pipelined step,
max(generation, everything else), and reports each mode's mean step time after warm-up, the speedup over the
synchronous run, the ideal speedup and the efficiency (speedup / ideal).

    python benchmarks/pipeline_speedup.py                      # CPU defaults, ~5 minutes on 2 cores
    python benchmarks/pipeline_speedup.py --staleness 0 1 2 --steps 14 --response-length 128
    python benchmarks/pipeline_speedup.py --engine vllm        # verl's vLLM rollout (scripts/install_vllm_cpu.sh)

Writes the per-run numbers as JSON lines to benchmarks/results/pipeline_speedup-<hardware>.jsonl.
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
import time
from pathlib import Path

from cpu_vllm import vllm_on_cpu

HERE = Path(__file__).resolve().parent


# the same random tiny Qwen2 for both engines but for head_dim (vLLM's CPU attention has no kernel for 16)
ENGINES = {
    "hf": {"model": "tiny_model", "overrides": []},
    "vllm": {"model": "tiny_model_vllm", "overrides": vllm_on_cpu(max_model_len=2048)},
}


def run(staleness: int, args, workdir: Path) -> list[dict]:
    from verl_pipeline.assets import resolve_asset

    overrides = [
        f"+recipe={args.recipe}",
        f"pipeline.max_staleness={staleness}",
        f"trainer.total_training_steps={args.steps}",
        "trainer.save_freq=-1",
        "trainer.logger=[console,file]",
        f"trainer.default_local_dir={workdir / 'ckpt'}",
        # the random tiny model rarely emits EOS: every response runs to the length limit, so steps are alike
        f"actor_rollout_ref.model.path={resolve_asset(ENGINES[args.engine]['model'])}",
        *ENGINES[args.engine]["overrides"],
        f"data.max_response_length={args.response_length}",
        f"data.train_batch_size={args.batch_size}",
        f"actor_rollout_ref.actor.ppo_mini_batch_size={args.batch_size}",
        f"actor_rollout_ref.rollout.n={args.n}",
        "pipeline.overlong_filtering=false",
    ]
    if args.cores:
        overrides.append(f"pipeline.cpu_affinity={{trainer: [{args.cores[1]}], rollout: [{args.cores[0]}]}}")
    metrics = workdir / "metrics.jsonl"
    env = {**os.environ, "VERL_FILE_LOGGER_PATH": str(metrics)}
    log = open(workdir / "run.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "verl_pipeline.main", *overrides], cwd=workdir, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    # machine-wide CPU time at each step's end (verl's file logger writes a line per step, unbuffered)
    marks, seen = [], 0
    while proc.poll() is None:
        lines = metrics.read_text().count("\n") if metrics.exists() else 0
        if lines > seen:
            marks.append((lines, busy_cpu_s()))
            seen = lines
        time.sleep(0.02)
    if proc.returncode != 0:
        sys.exit(f"max_staleness={staleness} run failed:\n{(workdir / 'run.log').read_text()[-4000:]}")
    rows = [json.loads(line) for line in metrics.read_text().splitlines()]
    steps = [r["data"] | {"step": r["step"]} for r in rows if "timing_s/step" in r["data"]]
    cpu_at_line = dict(marks)
    for i, step in enumerate(steps[1:], start=1):
        before, after = cpu_at_line.get(i), cpu_at_line.get(i + 1)  # line i ends step i (1-based)
        if before is not None and after is not None:
            step["cpu_s"] = after - before
    return steps


def busy_cpu_s() -> float:
    """CPU-seconds all cores have spent busy since boot (/proc/stat: everything but idle and iowait)."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def mean_after_warmup(steps: list[dict], key: str, warmup: int) -> float:
    values = [s[key] for s in steps[warmup:] if key in s]
    return statistics.mean(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="smoke", choices=["smoke", "toy_learning"],
                        help="smoke: coding prompts (300-1500 tokens); toy_learning: 20-token prompts")
    parser.add_argument("--engine", default="hf", choices=sorted(ENGINES), help="the rollout engine")
    parser.add_argument("--staleness", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=3, help="steps left out of the means")
    parser.add_argument("--response-length", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=4, help="prompts per step")
    parser.add_argument("--n", type=int, default=4, help="samples per prompt")
    parser.add_argument("--cores", type=int, nargs=2, default=[0, 1] if (os.cpu_count() or 1) >= 2 else None,
                        metavar=("ROLLOUT", "TRAINER"), help="cores for the rollout and the trainer pool")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    if 0 not in args.staleness:
        args.staleness = [0, *args.staleness]

    results = {}
    for k in args.staleness:
        with tempfile.TemporaryDirectory(prefix=f"speedup-k{k}-") as tmp:
            print(f"running max_staleness={k} ...", flush=True)
            results[k] = run(k, args, Path(tmp))

    sync = results[0]
    step_sync = mean_after_warmup(sync, "timing_s/step", args.warmup)
    gen = mean_after_warmup(sync, "timing_s/gen", args.warmup)
    rest = step_sync - gen  # reward tail, old log-probs, advantages, update, weight sync, bookkeeping
    cores = len(os.sched_getaffinity(0))
    ideal_step = max(gen, rest)
    ideal = step_sync / ideal_step
    hardware = f"{platform.processor() or platform.machine()} x{os.cpu_count()} cores (CPU)"
    out = args.output or HERE / "results" / f"pipeline_speedup-cpu{'-vllm' if args.engine == 'vllm' else ''}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)

    print(f"\nworkload ({args.recipe}): {args.batch_size} prompts x {args.n} samples, {args.response_length}-token responses, "
          f"tiny Qwen2 on {args.engine}, {hardware}; means over steps {args.warmup + 1}..{args.steps}")
    print(f"synchronous stages: generation {gen:.3f}s, everything else {rest:.3f}s -> ideal pipelined step "
          f"{ideal_step:.3f}s, ideal speedup {ideal:.2f}x")
    print(f"CPU: the synchronous step keeps {mean_after_warmup(sync, 'cpu_s', args.warmup) / step_sync:.2f} of {cores} "
          f"cores busy (busy time includes Ray's and the agent loop's polling while they wait)\n")
    print(f"{'max_staleness':>13} {'step_s':>8} {'gen_s':>7} {'train_s':>8} {'sync_s':>7} {'tail_s':>7} "
          f"{'trainer_idle':>12} {'rollout_idle':>12} {'cores_busy':>10} {'speedup':>8} {'of ideal':>9}")
    with open(out, "a") as f:
        for k, steps in results.items():
            m = {key: mean_after_warmup(steps, key, args.warmup) for key in (
                "timing_s/step", "timing_s/gen", "timing_s/update_actor", "timing_s/update_weights",
                "timing_s/reward_tail", "pipeline/trainer_idle_s", "pipeline/rollout_idle_s", "cpu_s")}
            cores_busy = m["cpu_s"] / m["timing_s/step"]
            speedup = step_sync / m["timing_s/step"]
            print(f"{k:>13} {m['timing_s/step']:>8.3f} {m['timing_s/gen']:>7.3f} {m['timing_s/update_actor']:>8.3f} "
                  f"{m['timing_s/update_weights']:>7.3f} {m['timing_s/reward_tail']:>7.3f} "
                  f"{m['pipeline/trainer_idle_s']:>12.3f} {m['pipeline/rollout_idle_s']:>12.3f} {cores_busy:>10.2f} "
                  f"{speedup:>7.2f}x " + (f"{speedup / ideal:>8.0%}" if k else f"{'(base)':>9}"))
            f.write(json.dumps({
                "date": datetime.date.today().isoformat(), "hardware": hardware, "model": "tiny-qwen2 (random)",
                "config": f"ours-staleness{k}", "engine": args.engine, "steps_averaged": len(steps) - args.warmup,
                "workload": {"recipe": args.recipe, "prompts": args.batch_size, "n": args.n,
                             "response_length": args.response_length},
                "step_s": m["timing_s/step"], "gen_s": m["timing_s/gen"], "train_s": m["timing_s/update_actor"],
                "update_weights_s": m["timing_s/update_weights"], "reward_tail_s": m["timing_s/reward_tail"],
                "trainer_idle_s": m["pipeline/trainer_idle_s"], "rollout_idle_s": m["pipeline/rollout_idle_s"],
                "speedup_vs_sync": speedup, "ideal_speedup": ideal, "efficiency": speedup / ideal,
                "cpu_s_per_step": m["cpu_s"], "cores_busy": cores_busy,
            }) + "\n")
    print(f"\nresults appended to {out}")


if __name__ == "__main__":
    main()
