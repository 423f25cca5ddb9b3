import os
from pathlib import Path

import pytest

from tiny_mnist import write_tiny_mnist

ROOT = Path(__file__).resolve().parent.parent
SHARED_MNIST = ROOT.parent / "shared" / "datasets" / "mnist"
# a minute each: the default run proves these on the process sandbox (what they test is the supervisor's, the
# same code in every backend) and `-m slow` on the others
SLOW_BEYOND_PROCESS = {"test_a_gigabyte_of_output_is_capped_and_still_graded"}


@pytest.hookimpl(tryfirst=True)  # before `-m 'not slow'` deselects
def pytest_collection_modifyitems(items):
    for item in items:
        name, _, param = item.name.partition("[")
        if name in SLOW_BEYOND_PROCESS and param != "process]":
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    return write_tiny_mnist(tmp_path_factory.mktemp("tiny-mnist"))


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real MNIST: $GRADER_DATA_DIR, else ../shared/datasets/mnist. Missing data fails, never skips."""
    folder = Path(os.environ.get("GRADER_DATA_DIR") or SHARED_MNIST)
    from grader import data

    st = data.status(folder)
    if not st.ok:
        pytest.fail(f"real MNIST not found in {folder} ({'; '.join(st.problems)}): set GRADER_DATA_DIR, "
                    "or run `grader data download`")
    return folder
