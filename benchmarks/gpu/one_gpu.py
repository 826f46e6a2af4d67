"""One GPU, two pools: our pipelined trainer (staleness 0 and 1) against verl 0.9.1's synchronous trainer.

Same workload for every configuration: a Qwen2.5-1.5B-shaped model with random weights (built here, no hub),
prompts from the bundled coding problems, the sandboxed code reward, fixed-length responses (ignore_eos), vLLM
for generation and FSDP2 for training on the one GPU.

    ours-staleness1   python -m verl_pipeline.main   pipeline.rollout_placement=shared pipeline.max_staleness=1
    ours-staleness0   python -m verl_pipeline.main   pipeline.rollout_placement=shared pipeline.max_staleness=0
    verl-sync         python -m verl.trainer.main_ppo trainer.use_v1=false   (hybrid engine: vLLM sleeps while
                                                                             FSDP trains, wakes for generation)

Usage (the exact device calls are in benchmarks/gpu/README.md):

    python benchmarks/gpu/one_gpu.py build --out /tmp/vpbench                  # model, tokenizer, prompts, copy GB/s
    python benchmarks/gpu/one_gpu.py run --bench /tmp/vpbench --config ours-staleness1 --results R.jsonl
    python benchmarks/gpu/one_gpu.py table R.jsonl                              # the README table

Each run appends one JSON object to the results file; `step_s` etc. are means over the steps after `--warmup`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

# Qwen2.5-1.5B (config.json of Qwen/Qwen2.5-1.5B): the 1.5B recipe's shape
QWEN25_1P5B = dict(
    vocab_size=151936, hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
    num_key_value_heads=2, max_position_embeddings=32768, rope_theta=1000000.0, tie_word_embeddings=True,
    rms_norm_eps=1e-6,
)
# small enough for a test run (vLLM's attention kernels want head_dim 64)
TINY = dict(vocab_size=2048, hidden_size=256, intermediate_size=512, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=8192, tie_word_embeddings=True)
SHAPES = {"qwen2.5-1.5b": QWEN25_1P5B, "tiny": TINY}

CONFIGS = ("ours-staleness1", "ours-staleness0", "verl-sync")


# --------------------------------------------------------------------------------------------- build
def build(out: Path, shape: str) -> dict:
    import torch
    from transformers import AutoTokenizer, GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    from verl_pipeline.assets.problems import bundled_parquet
    from verl_pipeline.assets.tiny import build_tokenizer

    spec = SHAPES[shape]
    model_dir = out / f"{shape}-random"
    if not (model_dir / "config.json").exists():
        build_tokenizer(model_dir, 1024, pad_vocab_to=spec["vocab_size"])
        tok = AutoTokenizer.from_pretrained(model_dir)
        config = Qwen2Config(**spec, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=None)
        torch.manual_seed(0)
        with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
            model = Qwen2ForCausalLM(config).to(torch.bfloat16)
        model.generation_config = GenerationConfig(eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
        model.save_pretrained(model_dir, safe_serialization=True)
        del model
    params = _param_count(model_dir)
    info = {
        "model_dir": str(model_dir),
        "shape": shape,
        "params": params,
        "weight_bytes_bf16": 2 * params,
        "train_files": bundled_parquet("train"),
        "copy_gb_per_s": _device_copy_bandwidth(),
    }
    (out / "workload.json").write_text(json.dumps(info, indent=1))
    return info


def _param_count(model_dir: Path) -> int:
    from safetensors import safe_open

    total = 0
    for f in sorted(model_dir.glob("*.safetensors")):
        with safe_open(str(f), "pt") as st:
            for k in st.keys():
                total += _prod(st.get_slice(k).get_shape())
    return total


def _prod(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _device_copy_bandwidth() -> float | None:
    """Device-to-device copy, GB/s of bytes moved (one read + one write counted once): the weight-sync floor."""
    import torch

    if not torch.cuda.is_available():
        return None
    src = torch.empty(1 << 30, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    for _ in range(3):
        dst.copy_(src)
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(10):
        dst.copy_(src)
    torch.cuda.synchronize()
    return round(10 * src.numel() / (time.perf_counter() - t) / 1e9, 1)


# --------------------------------------------------------------------------------------------- run
def common_overrides(info: dict, work: Path, args) -> list[str]:
    """The workload, identical for every configuration (verl keys only)."""
    return [
        f"data.train_files=[{info['train_files']}]",
        f"data.val_files=[{info['train_files']}]",
        f"data.train_batch_size={args.prompts}",
        f"data.max_prompt_length={args.max_prompt}",
        f"data.max_response_length={args.response_length}",
        "data.filter_overlong_prompts=true",
        "data.truncation=left",
        "data.dataloader_num_workers=0",
        f"actor_rollout_ref.model.path={info['model_dir']}",
        "actor_rollout_ref.model.use_remove_padding=false",
        "+actor_rollout_ref.model.override_config.attn_implementation=sdpa",
        "actor_rollout_ref.model.enable_gradient_checkpointing=true",
        "actor_rollout_ref.actor.strategy=fsdp2",
        f"actor_rollout_ref.actor.ppo_mini_batch_size={args.prompts}",
        "actor_rollout_ref.actor.use_dynamic_bsz=true",
        f"actor_rollout_ref.actor.ppo_max_token_len_per_gpu={args.max_tokens_per_gpu}",
        f"actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu={args.max_tokens_per_gpu}",
        "actor_rollout_ref.actor.use_kl_loss=false",
        "actor_rollout_ref.actor.entropy_coeff=0",
        "actor_rollout_ref.actor.clip_ratio_high=0.28",
        "actor_rollout_ref.actor.loss_agg_mode=token-mean",
        "actor_rollout_ref.actor.optim.lr=1e-6",
        "actor_rollout_ref.rollout.name=vllm",
        f"actor_rollout_ref.rollout.n={args.n}",
        "actor_rollout_ref.rollout.temperature=1.0",
        f"actor_rollout_ref.rollout.gpu_memory_utilization={args.gpu_memory}",
        "actor_rollout_ref.rollout.tensor_model_parallel_size=1",
        "actor_rollout_ref.rollout.ignore_eos=true",
        "actor_rollout_ref.rollout.calculate_log_probs=true",
        *_graph_overrides(args.graphs),
        f"actor_rollout_ref.rollout.max_model_len={args.max_prompt + args.response_length}",
        f"actor_rollout_ref.rollout.agent.num_workers={args.agent_workers}",
        # every sequence of a step decodes at once; capturing only the batch sizes that occur keeps start-up short
        f"actor_rollout_ref.rollout.max_num_seqs={args.prompts * args.n}",
        "actor_rollout_ref.rollout.cudagraph_capture_sizes=[" + ",".join(map(str, _capture_sizes(args.prompts * args.n)))
        + "]",
        "algorithm.adv_estimator=grpo",
        "algorithm.norm_adv_by_std_in_grpo=false",
        "algorithm.use_kl_in_reward=false",
        "reward.reward_manager.name=deepcoder_code",
        f"reward.num_workers={args.agent_workers}",
        "trainer.device=cuda",
        "trainer.nnodes=1",
        "trainer.n_gpus_per_node=1",
        f"trainer.total_training_steps={args.steps}",
        "trainer.total_epochs=100",
        "trainer.logger=[console,file]",
        "trainer.val_before_train=false",
        "trainer.test_freq=-1",
        "trainer.save_freq=-1",
        "trainer.resume_mode=disable",
        f"trainer.default_local_dir={work / 'ckpt'}",
        "trainer.project_name=vp_gpu_bench",
        f"trainer.experiment_name={args.config}",
    ]


GRAPHS = {
    # verl's default: torch.compile (Inductor) + piecewise and full CUDA graphs; the slowest start
    "compiled": ["actor_rollout_ref.rollout.enforce_eager=false"],
    # no torch.compile, full CUDA graphs for decode batches only: starts almost as fast as eager, decodes fast
    "decode": ["actor_rollout_ref.rollout.enforce_eager=false",
               """+actor_rollout_ref.rollout.engine_kwargs.vllm.compilation_config='{"mode": 0, "cudagraph_mode": "FULL_DECODE_ONLY"}'"""],
    # eager PyTorch: the fastest start, the slowest decode
    "none": ["actor_rollout_ref.rollout.enforce_eager=true"],
}


def _graph_overrides(graphs: str) -> list[str]:
    return GRAPHS[graphs]


def _capture_sizes(max_seqs: int) -> list[int]:
    sizes = [1, 2, 4, 8] + list(range(16, max_seqs + 1, 16))
    return sorted({s for s in sizes if s <= max_seqs} | {max_seqs})


def command(config: str, info: dict, work: Path, args) -> list[str]:
    common = common_overrides(info, work, args)
    if config == "verl-sync":
        return [sys.executable, "-m", "verl.trainer.main_ppo", *common, "trainer.use_v1=false"]
    staleness = {"ours-staleness1": 1, "ours-staleness0": 0}[config]
    return [sys.executable, "-m", "verl_pipeline.main", *common, "pipeline.rollout_placement=shared",
            "pipeline.rollout_fraction=null", f"pipeline.max_staleness={staleness}"]


class GpuMemorySampler:
    """Peak GPU memory per side (rollout engine processes vs trainer processes), from nvidia-smi every second."""

    def __init__(self) -> None:
        self.peak_mib = {"rollout": 0, "trainer": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            try:
                out = subprocess.run(
                    ["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                    capture_output=True, text=True, timeout=10,
                ).stdout
            except (OSError, subprocess.TimeoutExpired):
                return
            usage = {"rollout": 0, "trainer": 0}
            for line in out.splitlines():
                try:
                    pid, mib = (int(x) for x in line.split(","))
                except ValueError:
                    continue
                usage[_side_of(pid)] += mib
            for side, mib in usage.items():
                self.peak_mib[side] = max(self.peak_mib[side], mib)


def _side_of(pid: int) -> str:
    try:
        name = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        name = ""
    return "rollout" if "vllm" in name.lower() or "enginecore" in name.lower() else "trainer"


def run(args) -> dict:
    bench = Path(args.bench)
    info = json.loads((bench / "workload.json").read_text())
    work = bench / args.config
    work.mkdir(parents=True, exist_ok=True)
    metrics_file = work / "metrics.jsonl"
    metrics_file.unlink(missing_ok=True)
    env = {**os.environ, "VERL_FILE_LOGGER_PATH": str(metrics_file), "PYTHONUNBUFFERED": "1"}
    cmd = command(args.config, info, work, args)
    t0 = time.monotonic()
    with open(work / "run.log", "w") as log, GpuMemorySampler() as memory:
        log.write(" ".join(cmd) + "\n")
        log.flush()
        try:
            rc = subprocess.run(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                                timeout=args.timeout).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    wall = time.monotonic() - t0
    # the run's Ray cluster (and the vLLM processes under it) must be gone before the next configuration
    subprocess.run([sys.executable, "-m", "ray.scripts.scripts", "stop", "--force"], capture_output=True)
    steps = [m["data"] for m in _read_jsonl(metrics_file) if "timing_s/step" in m.get("data", {})]
    result = summarize(args.config, steps, info, args)
    result.update({"rc": rc, "wall_s": round(wall, 1), "peak_gpu_mib": memory.peak_mib})
    with open(args.results, "a") as f:
        f.write(json.dumps(result) + "\n")
    print(json.dumps(result), flush=True)
    return result


def summarize(config: str, steps: list[dict], info: dict, args) -> dict:
    """Means over the steps after the warm-up, in the results-file schema of issue #6."""
    measured = [s for s in steps if s.get("training/global_step", 0) > args.warmup] or steps[args.warmup:]

    def mean(*keys: str) -> float | None:
        values = [sum(s[k] for k in keys) for s in measured if all(k in s for k in keys)]
        return round(statistics.fmean(values), 3) if values else None

    sequences = args.prompts * args.n
    gen_tokens = [s["response_length/mean"] * sequences / s["timing_s/gen"] for s in measured
                  if s.get("timing_s/gen") and "response_length/mean" in s]
    train_tokens = [
        (s["response_length/mean"] + s["prompt_length/mean"]) * sequences
        / (s["timing_s/old_log_prob"] + s["timing_s/update_actor"])
        for s in measured if all(k in s for k in ("timing_s/old_log_prob", "timing_s/update_actor",
                                                   "response_length/mean", "prompt_length/mean"))
    ]
    import torch

    return {
        "date": datetime.date.today().isoformat(),
        "hardware": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "model": f"{info['shape']} random weights ({info['params'] / 1e9:.2f}B params), bf16",
        "config": config,
        "step_s": mean("timing_s/step"),
        "gen_s": mean("timing_s/gen"),
        "train_s": mean("timing_s/old_log_prob", "timing_s/update_actor"),
        "reward_tail_s": mean("timing_s/reward_tail") if config != "verl-sync" else mean("timing_s/reward"),
        "update_weights_s": mean("timing_s/update_weights"),
        "gen_tokens_per_s": round(statistics.fmean(gen_tokens)) if gen_tokens else None,
        "train_tokens_per_s": round(statistics.fmean(train_tokens)) if train_tokens else None,
        "steps_averaged": len(measured),
        "steps_total": len(steps),
        "workload": {"prompts": args.prompts, "n": args.n, "response_tokens": args.response_length,
                     "gpu_memory_utilization": args.gpu_memory, "vllm_graphs": args.graphs},
        "weight_sync_floor_s": (round(info["weight_bytes_bf16"] / (info["copy_gb_per_s"] * 1e9), 4)
                                if info.get("copy_gb_per_s") else None),
        "trainer_idle_s": mean("pipeline/trainer_idle_s"),
        "staleness": mean("pipeline/staleness"),
    }


