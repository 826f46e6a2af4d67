"""Run a callback right after a module finishes executing (a post-import hook).

Patches must reach verl's modules in every Ray process, yet the plugin module that installs them runs while
`verl/__init__` is still executing and must stay import-light: importing verl's trainer or engine modules
there would cost seconds in every process and can create import cycles. So a patch names the module it
targets and runs when that module is first imported, before any other module can bind its names with
`from ... import ...`. If the module is already imported, the callback runs at once.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from collections import defaultdict
from types import ModuleType
from typing import Callable

_callbacks: dict[str, list[Callable[[ModuleType], None]]] = defaultdict(list)
_lock = threading.RLock()


class _HookedLoader(importlib.abc.Loader):
    def __init__(self, wrapped: importlib.abc.Loader, name: str) -> None:
        self._wrapped = wrapped
        self._name = name

    def create_module(self, spec):
        return self._wrapped.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._wrapped.exec_module(module)
        _run_callbacks(self._name, module)

    def __getattr__(self, item):  # e.g. get_source / is_package used by tracebacks and pkgutil
        return getattr(self._wrapped, item)


class _PostImportFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        with _lock:
            if fullname not in _callbacks:
                return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _HookedLoader(spec.loader, fullname)
        return spec


_finder = _PostImportFinder()


def _run_callbacks(name: str, module: ModuleType) -> None:
    with _lock:
        callbacks = list(_callbacks.pop(name, []))
    for callback in callbacks:
        callback(module)


def when_imported(module_name: str, callback: Callable[[ModuleType], None]) -> None:
    """Call `callback(module)` once `module_name` is imported (now, if it already is)."""
    with _lock:
        module = sys.modules.get(module_name)
        if module is None:
            _callbacks[module_name].append(callback)
            if _finder not in sys.meta_path:
                sys.meta_path.insert(0, _finder)
            return
    callback(module)

