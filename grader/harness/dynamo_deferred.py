"""torch._dynamo, imported only when something compiles or exports.

Importing dynamo costs ~1.3 s of CPU, a quarter of a whole check, yet a plain training loop never uses it:
torchvision imports it for one helper that roi_align calls, and torch's optimizers import it to call
`torch._dynamo.graph_break()` (a no-op outside compiled code) in every step and `torch._dynamo.disable(fn)`
(which only matters while dynamo compiles) in their constructor. Nothing can compile before dynamo is
imported, so until then a stand-in module answers those two names the way dynamo would. Any other use of
`torch._dynamo` (a submission's torch.compile, torch.export, an import of one of its submodules) swaps
the real module in first, and functions wrapped while the stand-in served hand over to the real `disable`
from then on. If torch changes these internals, the stand-in is never installed (slower, never different).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types

NAME = "torch._dynamo"


class StandIn(types.ModuleType):
    """`torch._dynamo` until something asks it for more than graph_break or disable."""

    def __getattr__(self, name):
        return getattr(load_real(), name)


def graph_break(*args, **kwargs) -> None:
    """What the real one does outside compiled code: nothing."""


def disable(fn=None, recursive=True, **kwargs):
    """torch's own call (`torch._disable_dynamo`: a function, wrapping=False) gets a function that calls `fn`
    until dynamo is loaded and the real `disable(fn)` from then on; any other call is the real module's."""
    if not callable(fn) or kwargs != {"wrapping": False}:
        return load_real().disable(fn, recursive, **kwargs)
    disabled = None

    def call(*args, **kw):
        nonlocal disabled
        if disabled is None:
            if isinstance(sys.modules.get(NAME), StandIn):  # dynamo never loaded: nothing is compiling
                return fn(*args, **kw)
            disabled = sys.modules[NAME].disable(fn, recursive, wrapping=False)
        return disabled(*args, **kw)

    return call


class _Finder(importlib.abc.MetaPathFinder):
    """An import of a dynamo submodule swaps the real package in, then imports the submodule under it."""

    def find_spec(self, name, path=None, target=None):
        if not name.startswith(NAME + ".") or not isinstance(sys.modules.get(NAME), StandIn):
            return None
        load_real()
        return importlib.util.spec_from_loader(name, _Existing(importlib.import_module(name)))


class _Existing(importlib.abc.Loader):
    def __init__(self, module):
        self.module = module

    def create_module(self, spec):
        return self.module

    def exec_module(self, module) -> None:
        pass


_finder = _Finder()


def install(torch) -> bool:
    """Put the stand-in in place (before any submission code runs). False where dynamo is already loaded
    or torch's layout is not the one this module knows."""
    if NAME in sys.modules:
        return False
    spec = importlib.util.find_spec(NAME)
    if spec is None or not spec.submodule_search_locations:
        return False
    stand_in = StandIn(NAME)
    # the real package's spec and path: importlib.util.find_spec(NAME) and submodule lookups keep working
    stand_in.__spec__, stand_in.__loader__ = spec, spec.loader
    stand_in.__path__, stand_in.__file__ = list(spec.submodule_search_locations), spec.origin
    stand_in.graph_break, stand_in.disable = graph_break, disable
    sys.modules[NAME] = stand_in
    torch._dynamo = stand_in
    sys.meta_path.insert(0, _finder)
    return True


def load_real():
    """The real torch._dynamo, imported now if the stand-in is still serving."""
    current = sys.modules.get(NAME)
    if not isinstance(current, StandIn):
        return current if current is not None else importlib.import_module(NAME)
    del sys.modules[NAME]
    torch = sys.modules["torch"]
    if torch.__dict__.get("_dynamo") is current:
        del torch._dynamo
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    return importlib.import_module(NAME)  # sets torch._dynamo to the real module, as any import does


def import_torchvision():
    """torchvision, imported while a stand-in answers its `from torch._dynamo.utils import
    is_compile_supported` (the stand-in's function calls the real one, imported on first use)."""
    if not isinstance(sys.modules.get(NAME), StandIn):
        import torchvision

        return torchvision
    utils = types.ModuleType(NAME + ".utils")

    def is_compile_supported(device_type):
        return importlib.import_module(NAME + ".utils").is_compile_supported(device_type)

    utils.is_compile_supported = is_compile_supported
    sys.modules[utils.__name__] = utils
    try:
        import torchvision
    finally:
        if sys.modules.get(utils.__name__) is utils:
            del sys.modules[utils.__name__]
        if isinstance(sys.modules.get(NAME), StandIn) and sys.modules[NAME].__dict__.get("utils") is utils:
            del sys.modules[NAME].utils
    return torchvision
