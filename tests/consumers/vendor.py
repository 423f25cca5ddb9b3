"""Consumers' own code that is not on a package registry (GitHub Classroom's reporter ships only in its
repository): pinned by commit and sha256, kept outside the repository, found here.

Where it lives: $GRADER_CONSUMERS_DIR, else ~/.cache/grader/consumers, as `OWNER+NAME@COMMIT/PATH` (with
the project's licence file beside it): the published file of that commit, unchanged (its sha256 is checked).
This repository never carries a consumer's code, nor a way to build one; where the file is absent the tests
that need it skip and say so.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pinned:
    repo: str
    commit: str
    path: str
    sha256: str
    licence: str

    @property
    def location(self) -> Path:
        root = Path(os.environ.get("GRADER_CONSUMERS_DIR") or Path.home() / ".cache" / "grader" / "consumers")
        return root / f"{self.repo.replace('/', '+')}@{self.commit}" / self.path

    def find(self) -> Path | None:
        """The file, if it is there and is the pinned one (a different file fails loudly: not a skip)."""
        path = self.location
        if not path.is_file():
            return None
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != self.sha256:
            raise AssertionError(f"{path} is not {self.repo}@{self.commit[:7]}:{self.path} (sha256 {digest})")
        return path


# release v1 (the tag GitHub Classroom's workflows use), MIT licence (LICENSE.md)
REPORTER = Pinned("classroom-resources/autograding-grading-reporter", "d13b5912daf5042ac1b71bc38bdb4a6bcd61d8ca",
                  "dist/main.js", "10321b2d4eceef030a9981ab6e34b92d03e91eabe07e116bfc9176823565d3f9", "LICENSE.md")
