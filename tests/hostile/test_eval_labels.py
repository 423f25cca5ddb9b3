"""Issue 15, class 1: the held-out evaluation never runs code that came from a submission. A model that is a
program (TorchScript, a torch.export archive whose weights are pickles) would run beside the test set: it
could read the labels, or run any Python there. The evaluator loads only the tape (data) and never sees the
labels; anything else is "could not evaluate"."""

import pytest

from test_sandbox import hostile
from grader.report import Status


def graded_without_accuracy(grader, tmp_path, attack: str):
    """The attack ran (its planted model reached the grader), and its model earned no accuracy."""
    rep = grader.grade(hostile(tmp_path, "eval_planted_model", attack=attack))
    learns = rep.check("learns")
    assert rep.status == Status.graded and f"planted {attack}" in rep.output.stdout_tail
    assert rep.training.accuracy is None and not learns.passed, learns.message
    assert "could not evaluate" in learns.message
    return learns


@pytest.mark.parametrize("attack", ["script_labels", "pickle_labels"])
def test_a_model_that_is_a_program_is_not_evaluated(grader, tmp_path, attack):
    learns = graded_without_accuracy(grader, tmp_path, attack)
    assert "not data" in learns.message
