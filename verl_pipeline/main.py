"""`python -m verl_pipeline.main +recipe=NAME [hydra overrides...]`: compose -> validate -> start Ray -> train.

Composition: verl's `ppo_trainer` config, our `pipeline:` section (PipelineConfig's defaults, conf/pipeline.yaml)
and the recipe (recipes/NAME.yaml, `# @package _global_`). Everything is validated in this process before Ray
starts, and the run goes through verl's own `run_ppo` with our task runner. `--cfg job` prints the merged config.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from importlib import metadata, resources
from pathlib import Path

REQUIRED_VERL = "0.9.1"
# seconds the driver waits before ray.shutdown() so the actors' last log lines reach the console (see run)
LOG_DRAIN_S = 2.0
_RECIPE_ARG = re.compile(r"^\+{0,2}recipe=(.*)$")

logger = logging.getLogger(__name__)


def check_verl_version() -> None:
    try:
        found = metadata.version("verl")
    except metadata.PackageNotFoundError:
        found = None
    if found != REQUIRED_VERL:
        sys.exit(
            f"verl_pipeline needs verl=={REQUIRED_VERL} (it plugs into that release's internals), "
            f"but {'no verl' if found is None else 'verl ' + found} is installed. "
            f"Fix: pip install 'verl=={REQUIRED_VERL}'"
        )


def recipes_dir() -> Path:
    """The recipes shipped in the wheel (verl_pipeline.recipes), or recipes/ of a source checkout."""
    try:
        packaged = resources.files("verl_pipeline.recipes")
        if packaged.is_dir():
            return Path(str(packaged))
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "recipes"


def available_recipes() -> dict[str, Path]:
    return {p.stem: p for p in sorted(recipes_dir().glob("*.yaml"))}


def register_recipes() -> None:
    """Make every recipe a `recipe` config-group option, wherever the recipes directory is, and our
    `pipeline:` section's defaults (from `PipelineConfig`) the option conf/pipeline.yaml composes."""
    import dataclasses

    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    from verl_pipeline.config import PipelineConfig

    store = ConfigStore.instance()
    for name, path in available_recipes().items():
        store.store(group="recipe", name=name, node=OmegaConf.load(path), package="_global_")
    # a plain node, not the structured config: our validators, not OmegaConf's type errors, report bad values
    store.store(group="pipeline", name="defaults", node=OmegaConf.create(dataclasses.asdict(PipelineConfig())))


def register_resolvers() -> None:
    """`${vp:NAME}`: assets built in code on first use and cached (there is no model or dataset hub)."""
    from omegaconf import OmegaConf

    from verl_pipeline.assets import resolve_asset

    from verl_pipeline.checkpoints import latest_hf_export

    if not OmegaConf.has_resolver("vp"):
        OmegaConf.register_new_resolver("vp", resolve_asset)
    if not OmegaConf.has_resolver("vp_latest_hf"):
        OmegaConf.register_new_resolver("vp_latest_hf", latest_hf_export)


def check_recipe_argument(argv: list[str]) -> None:
    """An unknown recipe name fails here, with the list of recipes that exist."""
    known = available_recipes()
    for arg in argv:
        match = _RECIPE_ARG.match(arg)
        if match and match.group(1) not in known:
            sys.exit(
                f"unknown recipe {match.group(1)!r}. Recipes: {', '.join(known) or '(none found)'} "
                f"(in {recipes_dir()}). Example: python -m verl_pipeline.main +recipe=smoke"
            )


