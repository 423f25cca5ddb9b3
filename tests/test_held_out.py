"""One held-out evaluator per batch worker (grader/held_out.py, grader.evaluate --serve): the scores equal
the one-shot evaluator's, one service serves every submission, a service that dies costs one answer and is
replaced, and nothing a model's child process does reaches the service's stream or outlives its request."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.grade import Grader, Options
from grader.report import Status
from test_sandbox import BACKENDS, leftover_processes, require

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_one_service_scores_every_submission_as_the_one_shot_evaluator_does(backend, real_data):
    require(backend)
    files = [ROOT / "reference" / "solution.py", ROOT / "submissions" / "no_activation.py",
             ROOT / "submissions" / "edge" / "torchscript_model.py"]
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    before = set(tmp.glob("grader-eval-*"))
    one_shot = Grader(Options(sandbox=backend, data_dir=real_data, device="cpu"))
    served = Grader(Options(sandbox=backend, data_dir=real_data, device="cpu", evaluator_service=True))
    try:
        for path in files:
            a, b = one_shot.grade(path), served.grade(path)
            assert b.status == Status.graded, b.message
            assert (b.training.accuracy, b.training.confusion) == (a.training.accuracy, a.training.confusion)
            assert b.score == a.score
        assert served.service.started == 1 and served.service.n == len(files)
    finally:
        served.close()
    time.sleep(0.5)
    assert leftover_processes() == []
    assert set(tmp.glob("grader-eval-*")) == before  # its model folder is gone too


def test_a_service_that_died_costs_one_answer_and_is_replaced(real_data):
    require("process")
    grader = Grader(Options(sandbox="process", data_dir=real_data, device="cpu", evaluator_service=True))
    reference = ROOT / "reference" / "solution.py"
    try:
        assert grader.grade(reference).check("learns").passed
        grader.service.running.stop()  # as if the OOM killer took it between two submissions
        lost = grader.grade(reference)
        assert not lost.check("learns").passed and "evaluator failed" in lost.check("learns").message
        assert grader.grade(reference).check("learns").passed and grader.service.started == 2
    finally:
        grader.close()


def test_a_models_child_cannot_write_to_the_services_stream_or_outlive_its_request(tmp_path):
    marker = tmp_path / "alive"
    r = subprocess.run([sys.executable, "-c", PROBE, str(marker)], capture_output=True, text=True, timeout=60,
                       cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ['{"accuracy": 0.5}', '{"error": "the evaluation process died (wait status 768)"}']
    time.sleep(4)
    assert not marker.exists()  # the background process it left was killed with its group


PROBE = r"""
import json, subprocess, sys
from grader import evaluate
marker = sys.argv[1]

def hostile():
    print("forged answer")
    subprocess.Popen([sys.executable, "-c", f"import time; time.sleep(3); open({marker!r}, 'w')"])
    return {"accuracy": 0.5}

def crashes():
    import os
    os._exit(3)

for work in (hostile, crashes):
    print(json.dumps(evaluate._in_child(work, isolated=False)), flush=True)
"""
