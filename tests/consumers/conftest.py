from pathlib import Path

import pytest

from consumers.gradings import Grading, grade_all, sandbox_name


@pytest.fixture(scope="session")
def gradings(tmp_path_factory, real_data: Path) -> dict[str, Grading]:
    """case -> (report JSON text, `grader check` exit code, file graded) for the six real gradings, graded
    once per session (consumers/gradings.py)."""
    return grade_all(tmp_path_factory.mktemp("gradings"), real_data, sandbox_name())
