"""`grader doctor`: an instructor's set-up checked end to end (sandbox, data, one real grading of the
reference solution), each failure with its fix. The Gradescope bundle's setup.sh and the PrairieLearn image
run it while they are built, so a broken image fails then, not at the first student's submission.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader import data, reference, sandbox
from grader.report import Status


@dataclass
class Finding:
    name: str
    ok: bool
    detail: str
    fix: str | None = None


def check_sandbox(kind: str, image: str) -> Finding:
    """Which backend `kind` gives here; for auto, why the others cannot run."""
    settings = sandbox.Settings(image=image)
    try:
        backend = sandbox.select(kind, settings)
    except sandbox.SandboxUnavailable as exc:
        return Finding("sandbox", False, str(exc), fix=(
            "process: install bubblewrap and allow unprivileged user namespaces (an unprivileged container's "
            "seccomp profile forbids them: inside an LMS's container pass --sandbox none, the container being "
            "the isolation); docker: start the engine and run `grader image build`"))
    why_not = {name: _why_not(name, settings) for name in ("docker", "process") if name != backend.name}
    notes = [f"{name} unavailable: {str(exc).split(': ', 1)[-1]}" for name, exc in why_not.items() if exc]
    detail = f"{kind} -> {backend.name}" + (f" ({'; '.join(notes)})" if kind == "auto" and notes else "")
    return Finding("sandbox", True, detail)


def _why_not(kind: str, settings: sandbox.Settings) -> Exception | None:
    try:
        sandbox.select(kind, settings)
    except sandbox.SandboxUnavailable as exc:
        return exc
    return None


def check_data(data_dir: Path | None) -> Finding:
    folder = data.resolve_dir(data_dir)
    st = data.status(folder, hashes=True)
    if st.ok:
        return Finding("data", True, f"MNIST in {folder}, sha256 verified")
    return Finding("data", False, "; ".join(st.problems), fix=data.fix_command(folder))


def check_reference(grader, solution: Path) -> Finding:
    """One real grading, in the sandbox, of a solution that must earn full marks."""
    if not solution.is_file():
        return Finding("reference grading", False, f"{solution} not found",
                       fix="pass --reference FILE: a solution that earns full marks")
    rep = grader.grade(solution)
    detail = f"{solution.name}: {rep.score:g}/{rep.max_score:g}, {rep.status.value}, {rep.timings.total_s:.1f} s"
    if rep.status == Status.graded and rep.all_passed:
        return Finding("reference grading", True, detail)
    failed = "; ".join(f"{c.id}: {c.message}" for c in rep.checks if not c.passed) or rep.message
    return Finding("reference grading", False, f"{detail}: {failed}", fix=(
        "a full-marks solution that does not get full marks here means this machine cannot grade fairly: "
        "give the sandbox more memory or time (the rubric's [limits]), or read the report: "
        f"grader check {solution} --json"))


def default_reference() -> Path:
    return reference.REFERENCE
