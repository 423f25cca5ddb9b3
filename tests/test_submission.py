import json

import pytest

from grader import static, submission
from grader.submission import InvalidSubmission


def nb(*cells) -> str:
    return json.dumps({"nbformat": 4, "cells": [{"cell_type": t, "source": s} for t, s in cells]})


def test_python_file(tmp_path):
    f = tmp_path / "a.py"
    f.write_text("print('hi')\n")
    sub = submission.load(f)
    assert sub.kind == "python" and sub.source == "print('hi')\n" and len(sub.sha256) == 64


@pytest.mark.parametrize("name, content, fragment", [
    ("empty.py", b"", "empty"),
    ("blank.py", b"  \n\n", "empty"),
    ("bin.py", b"import torch\x00\x01", "binary"),
    ("latin.py", "print('café')".encode("latin-1"), "not UTF-8"),
    ("model.pt", b"PK\x03\x04", "expected a Python file"),
    ("broken.ipynb", b'{"cells": [', "not valid JSON"),
    ("list.ipynb", b"[1, 2]", "no 'cells' list"),
    ("md.ipynb", nb(("markdown", "# hi")).encode(), "no code cells"),
])
def test_invalid_inputs_get_a_plain_message(tmp_path, name, content, fragment):
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(InvalidSubmission, match=fragment):
        submission.load(f)


def test_too_large(tmp_path):
    f = tmp_path / "big.py"
    f.write_bytes(b"x = 1\n" * 400_000)
    with pytest.raises(InvalidSubmission, match="over 2 MB"):
        submission.load(f)


def test_a_notebook_with_large_outputs_is_fine(tmp_path):
    plot = {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo" * 500_000}}
    f = tmp_path / "hw.ipynb"
    f.write_text(json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": "x = 1", "outputs": [plot]}]}))
    assert f.stat().st_size > 5 * 2**20
    assert submission.load(f).source.startswith("x = 1")


def test_notebook_cells_go_through_ipythons_transformer_keeping_line_numbers(tmp_path):
    f = tmp_path / "hw.ipynb"
    f.write_text(nb(("markdown", "title"),
                    ("code", ["!pip install torch\n", "import torch\n", "if True:\n", "    %time x = 1\n"]),
                    ("code", "%%bash\necho hi\nls"),
                    ("code", "%%time\ny = 2\nz = y + undefined_name")))
    sub = submission.load(f)
    compile(sub.source, "hw.py", "exec")  # valid Python
    assert "get_ipython().system('pip install torch')" in sub.source
    assert "    get_ipython().run_line_magic('time', 'x = 1')" in sub.source
    assert "get_ipython().run_cell_magic('bash', '', 'echo hi\\nls\\n')" in sub.source
    assert "\ny = 2\n" in sub.source  # a %%time cell's body runs as the cell
    assert sub.warnings[0].startswith("cell 1, line 1: '!pip install torch' is IPython syntax: it runs as `get_ipython()")
    assert [w[:15] for w in sub.warnings] == ["cell 1, line 1:", "cell 1, line 4:", "cell 2, line 1:", "cell 3: %%time "]
    line = next(i for i, text in enumerate(sub.source.splitlines(), 1) if "undefined_name" in text)
    assert sub.where(line) == "cell 3, line 3"
    assert sub.cell_starts == [1, 6, 8]


@pytest.mark.parametrize("cell", [
    "a, b = 1, 2\nprint('%d %d'\n    % (a, b))",  # the modulo operator inside an open bracket
    "a = 7 \\\n%2\nprint(a)",  # ... and after a backslash
    "s = '''\n%not a magic\n!nor a shell line\n'''",  # ... and inside a string
])
def test_a_percent_or_bang_that_does_not_start_a_logical_line_is_python(cell):
    src, where, warnings = submission.notebook_to_script(nb(("code", cell)))
    assert src == cell + "\n\n" and warnings == []
    assert where == [(1, n) for n in range(1, cell.count("\n") + 3)]


def test_help_lookups_and_magics_at_a_logical_line_start_are_ipythons():
    src, where, warnings = submission.notebook_to_script(nb(
        ("code", "\n\nimport torch.nn as nn\nnn.Linear?\nnn.Linear??\nx = %env HOME\nfiles = !ls\n%time y = \\\n  3\nz = 1")))
    lines = src.splitlines()
    assert lines[:6] == ["import torch.nn as nn", "get_ipython().run_line_magic('pinfo', 'nn.Linear')",
                         "get_ipython().run_line_magic('pinfo2', 'nn.Linear')",
                         "x = get_ipython().run_line_magic('env', 'HOME')", "files = get_ipython().getoutput('ls')",
                         "get_ipython().run_line_magic('time', 'y =    3')"]
    # leading blank lines dropped and a continued magic joined, yet each line keeps its place in the cell
    assert where[:7] == [(1, 3), (1, 4), (1, 5), (1, 6), (1, 7), (1, 8), (1, 10)] and lines[6] == "z = 1"
    assert len(warnings) == 5


def test_static_facts():
    src = ("import torch, torchvision\nnum_epochs = 5\nopt = torch.optim.SGD(m.parameters(), lr=0.1)\n"
           "crit = nn.MSELoss()\nfor epoch in range(1, 4):\n    opt.zero_grad()\n"
           "loader = DataLoader(ds, batch_size=32)\np.add_argument('--epochs', type=int, default=7)\n")
    facts = static.analyse(src)
    assert [f.value for f in facts.of("epochs")] == [5, 3, 7]
    assert facts.of("optimizer")[0].value == {"name": "SGD", "lr": 0.1} and facts.of("optimizer")[0].line == 3
    assert facts.of("loss")[0].value == "MSELoss" and facts.of("zero_grad")[0].line == 6
    assert facts.of("batch_size")[0].value == 32
    assert {f.value for f in facts.of("import")} == {"torch", "torchvision"}


def test_static_syntax_error():
    err = static.analyse("x = (1,\ny = 2\n").syntax_error
    assert err["line"] == 1 and "never closed" in err["message"]
