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


def test_notebook_drops_magics_and_shell_lines_keeping_line_numbers(tmp_path):
    f = tmp_path / "hw.ipynb"
    f.write_text(nb(("markdown", "title"),
                    ("code", ["!pip install torch\n", "import torch\n", "if True:\n", "    %time x = 1\n"]),
                    ("code", "%%bash\necho hi\nls"),
                    ("code", "%%time\ny = 2\nz = y + undefined_name")))
    sub = submission.load(f)
    compile(sub.source, "hw.py", "exec")  # still valid Python
    assert "pip install" not in sub.source and "echo hi" not in sub.source and "y = 2" in sub.source
    assert len(sub.warnings) == 4 and "dropped a %%bash cell" in sub.warnings[2]
    assert sub.warnings[0].startswith("cell 1, line 1: dropped '!pip install torch'")
    line = next(i for i, text in enumerate(sub.source.splitlines(), 1) if "undefined_name" in text)
    assert sub.where(line) == "cell 3, line 3"


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
