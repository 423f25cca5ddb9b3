"""White-box attacks on the grader's integrity (issue 15), one test file per class of weakness, written by
someone who has read this repository. Each attack runs through every isolated set-up (docker, the process
sandbox started cold, and the process sandbox's warm worker) via test_sandbox's fixtures."""

from test_sandbox import (  # noqa: F401 - fixtures shared with the sandbox tests
    BACKENDS, clean_start, grader, hostile, nothing_left_behind, require, short)