def _read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return rows


def table(results: Path) -> str:
    rows = _read_jsonl(results)
    base = {r["config"]: r for r in rows}
    head = ("| config | step s | gen s | train s | reward tail s | weight sync s | gen tok/s | train tok/s | "
            "steps | speed-up vs ours-staleness0 | vs verl-sync |\n|" + " --- |" * 11)
    lines = [head]
    def ratio(r: dict, other: str) -> str:
        o = base.get(other)
        return f"{o['step_s'] / r['step_s']:.2f}x" if o and o.get("step_s") and r.get("step_s") else "-"

    for r in rows:
        lines.append(
            f"| {r['config']} | {r['step_s']} | {r['gen_s']} | {r['train_s']} | {r['reward_tail_s']} | "
            f"{r['update_weights_s']} | {r['gen_tokens_per_s']} | {r['train_tokens_per_s']} | "
            f"{r['steps_averaged']} | {ratio(r, 'ours-staleness0')} | {ratio(r, 'verl-sync')} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--out", required=True)
    b.add_argument("--shape", choices=sorted(SHAPES), default="qwen2.5-1.5b")
    r = sub.add_parser("run")
    r.add_argument("--bench", required=True)
    r.add_argument("--config", choices=CONFIGS, required=True)
    r.add_argument("--results", required=True)
    r.add_argument("--steps", type=int, default=6)
    r.add_argument("--warmup", type=int, default=2)
    r.add_argument("--prompts", type=int, default=8)
    r.add_argument("--n", type=int, default=8)
    r.add_argument("--response-length", type=int, default=1024)
    r.add_argument("--max-prompt", type=int, default=512)
    r.add_argument("--max-tokens-per-gpu", type=int, default=16384)
    r.add_argument("--gpu-memory", type=float, default=0.4)
    r.add_argument("--agent-workers", type=int, default=2)
    r.add_argument("--graphs", choices=sorted(GRAPHS), default="compiled",
                   help="vLLM execution: compiled (verl's default), decode (CUDA graphs without torch.compile), none")
    r.add_argument("--timeout", type=int, default=300)
    t = sub.add_parser("table")
    t.add_argument("results")
    args = parser.parse_args()
    if args.cmd == "build":
        print(json.dumps(build(Path(args.out), args.shape), indent=1))
    elif args.cmd == "run":
        run(args)
    else:
        print(table(Path(args.results)))


if __name__ == "__main__":
    main()
