"""The six gradings the consumer tests feed to real consumers are what their names say."""

from consumers.gradings import CASES, EXIT_CODES

STATUSES = {"pass": "graded", "partial": "graded", "crash": "runtime_error", "timeout": "timeout",
            "invalid": "invalid_submission", "internal_error": "internal_error"}


def test_each_case_is_the_grading_it_names(gradings):
    assert set(gradings) == set(CASES)
    for case, grading in gradings.items():
        rep = grading.report
        assert (case, rep.status.value, grading.exit_code) == (case, STATUSES[case], EXIT_CODES[case]), rep.message
        assert grading.file == CASES[case][0]
    assert gradings["pass"].report.score == gradings["pass"].report.max_score
    assert 0 < gradings["partial"].report.score < gradings["partial"].report.max_score
    assert not gradings["partial"].report.check("zero_grad").passed
    assert gradings["crash"].report.check("runs").message and "debug: stop here" in gradings["crash"].report.message \
        + gradings["crash"].report.check("runs").message
    assert "IdxError" in gradings["internal_error"].report.message  # the broken data, not a bug elsewhere
