"""verl_compat is the one seam to verl's private API: every entry exists with the parameters we pass (fails
here, naming it, on a verl upgrade), and no other module calls, reads or overrides a private verl name unlisted."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import textwrap
from pathlib import Path

import pytest
from omegaconf import OmegaConf

import verl_pipeline.verl_compat as compat
from verl_pipeline.verl_compat import INSTANCE_ATTRIBUTES, PRIVATE_SEAMS, InstanceAttribute, Seam, missing

REPO = Path(__file__).resolve().parent.parent
OUR_FILES = [p for folder in ("verl_pipeline", "patches") for p in sorted((REPO / folder).rglob("*.py"))]
# modules whose classes subclass verl's (vLLM's processes are another engineer's and import no verl class)
SUBCLASSING_MODULES = [
    "verl_pipeline.pipeline.trainer",
    "verl_pipeline.pipeline.agent_loop",
    "verl_pipeline.workers.hf_rollout",
    "verl_pipeline.workers.weight_sync",
    "verl_pipeline.cpu.platform",
    "verl_pipeline.reward.manager",
]


def _verl_source() -> str:
    import verl

    root = Path(verl.__file__).parent
    return "\n".join(p.read_text(errors="replace") for p in root.rglob("*.py"))


def test_every_private_verl_seam_exists_with_our_signature():
    assert missing() == []


def test_the_check_names_a_seam_that_disappeared_or_changed(monkeypatch):
    monkeypatch.setattr(compat, "PRIVATE_SEAMS", [
        *PRIVATE_SEAMS,
        Seam("verl.workers.rollout.base", "_NO_SUCH_THING", None, "nobody"),
        Seam("verl.experimental.agent_loop.agent_loop", "AgentLoopWorker._compute_score", ("renamed",), "nobody"),
    ])
    monkeypatch.setattr(compat, "INSTANCE_ATTRIBUTES", [
        *INSTANCE_ATTRIBUTES,
        InstanceAttribute("verl.experimental.separation.ray_trainer", "SeparateRayPPOTrainer._init_worker_groups",
                          "no_such_field", "nobody"),
    ])
    problems = compat.missing()
    assert len(problems) == 3, problems
    assert "verl.workers.rollout.base._NO_SUCH_THING (used by nobody): not found" in problems[0]
    assert "AgentLoopWorker._compute_score" in problems[1] and "expected ('renamed',) first" in problems[1]
    assert "self.no_such_field" in problems[2] and "no longer sets it" in problems[2]


def test_the_trainer_stages_call_only_listed_seams():
    called = set(re.findall(r"self\.(_\w+)\(", inspect.getsource(compat.VerlTrainerStages)))
    listed = {s.path.split(".")[-1] for s in PRIVATE_SEAMS}
    assert called and called <= listed, called - listed


def test_no_other_module_uses_a_private_verl_name():
    """A private name (`x._y`, `from verl... import _y`) used outside verl_compat must be one we define."""
    ours, uses = set(), []
    for path in OUR_FILES:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                ours.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                ours.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                ours.add(node.id)
            if path.name == "verl_compat.py":
                continue
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                uses.append((path, node.lineno, node.attr))
            elif isinstance(node, ast.ImportFrom) and re.match(r"verl(\.|$)", node.module or ""):
                uses += [(path, node.lineno, a.name) for a in node.names if a.name.startswith("_")]
    verl_source = _verl_source()
    leaks = [f"{p.relative_to(REPO)}:{line} {name}" for p, line, name in uses
             if name not in ours and re.search(rf"\b{re.escape(name)}\b", verl_source)]
    assert leaks == [], "private verl names used outside verl_pipeline/verl_compat.py"


def _names_defined_in_body(cls):
    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0].body
    names = set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


@pytest.mark.parametrize("module_name", SUBCLASSING_MODULES)
def test_every_private_verl_method_we_override_is_listed(module_name):
    """Overrides must stay in the subclass; the seam list names each, so the first test checks it still exists."""
    module = importlib.import_module(module_name)
    listed = {(s.module, s.path) for s in PRIVATE_SEAMS}
    unlisted = []
    for cls in vars(module).values():
        if not (inspect.isclass(cls) and cls.__module__ == module_name):
            continue
        verl_bases = [b for b in cls.__mro__[1:] if b.__module__.startswith("verl.")]
        # what the class body defines, not vars(cls): verl's init_class sets `cls._class_initialized` at run time
        for name in _names_defined_in_body(cls):
            if not name.startswith("_") or name.startswith("__"):
                continue
            owners = [b for b in verl_bases if name in vars(b)]
            if owners and (owners[0].__module__, f"{owners[0].__name__}.{name}") not in listed:
                unlisted.append(f"{cls.__name__}.{name} overrides {owners[0].__module__}.{owners[0].__name__}")
        # a private field a verl base class keeps on self is set through verl_compat, not by the subclass
        for name in set(re.findall(r"self\.(_[a-z]\w*)\s*=(?!=)", inspect.getsource(cls))):
            owners = [b for b in verl_bases if re.search(rf"self\.{name}\b", inspect.getsource(b))]
            if owners:
                unlisted.append(f"{cls.__name__} sets self.{name} of {owners[0].__module__}.{owners[0].__name__}")
    assert unlisted == []


# --- PipelinedPPOTrainer.__init__ re-implements RayPPOTrainer.__init__ (which asserts a hybrid engine): it must
# not drift from what verl's own constructors set, nor from what the verl methods we call read.

def _method_ast(cls, name: str):
    fn = inspect.getattr_static(cls, name, None)
    fn = getattr(fn, "__func__", fn)
    if not inspect.isfunction(fn):
        return None, None
    return fn, ast.parse(textwrap.dedent(inspect.getsource(fn)))


def _self_attributes(tree, ctx) -> set[str]:
    return {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ctx)
            and isinstance(n.value, ast.Name) and n.value.id == "self"}


def _attributes_verl_reads(trainer_cls) -> dict[str, set[str]]:
    """Fields (not methods) that the verl methods we call read on self, following their calls to other methods,
    minus those any of these methods (ours included: the overrides init_workers calls) set first."""
    start = {s.path.split(".")[-1] for s in PRIVATE_SEAMS if s.path.startswith("SeparateRayPPOTrainer.")}
    todo, seen, reads, stores = [*start, "init_workers"], set(), {}, set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        fn, tree = _method_ast(trainer_cls, name)
        if tree is None:
            continue
        stores |= _self_attributes(tree, ast.Store)
        for attr in _self_attributes(tree, ast.Load):
            if callable(inspect.getattr_static(trainer_cls, attr, None)):
                todo.append(attr)
            elif fn.__module__.startswith("verl."):
                reads.setdefault(attr, set()).add(fn.__qualname__)
    return {attr: where for attr, where in reads.items() if attr not in stores}


@pytest.fixture(scope="module")
def built_trainer():
    """The trainer `PipelineTaskRunner` builds for the smoke recipe (no Ray: workers start in init_workers)."""
    from vp_testing import compose

    from verl_pipeline.config import apply_pipeline_settings
    from verl_pipeline.task_runner import build_trainer

    # use_kl_in_reward: verl's __init__ sets kl_ctrl_in_reward only then, and _fit_compute_advantage reads it then
    cfg = compose(["+recipe=smoke", "algorithm.use_kl_in_reward=true"])
    OmegaConf.resolve(cfg)
    apply_pipeline_settings(cfg)
    return build_trainer(cfg)


def test_the_trainer_has_every_field_the_verl_methods_we_call_read(built_trainer):
    from verl_pipeline.pipeline.trainer import PipelinedPPOTrainer

    reads = _attributes_verl_reads(PipelinedPPOTrainer)
    assert {"config", "metrics", "timing_raw", "ref_in_actor", "kl_ctrl_in_reward"} <= set(reads)  # the walk works
    absent = {attr: sorted(where) for attr, where in reads.items() if not hasattr(built_trainer, attr)}
    assert absent == {}


def test_the_trainer_sets_every_field_verls_constructors_set(built_trainer):
    from verl.experimental.separation.ray_trainer import SeparateRayPPOTrainer
    from verl.trainer.ppo.ray_trainer import RayPPOTrainer

    verl_sets = set()
    for cls in (RayPPOTrainer, SeparateRayPPOTrainer):
        verl_sets |= _self_attributes(_method_ast(cls, "__init__")[1], ast.Store)
        for name in ("_create_dataloader", "_init_dump_executor"):  # called by RayPPOTrainer.__init__
            verl_sets |= _self_attributes(_method_ast(cls, name)[1], ast.Store)
    assert {"progress_bar", "last_val_metrics", "ref_in_actor", "train_dataloader"} <= verl_sets
    assert sorted(a for a in verl_sets if not hasattr(built_trainer, a)) == []
