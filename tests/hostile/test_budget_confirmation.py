"""Issues 15 (class 4) and 16: no path through the grader costs a file more than its stated budgets.

The full-size confirmation run gets at most CONFIRM_CPU_MULTIPLE times the short run's CPU budget and only
what the short run left of the file's one wall-clock backstop; a timeout never asks for it."""

import time
from pathlib import Path

import pytest
from test_sandbox import hostile
from grader.grade import CONFIRM_CPU_MULTIPLE, confirmation_limits
from grader.report import Status
from grader.rubric import Limits

REFERENCE = (Path(__file__).resolve().parents[2] / "reference" / "solution.py").read_text()
MARGIN_S = 30  # sandbox start-up and clean-up, the evaluator: outside the budgets, a few seconds each


def test_a_hang_costs_the_budget_once(short, tmp_path):
    # one epoch whose loss a shortened epoch never prints (which alone asks for a full-size run), then a
    # spin that ignores SIGTERM: before the fix it was graded again on 60,000 images with 20x the budget
    lim = short.limits
    started = time.monotonic()
    rep = short.grade(hostile(tmp_path, "budget_hang"))
    elapsed = time.monotonic() - started
    assert rep.status == Status.timeout and rep.training.run == "shortened"
    assert not any("full-size" in w for w in rep.warnings), rep.warnings
    # one run's budget: its CPU time, or on a machine too busy to give it that, its wall-clock backstop
    assert elapsed < lim.timeout_s * lim.wall_factor + lim.grace_s + MARGIN_S, elapsed
    runs = rep.check("runs").evidence
    assert runs["cpu_s"] < runs["cpu_limit_s"] + lim.grace_s  # its CPU: the budget, then the export in the grace


def test_a_requested_confirmation_run_shares_the_file_s_wall_clock_backstop(short, tmp_path):
    # crashes at once naming the served size (asks for the full-size run), then sleeps there: before the fix
    # that run had 20x the CPU budget and 6x that on the wall clock (30 minutes at this budget)
    short.limits = short.limits.model_copy(update={"timeout_s": 5, "grace_s": 5})
    lim = short.limits
    started = time.monotonic()
    rep = short.grade(hostile(tmp_path, "budget_confirm_sleep", sleep=10**6, reference=REFERENCE))
    elapsed = time.monotonic() - started
    assert rep.status == Status.runtime_error and rep.training.run == "shortened"  # the short run's verdict stands
    assert "did not finish within its budget" in rep.warnings[0], rep.warnings
    assert elapsed < lim.timeout_s * lim.wall_factor + 2 * lim.grace_s + 2 * MARGIN_S, elapsed


def test_a_sleeper_holds_its_slot_no_longer_than_the_wall_clock_backstop(short, tmp_path):
    short.limits = short.limits.model_copy(update={"timeout_s": 3, "grace_s": 5})
    lim = short.limits
    path = tmp_path / "sleeper.py"
    path.write_text("import time\nprint('sleeping')\ntime.sleep(10**6)\n")
    started = time.monotonic()
    rep = short.grade(path)
    elapsed = time.monotonic() - started
    assert rep.status == Status.timeout and "wall-clock backstop" in rep.check("runs").message
    assert elapsed < lim.timeout_s * lim.wall_factor + lim.grace_s + MARGIN_S, elapsed


def test_a_confirmation_run_costs_at_most_the_stated_multiple_and_what_is_left_of_the_wall_clock():
    lim = Limits()
    wall = lim.timeout_s * lim.wall_factor
    full = confirmation_limits(lim, 3000, short_wall_s=20)  # 20x the data: capped
    assert full.timeout_s == CONFIRM_CPU_MULTIPLE * lim.timeout_s
    assert full.timeout_s * full.wall_factor == pytest.approx(wall - 20)  # the file's one backstop, shared
    assert confirmation_limits(lim, 50000, 20).timeout_s == pytest.approx(lim.timeout_s * 1.2)  # scaled, under the cap
    assert confirmation_limits(lim, 3000, short_wall_s=wall - lim.timeout_s / 2) is None  # nothing worth starting
