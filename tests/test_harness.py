"""The harness, end to end on tiny generated IDX files: real torch, real child processes, real evaluator.

Each test writes a small submission, grades it through the unisolated backend (sandbox isolation has its
own tests) and asserts on the trace or the report.
"""

import functools
import json
import signal
import sys
import textwrap

import pytest
import torch
from tiny_mnist import write_tiny_mnist

from grader import submission
from grader.grade import Grader, Options
from grader.report import Status
from grader.rubric import Limits, Rubric
from grader.sandbox.local import LocalSandbox

TINY = Rubric(train_examples=256, eval_examples=64, accuracy_threshold=0.5, limits=Limits(timeout_s=60, grace_s=15))

HEADER = """
import torch, torch.nn as nn, torch.nn.functional as F
from torchvision import datasets, transforms
tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
"""

LOOP = HEADER + """
train = datasets.MNIST(root="/nonexistent", train=True, transform=tf, download=True)
loader = torch.utils.data.DataLoader(train, batch_size=32, shuffle=True)
model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 10))
opt = {opt}
crit = nn.CrossEntropyLoss()
for epoch in range({epochs}):
    for x, y in loader:
        {zero}
        loss = crit(model(x), y)
        loss.backward()
        opt.step()
    print(f"Epoch [{{epoch + 1}}/{epochs}], Loss: {{loss.item():.4f}}")
"""


def loop(opt="torch.optim.Adam(model.parameters(), lr=0.01)", epochs=10, zero="opt.zero_grad()") -> str:
    return LOOP.format(opt=opt, epochs=epochs, zero=zero)


@pytest.fixture(scope="module")
def grader(tmp_path_factory):
    folder = write_tiny_mnist(tmp_path_factory.mktemp("tiny"))
    files = {"train_images": folder / "train-images-idx3-ubyte", "train_labels": folder / "train-labels-idx1-ubyte",
             "test_images": folder / "t10k-images-idx3-ubyte", "test_labels": folder / "t10k-labels-idx1-ubyte"}
    return Grader(Options(rubric=TINY, device="cpu"), backend=LocalSandbox(), files=files)


