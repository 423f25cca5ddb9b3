"""Notebooks run as Jupyter's "Run All" runs them: the host's transform (IPython's own) and the harness's
stand-ins for what a kernel provides (grader/harness/notebook.py), run here in-process on small notebooks.
tests/test_e2e.py grades whole notebooks (submissions/blind16/rule_b, public/*.ipynb) in the sandbox."""

import json
import sys
import traceback
import types

import pytest

from grader import submission
from grader.harness import notebook


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Run code cells as the harness does; returns the notebook's namespace."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # as the harness's sys.path[0] is its working folder
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))  # install() adds the IPython stand-ins there
    for name in [m for m in sys.modules if m == "IPython" or m.startswith("IPython.")]:  # hide the real ones
        monkeypatch.delitem(sys.modules, name)

    def run_cells(*cells: str) -> dict:
        sub = _submission(tmp_path, cells)
        namespace = types.ModuleType("__main__").__dict__
        notebook.install(namespace)
        script = tmp_path / "nb.py"
        script.write_text(sub.source)
        try:
            notebook.run_cells(sub.source, str(script), sub.cell_starts, namespace)
        except Exception as exc:
            lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(script)]
            exc.where = sub.where(lines[-1])  # what the harness reports
            raise
        return namespace

    yield run_cells
    for name in ("IPython", "IPython.display", "tqdm.notebook"):  # the stand-ins stay out of other tests
        if getattr(sys.modules.get(name), "__doc__", "") and sys.modules[name].__doc__.startswith("grader stand-in"):
            del sys.modules[name]


def _submission(folder, cells) -> submission.Submission:
    path = folder / "nb.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": c} for c in cells]}))
    return submission.load(path)


def test_a_cells_last_expression_is_shown_and_kept_in_underscore_and_out(run, capsys):
    ns = run("n = 60000\nn", "print('previous', _)\nn // 2", "n * 3;", "[_, __, Out[1], _2]")
    assert capsys.readouterr().out.splitlines() == ["60000", "previous 60000", "30000", "[30000, 60000, 60000, 30000]"]
    assert 3 not in ns["Out"]  # ';' shows nothing and keeps nothing, as in IPython


def test_top_level_await_runs_in_one_event_loop(run, capsys):
    run("import asyncio\nfor epoch in range(3):\n    await asyncio.sleep(0)\n    print('epoch', epoch)",
        "await asyncio.sleep(0)\nloop = asyncio.get_running_loop()",
        "await asyncio.sleep(0)\nasyncio.get_running_loop() is loop")
    assert capsys.readouterr().out.split() == ["epoch", "0", "epoch", "1", "epoch", "2", "True"]


def test_magics_and_shell_lines_do_what_they_would_or_nothing(run, capsys):
    ns = run("!pip install torch\n%matplotlib inline\nfiles = !ls\n%env GRADER_NB_TEST=1",
             "%time x = 6 * 7\ny = %time x + 1\n%timeit -n 1 pass", "%%writefile helper.py\nK = 7\n",
             "import helper, os\nprint(x, y, files, helper.K, os.environ['GRADER_NB_TEST'])")
    assert capsys.readouterr().out == "42 43 [] 7 1\n"
    assert ns["x"] == 42


def test_a_magics_statement_fails_on_its_own_cell_and_line(run):
    with pytest.raises(NameError) as info:
        run("a = 1", "b = 2\n%time c = undefined_name")
    assert info.value.where == "cell 2, line 2"


def test_display_and_ipythons_modules_without_jupyter(run, capsys):
    run("from IPython.display import display, clear_output, HTML\nimport IPython\n"
        "display('text', HTML('<b>'))\nclear_output(wait=True)\nprint('google.colab' in str(get_ipython()))\n"
        "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\nplt.plot([1, 2]);\n"
        "print(IPython.get_ipython())")  # libraries that look for a kernel find none (matplotlib would use it)
    assert capsys.readouterr().out == "'text'\n<IPython.display.HTML object>\nFalse\nNone\n"


def test_what_needs_a_running_kernel_says_so(run):
    with pytest.raises(notebook.NotInJupyter, match=r"get_ipython\(\).kernel exists only inside Jupyter") as info:
        run("x = 1", "shell = get_ipython()\nshell.kernel.do_shutdown(False)")
    assert info.value.where == "cell 2, line 2"
    assert getattr(notebook.Shell({}), "config", None) is None  # hasattr-style probes (tqdm.auto) just see "no"


def test_tqdms_notebook_bar_is_its_text_bar(run, capsys):
    run("from tqdm.notebook import tqdm, trange\nbar = tqdm(range(3))\nfor i in bar:\n    bar.set_postfix(loss=0.25)\n"
        "print(type(bar).__module__, list(trange(2)))")
    out = capsys.readouterr()
    assert out.out == "tqdm.std [0, 1]\n" and "loss=0.25" in out.err
