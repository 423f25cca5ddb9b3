"""Issue 15, class 2: nothing one student's held-out evaluation does survives it. A batch worker keeps one
evaluator service for all its students; an attacker's evaluation that leaves processes, files on the
import path or forged answer lines behind must not change the next student's score."""

import pytest

from test_sandbox import hostile
from grader import held_out


@pytest.fixture
def serving(grader):
    """The grader with one held-out evaluator service for all its submissions, as a batch worker has."""
    grader.options.evaluator_service = True
    grader.service = held_out.Service(grader.backend, grader.files, grader.limits)
    yield grader
    grader.service.close()
    grader.service, grader.options.evaluator_service = None, False


@pytest.mark.parametrize("attack", ["pickle_leftover", "pickle_fork_bomb"])
def test_the_next_students_evaluation_is_untouched(serving, tmp_path, attack):
    alone = serving.grade(hostile(tmp_path, "eval_planted_model", attack="honest")).training.accuracy
    attacker = serving.grade(hostile(tmp_path, "eval_planted_model", attack=attack))
    after = serving.grade(hostile(tmp_path, "eval_planted_model", attack="honest"))
    assert alone is not None and alone > 0.8
    assert after.training.accuracy == alone, after.check("learns").message
    assert f"planted {attack}" in attacker.output.stdout_tail and attacker.training.accuracy is None
