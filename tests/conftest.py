import os
from pathlib import Path

import pytest

from tiny_mnist import write_tiny_mnist

ROOT = Path(__file__).resolve().parent.parent
SHARED_MNIST = ROOT.parent / "shared" / "datasets" / "mnist"


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
