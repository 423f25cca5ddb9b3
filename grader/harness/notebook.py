"""What a notebook kernel gives every notebook that plain Python lacks, for the harness to run one as Jupyter's
"Run All" would. Standard library only.

The host has already turned each cell into Python with IPython's own input transformer (grader/submission.py),
so magics and `!shell` lines arrive as calls on get_ipython(). Here:
- each cell runs in turn in the notebook's namespace, top-level `await` allowed (IPython's autoawait);
- a cell ending in an expression shows its value (unless the line ends in `;`) and keeps it in `_`, `__`,
  `___`, `Out[n]` and `_n`, as IPython's display hook does;
- `display()`, and `get_ipython()` whose magics either do what they would (`%time`/`%timeit`/`%prun` run
  their statement once, printing no timings; `%env` sets a variable; `%%writefile` writes its file) or
  nothing (`%matplotlib`, `%pip`, `!shell`, `x?`); anything else on it raises NotInJupyter, which says so;
- `IPython` and `IPython.display` import as small stand-ins, the same in every sandbox; their get_ipython()
  answers None, as outside a shell, so libraries that look for a kernel run as under plain Python;
  `tqdm.notebook` is tqdm's text bar.
"""

from __future__ import annotations

import ast
import bisect
import inspect
import os
import sys
import types

FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
SHOWN = "_grader_shown_value"  # where a cell leaves its last expression's value for the display hook
TIMING_OPTIONS = {"time": (), "timeit": ("n", "r", "p"), "prun": ("l", "s", "T", "D")}  # magic -> options with values


class NotInJupyter(AttributeError):
    """Something only a running Jupyter kernel has. An AttributeError, so `hasattr` and `getattr(x, name, d)`
    answer as they would for any missing feature."""


def show(value) -> None:
    """The text a notebook shows for a value (its repr)."""
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001 - IPython shows the error and the cell goes on
        text = f"<repr failed: {type(exc).__name__}>"
    sys.stdout.write(text + "\n")


def display(*objs, **_options) -> None:
    for obj in objs:
        show(obj)


def clear_output(wait: bool = False) -> None:
    """Clears a notebook's output area; what was printed was still printed."""


class Shell:
    """The stand-in for IPython's InteractiveShell that get_ipython() returns."""

    def __init__(self, namespace: dict):
        self.user_ns = namespace

    def __repr__(self) -> str:
        return "<grader stand-in for IPython's shell (not in Jupyter)>"

    def __getattr__(self, name: str):
        raise NotInJupyter(f"get_ipython().{name} exists only inside Jupyter; the grader runs this notebook "
                           f"as plain Python (magics like %matplotlib, %pip and !shell lines do nothing)")

    def run_line_magic(self, name: str, line: str, _stack_depth: int = 1):
        if name in TIMING_OPTIONS and _statement(name, line):
            return _run_statement(_statement(name, line), sys._getframe(1))
        if name == "env" and "=" in line:
            key, _, value = line.partition("=")
            os.environ[key.strip()] = value.strip()
        return None

    def run_cell_magic(self, name: str, line: str, cell: str):
        args = line.split()
        if name in ("writefile", "file") and args:
            with open(args[-1], "a" if "-a" in args or "--append" in args else "w", encoding="utf-8") as fh:
                fh.write(cell)
        return None

    def system(self, command: str) -> None:
        return None

    def getoutput(self, command: str, split: bool = True) -> list:
        return []


def _statement(magic: str, line: str) -> str:
    """The statement after a timing magic's options (`%timeit -n 1 -r 3 step()`)."""
    rest = line.strip()
    while rest.startswith("-"):
        flag, _, rest = rest.partition(" ")
        if flag[1:] in TIMING_OPTIONS[magic]:  # an option with a value
            _, _, rest = rest.lstrip().partition(" ")
        rest = rest.lstrip()
    return rest


def _run_statement(code: str, caller) -> object:
    """A line magic's statement, run where the magic was written: its frames carry the magic's file and line,
    so errors and the deadline see the notebook's code."""
    tree = ast.parse(code)
    ast.increment_lineno(tree, caller.f_lineno - 1)
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
        expr = compile(ast.Expression(tree.body[0].value), caller.f_code.co_filename, "eval")
        return eval(expr, caller.f_globals, caller.f_locals)
    exec(compile(tree, caller.f_code.co_filename, "exec"), caller.f_globals, caller.f_locals)
    return None


