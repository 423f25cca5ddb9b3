"""Issue 15, class 6: the one-shot evaluator's answer counts only from the channel the grader owns and only
from an evaluator that exited cleanly. A model that prints a perfect answer and then gets the evaluator
killed must not be scored by what it printed."""

import pytest

from test_sandbox import hostile
from grader.report import Status


@pytest.mark.parametrize("attack", ["pickle_print_oom", "pickle_print_kill"])
def test_a_printed_answer_from_a_dying_evaluator_scores_nothing(grader, tmp_path, attack):
    rep = grader.grade(hostile(tmp_path, "eval_planted_model", attack=attack))
    learns = rep.check("learns")
    assert rep.status == Status.graded and f"planted {attack}" in rep.output.stdout_tail
    assert rep.training.accuracy is None and not learns.passed, learns.message
    assert "could not evaluate" in learns.message
