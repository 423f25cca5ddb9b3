"""Reading a submission: a .py file or a Jupyter notebook, turned into one Python script.

Notebooks: code cells in order, each transformed by IPython's own input transformer (magics, `!shell`, `x?`
become calls on get_ipython(), which the harness stands in for; see harness/notebook.py), each rewritten line
listed as a warning. Errors are reported by cell and line of the cell.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

MAX_BYTES = {"python": 2 * 2**20, "notebook": 64 * 2**20}  # notebooks carry their outputs (plots as base64)
# cell magics whose body is still Python and runs as the cell; any other %% cell (bash, writefile, html ...) is
# IPython's run_cell_magic call, which the harness's stand-in answers (%%writefile writes, the rest do nothing)
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}


class InvalidSubmission(Exception):
    """The file cannot be graded at all; the message says why in plain words."""


@dataclass
class Submission:
    path: Path
    kind: str  # "python" | "notebook"
    sha256: str
    size: int
    source: str  # the Python script that runs
    cells: list[tuple[int, int]] | None = None  # script line i+1 -> (code cell number, line in cell)
    warnings: list[str] = field(default_factory=list)

    @property
    def cell_starts(self) -> list[int] | None:
        """The script line each code cell starts on (a notebook's), for the harness to run them one by one."""
        if not self.cells:
            return None
        return [n for n, (cell, _) in enumerate(self.cells, start=1) if n == 1 or self.cells[n - 2][0] != cell]

    @property
    def name(self) -> str:
        return self.path.name

    def where(self, lineno: int | None) -> str:
        """'line 12', or 'cell 3, line 2' for notebooks."""
        if lineno is None:
            return "an unknown line"
        if self.cells and 0 < lineno <= len(self.cells):
            cell, line = self.cells[lineno - 1]
            return f"cell {cell}, line {line}"
        return f"line {lineno}"


def load(path: Path) -> Submission:
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise InvalidSubmission(f"{path} is a directory, not a submission file") from None
    except OSError as exc:
        raise InvalidSubmission(f"cannot read {path}: {exc.strerror}") from None
    sha = hashlib.sha256(data).hexdigest()
    suffix = path.suffix.lower()
    kind = "notebook" if suffix == ".ipynb" else "python"
    if suffix not in (".py", ".ipynb"):
        raise InvalidSubmission(f"expected a Python file (.py) or a Jupyter notebook (.ipynb), got '{path.name}'")
    if len(data) > MAX_BYTES[kind]:
        raise InvalidSubmission(f"the file is {len(data) >> 10} KB; {kind} submissions over {MAX_BYTES[kind] >> 20} MB "
                                "are not graded")
    if not data.strip():
        raise InvalidSubmission("the file is empty")
    if b"\x00" in data:
        raise InvalidSubmission("the file is binary, not text (it contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidSubmission(f"the file is not UTF-8 text (undecodable byte at offset {exc.start}); "
                                "save it as UTF-8") from None
    sub = Submission(path=path, kind=kind, sha256=sha, size=len(data), source=text)
    if kind == "notebook":
        sub.source, sub.cells, sub.warnings = notebook_to_script(text)
    return sub


def notebook_to_script(text: str) -> tuple[str, list[tuple[int, int]], list[str]]:
    try:
        nb = json.loads(text)
    except ValueError as exc:
        raise InvalidSubmission(f"the notebook is not valid JSON ({exc}); re-download it from Jupyter") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise InvalidSubmission("the notebook has no 'cells' list; is it really a Jupyter notebook?")
    lines: list[str] = []
    where: list[tuple[int, int]] = []
    warnings: list[str] = []
    code_no = 0
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        code_no += 1
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        cell_lines, cell_where, cell_warnings = _cell_as_python(src, code_no)
        lines += cell_lines + [""]
        where += cell_where + [(code_no, len(src.splitlines()) + 1)]
        warnings += cell_warnings
    if not any(line.strip() for line in lines):
        raise InvalidSubmission("the notebook has no code cells with code in them")
    return "\n".join(lines) + "\n", where, warnings


def _cell_as_python(src: str, cell_no: int) -> tuple[list[str], list[tuple[int, int]], list[str]]:
    """One code cell as IPython runs it: IPython's own input transformer turns magics, `!shell` lines and `x?`
    help into calls on get_ipython() (the harness provides a stand-in), recognising them only where IPython
    does: at the start of a logical line, so `% (a, b)` continuing a bracket is still the modulo operator.
    Returns the Python lines, each one's (cell, line in cell), and a warning per line IPython rewrote."""
    original = src.splitlines()
    body, offset = src, 0
    magic = re.match(r"\s*%%(\w+)", original[0]) if original else None
    if magic and magic.group(1) in PYTHON_CELL_MAGICS:  # the body runs as the cell's code (timed, captured ...)
        body, offset = "\n".join(original[1:]), 1
        warnings = [f"cell {cell_no}: %%{magic.group(1)} runs its cell as plain Python"]
    else:
        warnings = []
    try:
        python = _transformer().transform_cell(body).splitlines()
    except Exception:  # noqa: BLE001 - IPython could not read it: Python's own error will say where
        python = body.splitlines()
    source = original[offset:]
    where = []
    for j, i in enumerate(_line_map(source, python)):
        where.append((cell_no, i + 1 + offset))
        if python[j].strip() != (source[i].strip() if i < len(source) else ""):
            warnings.append(f"cell {cell_no}, line {i + 1 + offset}: '{source[i].strip()[:80]}' is IPython syntax: "
                            f"it runs as `{python[j].strip()[:100]}`")
    if offset:
        python, where = [""] + python, [(cell_no, 1)] + where
    return python, where, warnings


def _line_map(before: list[str], after: list[str]) -> list[int]:
    """For each line IPython's transformer produced, the index of the cell line it came from (it may drop
    leading blank lines, dedent, and join a magic's continued lines into one)."""
    blocks = difflib.SequenceMatcher(None, [x.strip() for x in before], [x.strip() for x in after],
                                     autojunk=False).get_opcodes()
    out = [0] * len(after)
    for _, i1, i2, j1, j2 in blocks:
        for j in range(j1, j2):
            out[j] = min(i1 + (j - j1), max(i2 - 1, i1), max(len(before) - 1, 0))
    return out


@functools.cache
def _transformer():
    from IPython.core.inputtransformer2 import TransformerManager  # only notebooks pay for IPython's import

    return TransformerManager()