def prepare(cfg) -> None:
    """Validate (every problem at once), then write derived settings and the Ray workers' environment."""
    from omegaconf import OmegaConf, open_dict

    from verl_pipeline.config import ConfigError, apply_pipeline_settings, ray_worker_env, validate

    from omegaconf.errors import InterpolationResolutionError

    from verl_pipeline.config import Problem

    try:
        OmegaConf.resolve(cfg)  # assets (${vp:...}) are built here, in the driver, once
    except InterpolationResolutionError as err:
        cause = err.__cause__ or err
        raise ConfigError([Problem(str(err.full_key), "${...}", str(cause), "See the recipe's header comment.")]) from err
    problems = validate(cfg)
    if problems:
        raise ConfigError(problems)
    apply_pipeline_settings(cfg)
    # Ray workers do not share the launcher's working directory: relative paths mean "where you launched"
    with open_dict(cfg):
        cfg.trainer.default_local_dir = os.path.abspath(os.path.expanduser(cfg.trainer.default_local_dir))
        if cfg.pipeline.trace_file:
            cfg.pipeline.trace_file = os.path.abspath(os.path.expanduser(cfg.pipeline.trace_file))
    env = ray_worker_env(cfg)
    env.setdefault("VERL_FILE_LOGGER_ROOT", os.environ.get("VERL_FILE_LOGGER_ROOT", os.getcwd()))
    if "VERL_FILE_LOGGER_PATH" in os.environ:
        env["VERL_FILE_LOGGER_PATH"] = os.path.abspath(os.environ["VERL_FILE_LOGGER_PATH"])
    # every Ray process must load our plugin, even when verl_pipeline is on PYTHONPATH but not pip-installed
    modules = [m for m in os.environ.get("VERL_USE_EXTERNAL_MODULES", "").split(",") if m]
    env["VERL_USE_EXTERNAL_MODULES"] = ",".join(dict.fromkeys(modules + ["verl_pipeline.plugins"]))
    os.environ.update(env)
    with open_dict(cfg):
        # Without an address Ray would join any cluster last started on this machine (`ray start`, another
        # job's test cluster) and then refuse our resource counts; joining is what ray_init.address is for.
        if not cfg.ray_kwargs.ray_init.get("address"):
            cfg.ray_kwargs.ray_init.address = "local"
        runtime_env = cfg.ray_kwargs.ray_init.setdefault("runtime_env", {})
        env_vars = runtime_env.setdefault("env_vars", {})
        for key, value in env.items():
            env_vars[key] = value


def compose_config(overrides: list[str], validate: bool = True):
    """The config `python -m verl_pipeline.main <overrides>` would run: composed, and unless `validate=False`
    resolved, validated and completed by `prepare` (no Ray is started). For scripts, notebooks and tests."""
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    check_recipe_argument(overrides)
    register_recipes()
    register_resolvers()
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="verl_pipeline.conf", version_base=None):
        cfg = compose(config_name="pipeline", overrides=overrides)
    if validate:
        prepare(cfg)
    return cfg


def run(cfg) -> None:
    import ray
    from omegaconf import open_dict
    from verl.trainer.main_ppo import run_ppo

    from verl_pipeline import engine_ledger
    from verl_pipeline.task_runner import PipelineTaskRunner

    prepare(cfg)
    ledger = engine_ledger.open_ledger()
    run_env = engine_ledger.run_environment(ledger)
    os.environ.update(run_env)
    with open_dict(cfg):
        for key, value in run_env.items():
            cfg.ray_kwargs.ray_init.runtime_env.env_vars[key] = value
    try:
        run_ppo(cfg, task_runner_class=PipelineTaskRunner)
    finally:
        # Ray ends the rollout servers with SIGKILL; their engines' shared memory stays unless removed here
        if ray.is_initialized():
            # The actors' last lines (the final step summary, a controller's traceback) reach this console
            # through Ray's log monitor, which polls their log files; an immediate shutdown drops whatever it has
            # not forwarded yet (ray-project/ray#31931). Ray's own exit hook waits 0.5 s for the same reason.
            time.sleep(LOG_DRAIN_S)
            ray.shutdown()
        leftovers = engine_ledger.clean(ledger)
        if leftovers:
            print(f"[verl_pipeline] after the run: {leftovers}", file=sys.stderr, flush=True)


def main() -> None:
    check_verl_version()
    check_recipe_argument(sys.argv[1:])
    register_recipes()
    register_resolvers()

    import hydra

    from verl_pipeline.config import ConfigError

    @hydra.main(config_path="conf", config_name="pipeline", version_base=None)
    def entry(cfg) -> None:
        try:
            run(cfg)
        except ConfigError as err:
            print(f"verl_pipeline: {err}", file=sys.stderr)
            sys.exit(2)

    entry()


if __name__ == "__main__":
    main()
