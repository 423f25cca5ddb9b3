"""Held-out evaluation (grader/held_out.py, grader.evaluate): one evaluator per batch worker scores as the
one-shot evaluator does, a service that dies costs one answer and is replaced, the score is the host's (from
predictions and labels the evaluator never sees), an answer counts only from the evaluator's own channel and
a clean exit, and nothing a model's child process does reaches the stream or outlives its request."""

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import held_out, sandbox
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
    print(json.dumps(evaluate.in_child({"part": work}, isolated=False)["part"]), flush=True)
"""


def test_the_replay_answers_before_the_model_is_touched_and_the_model_cannot_rewrite_it():
    # one child does both (a fork less per submission); the replay's pipe is closed before the model runs, so
    # a model that writes to every descriptor it has and then crashes leaves the replay's answer as it was
    r = subprocess.run([sys.executable, "-c", ORDERED], capture_output=True, text=True, timeout=60, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"replay": {"steps": "replayed"},
                                    "evaluation": {"error": "the evaluation process died (wait status 768)"}}


ORDERED = r"""
import json, os
from grader import evaluate

def model():
    for fd in range(3, 256):
        try:
            os.write(fd, b'{"steps": "forged"}')
        except OSError:
            pass
    os._exit(3)

print(json.dumps(evaluate.in_child({"replay": lambda: {"steps": "replayed"}, "evaluation": model}, isolated=False)))
"""


def test_in_its_own_sandbox_nothing_a_child_did_survives_it(tmp_path):
    """A pid namespace of its own, as each backend gives the evaluator: a process hopping to new pids, a fork
    bomb and files in the writable folders are all gone when in_child returns."""
    require("process")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    r = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c", ISOLATED, str(scratch)],
                       capture_output=True, text=True, timeout=120, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ['{"made": true}', "[]", "[]"]


ISOLATED = r"""
import json, os, sys, time
from grader import evaluate
evaluate.SCRATCH = (sys.argv[1],)

def leaves_everything():
    with open(os.path.join(sys.argv[1], "json.py"), "w") as fh:
        fh.write("planted = True")
    if os.fork() == 0:  # a process that hops to a new pid every fork, and a fork bomb
        os.setsid()
        for _ in range(200):
            if os.fork():
                os._exit(0)
        while True:
            try:
                os.fork()
            except OSError:
                time.sleep(0.01)
    time.sleep(0.2)
    return {"made": True}

print(json.dumps(evaluate.in_child({"part": leaves_everything}, isolated=True)["part"]))
print(evaluate._others())
print(os.listdir(sys.argv[1]))
"""


def test_the_score_is_the_hosts_from_the_predictions_and_the_labels():
    truth = bytes([0, 1, 2, 3, 3])
    answer = {"predictions": base64.b64encode(bytes([0, 1, 2, 10, 4])).decode(), "examples": 5, "seconds": 0.1}
    ev = held_out.evaluation_of(answer, truth)
    assert ev.accuracy == 3 / 5 and ev.examples == 5
    assert ev.confusion[3][4] == 1 and sum(map(sum, ev.confusion)) == 4  # a prediction past the digits: no cell
    for forged in ({**answer, "accuracy": 1.0}, {**answer, "predictions": "AAAA"}, {**answer, "examples": True}):
        assert held_out.evaluation_of(forged, truth).accuracy is None


@pytest.mark.parametrize("stdout, code, ok", [
    (b'{"predictions": "", "examples": 0, "seconds": 0}\n', 0, True),
    (b'{"predictions": "", "examples": 0, "seconds": 0}\n', -9, False),  # printed, then killed
    (b'{"accuracy": 1.0}\n{"predictions": "", "examples": 0, "seconds": 0}\n', 0, False),  # a line before it
    (b'{"accuracy": 1.0, "x": {"predictions": "", "examples": 0, "seconds": 0}}\n', 0, True),  # one object: read as one
])
def test_a_one_shot_answer_counts_only_as_all_of_a_clean_exits_stdout(stdout, code, ok):
    answer = held_out.one_shot_answer(sandbox.Result(stdout, b"", code, 1.0))
    assert ("error" not in answer) == ok
