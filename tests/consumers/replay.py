"""`grader` as the workflow tests run it: the real CLI (options, formats, $GITHUB_OUTPUT, exit status) over
the report of the real grading the session already made of this very file ($GRADER_REPLAY_REPORT, matched
to the file by sha256 and size), so running a workflow costs no second grading. Without
$GRADER_REPLAY_REPORT it grades for real (the cheap cases: a missing file)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from grader import cli
from grader.report import Report


class Replayed:
    def __init__(self, report: Report):
        self.report = report

    def grade(self, path: Path) -> Report:
        data = Path(path).read_bytes()
        sub = self.report.submission
        if (sub.sha256 and hashlib.sha256(data).hexdigest() != sub.sha256) or len(data) != sub.size_bytes:
            raise SystemExit(f"replay: {path} is not the file {sub.path} that was graded")
        path = Path(path)  # the same bytes under the workflow's name, as a run of this file reports them
        return self.report.model_copy(update={"submission": sub.model_copy(update={"path": str(path),
                                                                                    "name": path.name})})


def main() -> None:
    recorded = os.environ.get("GRADER_REPLAY_REPORT")
    if recorded:
        report = Report.model_validate_json(Path(recorded).read_text())
        cli.make_grader = lambda **options: Replayed(report)
    cli.main()


if __name__ == "__main__":
    main()