def write(tmp_path, source: str, name: str = "sub.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def failed(report) -> set[str]:
    return {c.id for c in report.checks if not c.passed}


def test_good_loop_full_marks_and_served_subset(grader, tmp_path):
    rep = grader.grade(write(tmp_path, loop() + "\nprint('sizes', len(train), len(datasets.MNIST('x', train=False)))\n"))
    assert rep.status == Status.graded and failed(rep) == set(), [c.message for c in rep.checks if not c.passed]
    assert "sizes 256 64" in rep.output.stdout_tail  # root/download ignored; train=False is a slice of train
    assert rep.training.epochs == 10 and rep.training.batches_per_epoch == 8 and len(rep.training.epoch_losses) == 10
    assert rep.training.accuracy > 0.9 and rep.training.eval_examples == 200  # the tiny test set, in full


def test_no_zero_grad_and_wrong_epochs_are_observed(grader, tmp_path):
    rep = grader.grade(write(tmp_path, loop(zero="pass", epochs=3)))
    assert {"zero_grad", "epochs"} <= failed(rep)
    assert rep.check("zero_grad").evidence["stale"] == 23  # every step's backward but the first
    assert rep.check("epochs").evidence["complete_passes"] == 3


@pytest.mark.parametrize("opt, fragment", [
    ("torch.optim.AdamW(model.parameters(), lr=0.01)", "AdamW"),
    ("Adam(model.parameters(), lr=0.01)", "not torch.optim"),
])
def test_optimizer_identity_not_name(grader, tmp_path, opt, fragment):
    fake_adam = "class Adam(torch.optim.SGD):\n    pass\n"
    rep = grader.grade(write(tmp_path, HEADER + fake_adam + loop(opt=opt).replace(HEADER, "")))
    assert "optimizer" in failed(rep) and fragment in rep.check("optimizer").message


def test_manual_slicing_random_split_and_combined_loss(grader, tmp_path):
    rep = grader.grade(write(tmp_path, HEADER + textwrap.dedent("""
        full = datasets.MNIST("data", train=True, download=True, transform=tf)
        part, _ = torch.utils.data.random_split(full, [55000, 5000])
        X = (full.data.float() / 255 - 0.5) / 0.5
        Y = full.targets
        model = nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 10))
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        print("split", len(part))
        for epoch in range(10):
            total = 0.0
            for i in range(0, len(X), 64):
                opt.zero_grad()
                out = model(X[i:i + 64].view(-1, 784))
                loss = F.cross_entropy(out, Y[i:i + 64]) + 1e-4 * sum((p ** 2).sum() for p in model.parameters())
                loss.backward()
                opt.step()
                total += loss.item()
            print("epoch", epoch, "loss", round(total / 4, 5))
    """)))
    assert failed(rep) == set(), [c.message for c in rep.checks if not c.passed]
    assert "split 234" in rep.output.stdout_tail
    assert any("scaled to [234, 22]" in w for w in rep.warnings)
    assert rep.check("epochs").evidence["examples_trained"] == 2560


def test_lines_from_logging_and_tqdm_are_tagged_with_epochs(grader, tmp_path):
    sub = submission.load(write(tmp_path, loop().replace(
        'print(f"Epoch', 'import logging; logging.basicConfig(); logging.getLogger().warning(f"Epoch') + """
from tqdm import tqdm
tqdm.write("done")
"""))
    seen = grader.observe(sub)
    lines = [(e["s"], e["text"]) for e in seen.trace.of("line")]
    assert ("o", "done") in lines and sum(s == "e" and "Epoch [" in t for s, t in lines) == 10
    epochs = seen.trace.epochs()
    assert [len(ep.lines) for ep in epochs[:9]] == [1] * 9  # each epoch's own warning line


def test_exception_keeps_partial_credit_and_line(grader, tmp_path):
    source = loop().replace("opt.step()", "opt.step()\n        if epoch == 5: {}['key']")
    line = source.splitlines().index("        if epoch == 5: {}['key']") + 1
    rep = grader.grade(write(tmp_path, source))
    assert rep.status == Status.runtime_error
    assert f"line {line}" in rep.check("runs").message and "epoch 6" in rep.check("runs").message
    # a per-epoch check earns full points only when every required epoch ran: 5 of 10 printed
    assert failed(rep) == {"runs", "epochs", "prints_loss_each_epoch"}
    assert rep.check("prints_loss_each_epoch").points == 5
    assert "KeyError" in rep.output.stdout_tail  # the student still sees the traceback


@pytest.mark.parametrize("source, printed", [
    # the start of epoch 4 raised: cut off inside the loop over epochs, 3 of the 10 epochs owed printed
    (loop().replace("    for x, y in loader:", "    if epoch == 3: {}['key']\n    for x, y in loader:"), 3),
    # later code raised: training had ended, and each of the 3 epochs it trained printed its loss
    (loop(epochs=3) + "\n{}['key']\n", 10),
], ids=["between_epochs", "after_training"])
def test_a_crash_is_placed_inside_or_after_the_training_loop(grader, tmp_path, source, printed):
    rep = grader.grade(write(tmp_path, source))
    assert rep.status == Status.runtime_error and rep.training.epochs == 3
    assert rep.check("prints_loss_each_epoch").points == printed, rep.check("prints_loss_each_epoch").message
    assert {"runs", "epochs"} <= failed(rep)


MONITORED = HEADER + """
train = datasets.MNIST(root="/nonexistent", train=True, transform=tf, download=True)
loader = torch.utils.data.DataLoader(train, batch_size=32, shuffle=True)
model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 10))
opt = torch.optim.Adam(model.parameters(), lr=0.01)
for epoch in range(10):
    total = 0.0
    for x, y in loader:
        opt.zero_grad()
        out = model(x)
        {before}
        F.cross_entropy(out, y, label_smoothing=0.1).backward()
        opt.step()
        {after}
    print(f"Epoch {{epoch + 1}}: loss {{total / len(loader):.4f}}")
"""


@pytest.mark.parametrize("before, after", [
    ("with torch.no_grad(): total += F.cross_entropy(out, y).item()", "pass"),
    ("pass", "total += F.cross_entropy(out.detach(), y).item()"),
    ("pass", "with torch.inference_mode(): total += F.cross_entropy(model(x), y).item()"),
], ids=["no_grad_before_backward", "detached_after_step", "inference_mode_after_step"])
def test_a_logged_loss_beside_a_different_trained_one_is_the_printed_loss(grader, tmp_path, before, after):
    rep = grader.grade(write(tmp_path, MONITORED.format(before=before, after=after)))
    out = rep.check("prints_loss_each_epoch")
    assert out.passed and "mean" in out.message, out.message


@pytest.fixture
def quick(grader):
    # 12 s of CPU on one torch thread, counted from the submission's first line: the soft timeout must find a
    # network trained (8 s, when torch's import was still charged, failed once in a full run with a cold venv)
    grader.limits = grader.limits.model_copy(update={"timeout_s": 12, "grace_s": 10})
    yield grader
    grader.limits = TINY.limits


def test_endless_loop_times_out_keeping_the_trace_so_far(quick, tmp_path):
    rep = quick.grade(write(tmp_path, loop(epochs=2) + "\nwhile True:\n    pass\n"))
    assert rep.status == Status.timeout
    assert "s of CPU time without finishing" in rep.check("runs").message
    # a hang after training is the run's fault alone: each of the 2 epochs it trained printed its loss
    assert rep.training.epochs == 2 and rep.check("prints_loss_each_epoch").passed

def test_soft_timeout_still_exports_what_was_trained(quick, tmp_path):
    rep = quick.grade(write(tmp_path, loop(epochs=10_000)))
    assert rep.status == Status.timeout
    assert rep.check("architecture").passed and rep.check("zero_grad").passed
    assert rep.check("learns").passed  # the model was exported after the deadline stopped it
    assert rep.training.epochs > 2


def test_the_budget_starts_at_the_submissions_first_line(grader, tmp_path):
    # torch's import alone takes more than this budget's 1 s of CPU in a cold harness; a warm worker's fork
    # never pays it, so a cold start must not charge it either, or check and grade would disagree
    grader.limits = grader.limits.model_copy(update={"timeout_s": 1, "grace_s": 10})
    try:
        rep = grader.grade(write(tmp_path, "import time\nt = time.process_time()\n"
                                           "while time.process_time() - t < 0.4:\n    pass\nprint('done')\n"))
        endless = grader.grade(write(tmp_path, "while True:\n    pass\n", "endless.py"))
    finally:
        grader.limits = TINY.limits
    assert rep.status == Status.graded and rep.check("runs").passed, rep.check("runs").message
    assert endless.status == Status.timeout
    assert endless.check("runs").evidence["cpu_s"] < 3  # its own CPU: the harness's start is not in it


def test_only_the_harness_s_first_run_start_sets_what_is_not_charged():
    from grader.harness.supervisor import TraceReader

    reader = TraceReader("k", lambda event, payload=b"": None)
    lines = [{"e": "run_start", "cpu_s": 2.5}, {"e": "run_start", "cpu_s": 1e5}]  # the second: the submission's
    reader.feed(b"".join(json.dumps({**e, "k": "k", "i": i}).encode() + b"\n" for i, e in enumerate(lines, 1)))
    assert reader.setup_cpu_s == 2.5
    for forged in ({"cpu_s": "9"}, {"cpu_s": -1.0}, {}):
        reader = TraceReader("k", lambda event, payload=b"": None)
        reader.feed(json.dumps({"e": "run_start", **forged, "k": "k", "i": 1}).encode() + b"\n")
        assert reader.setup_cpu_s == 0.0
    assert TraceReader("k", lambda event, payload=b"": None).setup_cpu_s is None  # not started: the budget is not running


def _frame_called_through(*files):
    """The innermost frame of a chain of calls, outermost first, each made by code compiled as if from `files`."""
    call = lambda: sys._getframe(1)  # noqa: E731 - the frame of whoever calls it
    for name in reversed(files):
        scope = {}
        exec(compile("def step(nxt):\n    return nxt()\n", name, "exec"), scope)
        call = functools.partial(scope["step"], call)
    return call()


@pytest.fixture
def deadline(monkeypatch):
    """The harness's soft-deadline handler, with a submission script of its own."""
    from grader.harness import __main__ as harness

    monkeypatch.setitem(harness._deadline, "script", "/work/project/src/student.py")
    monkeypatch.setitem(harness._deadline, "deferred", 0)
    before = signal.getsignal(signal.SIGUSR1)
    yield harness
    signal.signal(signal.SIGUSR1, before)


def test_the_deadline_waits_while_the_harness_is_writing(deadline):
    student, torch_file = deadline._deadline["script"], torch.__file__
    recorder = deadline.HARNESS_DIR + "recorder.py"
    # the student's loop called into the harness (a trace event half-written): the signal is deferred...
    for chain in [(student, recorder), (student, torch_file, recorder)]:
        assert deadline._on_deadline(signal.SIGUSR1, _frame_called_through(*chain)) is None
    assert deadline._deadline["deferred"] == 2
    # ...but it stops the student's own code, and what torch runs for it, at once
    for chain in [(student,), (student, torch_file), (recorder, student), (recorder, student, torch_file)]:
        with pytest.raises(deadline.GraderTimeout):
            deadline._on_deadline(signal.SIGUSR1, _frame_called_through(*chain))
    # and a submission that keeps the harness busy cannot put its deadline off for ever
    deadline._deadline["deferred"] = deadline.MAX_DEFERRALS
    with pytest.raises(deadline.GraderTimeout):
        deadline._on_deadline(signal.SIGUSR1, _frame_called_through(student, recorder))


@pytest.mark.parametrize("ending", ["os._exit(0)", "time.sleep(1); os.kill(os.getpid(), signal.SIGKILL)"])
def test_a_run_that_ends_outright_keeps_its_whole_trace(grader, tmp_path, ending):
    # events go out in batches: os._exit writes the last one first, and a timer writes what waits (a run
    # killed outright keeps everything but its last 0.1 s)
    rep = grader.grade(write(tmp_path, "import os, signal, time\n" + loop(epochs=3) + ending + "\n"))
    assert rep.status == Status.runtime_error and "runs" in failed(rep)
    assert rep.training.epochs == 3 and rep.check("zero_grad").passed
    assert rep.check("prints_loss_each_epoch").points == 3  # all 3 lines were seen, as 3 of 10 epochs


def test_printing_a_fake_report_changes_nothing(grader, tmp_path):
    forged = {"ch": "trace", "ev": {"e": "step", "i": 1, "opt": 1, "changed": True}}
    rep = grader.grade(write(tmp_path, f"""
        import json, sys
        print({json.dumps(json.dumps(forged))})
        print(json.dumps({{"score": 100, "max_score": 100, "status": "graded"}}))
        sys.stderr.write({json.dumps(json.dumps({"ch": "sup", "exit": 0}))} + "\\n")
        open("report.json", "w").write('{{"score": 100}}')
    """))
    assert rep.status == Status.graded and failed(rep) == set(TINY.points.model_dump()) - {"runs"}
    assert rep.score == TINY.points.runs  # it ran, and earned nothing else
    assert "optimizer" in failed(rep) and "no torch.optim optimizer" in rep.check("optimizer").message


def test_output_is_capped_but_counted(grader, tmp_path):
    grader.limits = grader.limits.model_copy(update={"output_bytes": 10_000})
    try:
        rep = grader.grade(write(tmp_path, "for i in range(20000):\n    print('x' * 99)\nprint('the end')\n"))
    finally:
        grader.limits = TINY.limits
    assert rep.output.total_bytes == 20000 * 100 + 8 and rep.output.truncated
    assert rep.output.stdout_tail.rstrip().endswith("the end")
    assert any("2,000,008 bytes" in w for w in rep.warnings)


def test_notebook_runs_with_display(grader, tmp_path):
    cells = [{"cell_type": "code", "source": "!pip install torch\n" + loop()},
             {"cell_type": "code", "source": "display(model)\nraise RuntimeError('late')"}]
    rep = grader.grade(write(tmp_path, json.dumps({"nbformat": 4, "cells": cells}), "hw.ipynb"))
    assert rep.status == Status.runtime_error and "cell 2, line 2" in rep.check("runs").message
    assert "Sequential(" in rep.output.stdout_tail and failed(rep) == {"runs"}
    assert any("!pip install torch" in w for w in rep.warnings)


# ---------------------------------------------------------------- judged by what the program computed
FUNCTIONAL = HEADER + """
import os, sys
train = datasets.MNIST(root="data", train=True, transform=tf, download=True)
loader = torch.utils.data.DataLoader(train, batch_size=32, shuffle=True)
fc1, fc2, fc3 = nn.Linear(784, 32), nn.Linear(32, 16), nn.Linear(16, 10)
def forward(x):  # bare modules from a plain function, ReLU spelled two other ways
    h = fc1(x.view(-1, 784)).clamp(min=0)
    h = fc2(h)
    return fc3(torch.where(h > 0, h, 0))
forward(torch.randn(2, 784))  # a sanity call on noise must not fool the preprocessing
opt = torch.optim.Adam(list(fc1.parameters()) + list(fc2.parameters()) + list(fc3.parameters()), lr=0.01)
for epoch in range(10):
    total = 0.0
    for x, y in loader:
        opt.zero_grad()
        loss = F.cross_entropy(forward(x + 0.05 * torch.randn_like(x)), y)
        loss.backward()
        opt.step()
        total += loss.item()
    os.write(1, f"epoch {epoch + 1} loss {total / len(loader):.4f}\\n".encode())
os.makedirs(os.path.join(os.path.dirname(__file__), "..", "models"), exist_ok=True)
torch.save(fc1.state_dict(), os.path.join(os.path.dirname(__file__), "..", "models", "best.pt"))
"""


def test_a_network_in_any_spelling_is_judged_by_what_it_computes(grader, tmp_path):
    rep = grader.grade(write(tmp_path, FUNCTIONAL))
    assert failed(rep) == set(), {c.id: c.message for c in rep.checks if not c.passed}
    assert rep.check("architecture").evidence["layers"] == "784 → 32 → 16 → 10"
    assert rep.check("learns").evidence["preprocessing"]["scale"] == pytest.approx(2.0, abs=0.05)


@pytest.mark.parametrize("change, check, fragment", [
    ("torch.optim.SGD.step(opt)", "optimizer", "the way Adam's update rule does"),  # SGD's rule on the Adam object
    ("opt.step()\n        with torch.no_grad():\n            [p.sub_(0.05 * p.grad) for p in model.parameters()]",
     "optimizer", "something other than the optimizer"),
    ("loss.backward(); opt.zero_grad(); opt.step()", "zero_grad", "between loss.backward() and optimizer.step()"),
])
def test_cheats_and_misplaced_zero_grad_are_judged_by_effect(grader, tmp_path, change, check, fragment):
    source = loop().replace("        opt.step()", "        " + change.replace("loss.backward(); ", ""))
    if "torch.optim.SGD.step" in change:
        source = source.replace("opt = torch.optim.Adam(model.parameters(), lr=0.01)",
                                "opt = torch.optim.Adam(model.parameters(), lr=0.01)\n"
                                "for g in opt.param_groups: g.update(momentum=0, dampening=0, nesterov=False)\n"
                                "opt._init_group = torch.optim.SGD._init_group.__get__(opt)")
        source = source.replace("        opt.step()", "        torch.optim.SGD.step(opt)")
    if "something other" in fragment:
        source = source.replace("lr=0.01)", "lr=0.0)")
    rep = grader.grade(write(tmp_path, source))
    assert check in failed(rep) and fragment in rep.check(check).message, rep.check(check).message
    if check == "zero_grad":
        assert rep.check("optimizer").passed, rep.check("optimizer").message


def test_patching_the_grader_by_name_changes_nothing(grader, tmp_path):
    patch = ("import sys\n[setattr(m, 'REAL_ADAM', torch.optim.SGD) for n, m in list(sys.modules.items()) "
             "if n.startswith('grader')]\n")
    rep = grader.grade(write(tmp_path, patch + loop(opt="torch.optim.SGD(model.parameters(), lr=0.1)")))
    assert "optimizer" in failed(rep) and "SGD" in rep.check("optimizer").message


def test_cross_entropy_must_carry_the_gradient(grader, tmp_path):
    source = loop().replace("loss = crit(model(x), y)",
                            "out = model(x)\n        loss = F.mse_loss(out.softmax(1), F.one_hot(y, 10).float())"
                            " + 0.0 * crit(out, y)")
    rep = grader.grade(write(tmp_path, source))
    assert "loss" in failed(rep) and "carries only 0.0%" in rep.check("loss").message
