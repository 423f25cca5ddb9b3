"""Issue 15, class 6: the one-shot evaluator's answer counts only from the channel the grader owns and only
from an evaluator that exited cleanly. A model that prints a perfect answer and then gets the evaluator
killed must not be scored by what it printed."""

import pytest

from test_eval_labels import graded_without_accuracy


@pytest.mark.parametrize("attack", ["pickle_print_oom", "pickle_print_kill"])
def test_a_printed_answer_from_a_dying_evaluator_scores_nothing(grader, tmp_path, attack):
    graded_without_accuracy(grader, tmp_path, attack)
