"""The README's two quick-start commands are what CI runs, verbatim."""

from __future__ import annotations

import re
import sys

from vp_testing import REPO


def _quick_start_commands() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section.split("### ", 1)[0], re.S)]


def test_readme_has_exactly_two_quick_start_commands():
    commands = _quick_start_commands()
    assert len(commands) == 2 and all("\n" not in c for c in commands), commands
    assert "+recipe=smoke" in commands[0] and "pytest" in commands[1]


def test_ci_runs_the_readme_commands_in_order():
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    install, test = _quick_start_commands()
    assert install in ci and test in ci and ci.index(install) < ci.index(test)


def _readme_vllm_on_cpu_overrides() -> list[str]:
    # "Any recipe runs on vLLM on CPU with `...`, a model whose head_dim ... and `'+ray_kwargs...'`"
    readme = (REPO / "README.md").read_text()
    paragraph = readme.split("Any recipe runs on vLLM on CPU with", 1)[1].split("What differs", 1)[0]
    spans = re.findall(r"`([^`]*)`", paragraph.replace("\n", " "))
    return spans[0].split() + [spans[-1].strip("'")]


def test_the_benchmarks_put_recipes_on_vllm_as_the_readme_says():
    # the benchmark scripts' one list (benchmarks/cpu_vllm.py) is the README's line plus the context length they
    # size for their workload
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from cpu_vllm import vllm_on_cpu
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    sized = vllm_on_cpu(max_model_len=777)
    assert "actor_rollout_ref.rollout.max_model_len=777" in sized
    assert sorted(o for o in sized if "max_model_len" not in o) == sorted(_readme_vllm_on_cpu_overrides())


def test_the_readmes_vllm_on_cpu_overrides_compose_with_any_recipe():
    # a key the command line cannot set (one missing its '+') fails here, not in a user's shell
    from vp_testing import compose

    overrides = _readme_vllm_on_cpu_overrides()
    assert any(o.startswith("actor_rollout_ref.rollout.name=vllm") for o in overrides), overrides
    cfg = compose(["+recipe=smoke", *overrides, "actor_rollout_ref.model.path=${vp:tiny_model_vllm}"])
    rollout = cfg.actor_rollout_ref.rollout
    assert (rollout.name, rollout.enable_sleep_mode, rollout.enforce_eager) == ("vllm", False, True)
    assert cfg.ray_kwargs.ray_init.runtime_env.env_vars.VLLM_CPU_KVCACHE_SPACE == "1"
