"""The grader's temporary files: one folder per `grader` process, TMPDIR/grader-run-PID-XXXXXXXX.

A grader killed outright (kill -9, a closed laptop, a CI job cancelled) cannot remove what it had written
there: copies of students' submissions, job specs, exported models, staging folders. With every temporary
file of one process under one folder named by its pid, `grader sandbox clean` removes what graders that are
gone left behind and spares the folders of graders still running (a batch beside this one).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

PREFIX = "grader-run-"


def claim() -> Path:
    """Make this process's folder and send every temporary file there: tempfile's default, and TMPDIR for the
    batch workers started from here (their files land in it too). Removed when the process exits."""
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base_dir()))
    folder.chmod(0o711)  # the sandbox's uid reaches a staging folder inside by its name; nobody can list it
    os.environ["TMPDIR"] = tempfile.tempdir = str(folder)
    owner = os.getpid()
    atexit.register(lambda: os.getpid() == owner and shutil.rmtree(folder, ignore_errors=True))
    return folder


def base_dir() -> Path:
    """The temp dir the user chose, also in a process whose temp dir is already a grader's folder in it."""
    here = Path(tempfile.gettempdir())
    return here.parent if here.name.startswith(PREFIX) else here


def clean() -> int:
    """Remove the folders of graders that are gone. Returns how many."""
    removed = 0
    for folder in base_dir().glob(PREFIX + "*"):
        owner = folder.name[len(PREFIX):].split("-", 1)[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists() and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            removed += not folder.exists()
    return removed
