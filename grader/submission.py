"""Reading a submission: a .py file or a Jupyter notebook, turned into one Python script.

Notebooks: code cells in order; IPython magics (`%...`) and shell lines (`!...`) are replaced by `pass` so
line numbers and indentation stay valid, and each is listed as a warning. Errors are reported by cell.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

MAX_BYTES = {"python": 2 * 2**20, "notebook": 64 * 2**20}  # notebooks carry their outputs (plots as base64)
# cell magics whose body is still Python; any other %% cell (bash, writefile, html ...) is dropped whole
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
        cell_lines = src.splitlines()
        magic = re.match(r"\s*%%(\w+)", cell_lines[0]) if cell_lines else None
        drop_cell = magic is not None and magic.group(1) not in PYTHON_CELL_MAGICS
        if drop_cell:
            warnings.append(f"cell {code_no}: dropped a %%{magic.group(1)} cell (not Python)")
        for n, line in enumerate(cell_lines, start=1):
            stripped = line.lstrip()
            if drop_cell or stripped.startswith(("%", "!")):
                if stripped and not drop_cell:
                    warnings.append(f"cell {code_no}, line {n}: dropped '{stripped[:80]}' (IPython/shell syntax)")
                line = line[: len(line) - len(stripped)] + "pass"
            lines.append(line)
            where.append((code_no, n))
        lines.append("")
        where.append((code_no, len(cell_lines) + 1))
    if not any(line.strip() and line.strip() != "pass" for line in lines):
        raise InvalidSubmission("the notebook has no code cells with code in them")
    return "\n".join(lines) + "\n", where, warnings