def install(namespace: dict) -> None:
    """The names a kernel provides, in the notebook's namespace, and the `IPython` modules it may import."""
    shell = Shell(namespace)
    namespace.update(display=display, get_ipython=lambda: shell, Out={}, _="", __="", ___="")
    ipython = types.ModuleType("IPython", "grader stand-in: the notebook runs outside Jupyter")
    # None, as IPython answers outside a shell: libraries that probe for a kernel (matplotlib, tqdm.auto) then
    # behave as under plain Python; the notebook's own get_ipython() is the stand-in shell above
    ipython.get_ipython, ipython.display, ipython.version_info = (lambda: None), display, (9, 0, 0, "")
    ipython.__path__ = []  # a package, so `IPython.display` is looked up (and other submodules are missing)
    rich = types.ModuleType("IPython.display", "grader stand-in")
    rich.display, rich.clear_output = display, clear_output
    rich.__getattr__ = _rich_output  # HTML, Markdown, Image ...: shown as their repr
    sys.meta_path.insert(0, StandIns({"IPython": ipython, "IPython.display": rich}))


class StandIns:
    """Imports of these module names get the stand-ins (in every sandbox, whether IPython is installed or not),
    and only when the notebook imports them: nothing else sees an `IPython` module it did not ask for. And
    `tqdm.notebook`, whose widget bar needs Jupyter's ipywidgets, is tqdm's text bar, showing the same."""

    def __init__(self, modules: dict):
        self.modules = modules

    def find_spec(self, name, path=None, target=None):
        from importlib.util import spec_from_loader

        return spec_from_loader(name, self) if name in self.modules or name == "tqdm.notebook" else None

    def create_module(self, spec):
        if spec.name == "tqdm.notebook":
            from tqdm import std

            text_bar = types.ModuleType(spec.name, "grader stand-in: tqdm's text bar for the notebook widget")
            text_bar.tqdm = text_bar.tqdm_notebook = std.tqdm
            text_bar.trange = text_bar.tnrange = std.trange
            return text_bar
        return self.modules[spec.name]

    def exec_module(self, module) -> None:
        pass


def _rich_output(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    return type(name, (), {"__init__": lambda self, *a, **k: setattr(self, "args", a),
                           "__repr__": lambda self: f"<IPython.display.{name} object>"})


def run_cells(source: str, filename: str, starts: list[int], namespace: dict) -> None:
    """Run the notebook's script cell by cell (`starts`: the script line each code cell begins on)."""
    tree = compile(source, filename, "exec", ast.PyCF_ONLY_AST | FLAGS)
    lines = source.splitlines()
    cells: list[list[ast.stmt]] = [[] for _ in starts] or [[]]
    for stmt in tree.body:
        cells[max(0, bisect.bisect_right(starts, stmt.lineno) - 1)].append(stmt)
    loop: list = []
    for number, body in enumerate(cells, start=1):
        last = body[-1] if body and isinstance(body[-1], ast.Expr) else None
        if last is not None:  # its value is kept in the same run of the cell (an awaiting cell is one coroutine)
            body[-1] = ast.copy_location(ast.Assign([ast.Name(SHOWN, ast.Store())], last.value), last)
        _run(ast.fix_missing_locations(ast.Module(body, [])), filename, namespace, loop)
        value = namespace.pop(SHOWN, None)
        if value is not None and not _silenced(lines, last):
            _remember(namespace, number, value)


def _run(node, filename: str, namespace: dict, loop: list):
    code = compile(node, filename, "exec", FLAGS)
    result = eval(code, namespace)
    if code.co_flags & inspect.CO_COROUTINE:  # top-level await: one event loop for the notebook, as IPython
        if not loop:
            import asyncio

            loop.append(asyncio.new_event_loop())
        result = loop[0].run_until_complete(result)
    return result


def _silenced(lines: list[str], expr: ast.Expr) -> bool:
    """IPython shows no value when the cell's last line ends in ';'."""
    rest = lines[expr.end_lineno - 1][expr.end_col_offset:]
    return rest.split("#", 1)[0].strip().startswith(";")


def _remember(namespace: dict, number: int, value) -> None:
    show(value)
    namespace["___"], namespace["__"], namespace["_"] = namespace.get("__"), namespace.get("_"), value
    namespace["Out"][number] = namespace[f"_{number}"] = value


RUNS_CELL = _run.__code__  # a frame of it is submission code running, for the harness's deadline (__main__.py)
