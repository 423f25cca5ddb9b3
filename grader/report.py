"""The score report: the one contract between grading and every output format (text, JSON, LMS adapters).

Check ids are public: LMS integrations key on them. Add fields freely; renaming or removing one is a
schema_version bump.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from grader import __version__

SCHEMA_VERSION = "1.1"  # 1.1: curve, reference_curve, source, per-digit accuracy (1.0 reports still load)

CheckId = Literal["runs", "architecture", "loss", "optimizer", "epochs", "prints_loss_each_epoch", "zero_grad", "learns"]
CHECK_IDS: tuple[str, ...] = CheckId.__args__  # type: ignore[attr-defined]


class Status(str, Enum):
    graded = "graded"
    syntax_error = "syntax_error"
    import_error = "import_error"
    runtime_error = "runtime_error"
    timeout = "timeout"
    memory_limit = "memory_limit"
    invalid_submission = "invalid_submission"
    internal_error = "internal_error"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Every free-text field and list a submission can fill is capped where the report is built, so that a report
# (and the student page and the store made from it) stays small whatever the program printed or forged.
TEXT_CHARS = 2000  # a message, hint or warning
NAME_CHARS = 1000  # a file name or path, an id
EVIDENCE_CHARS = 500  # a string inside a check's evidence
MAX_ITEMS = 50  # items of a list (or keys of a dict) kept in evidence, warnings, older attempts
MAX_NUMBERS = 1000  # numbers of a per-epoch list (epoch losses, epoch starts): more epochs than any run needs
OUTPUT_CHARS = 70_000  # the output tail (the grader keeps 64 KiB of it)
SOURCE_CHARS = 200_000


def clip(text: str | None, limit: int) -> str | None:
    """`text`, cut to `limit` characters with a note of how much was left out."""
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def clip_list(items: list, limit: int = MAX_ITEMS) -> list:
    return items if len(items) <= limit else [*items[:limit], f"… and {len(items) - limit:,} more"]


def clip_evidence(value: Any, depth: int = 0) -> Any:
    """Evidence, with every string, list and dict inside it capped (nesting too)."""
    if isinstance(value, str):
        return clip(value, EVIDENCE_CHARS)
    if depth > 8 and isinstance(value, (list, tuple, dict)):
        return "…"
    if isinstance(value, (list, tuple)):
        kept = [clip_evidence(v, depth + 1) for v in value[:MAX_ITEMS]]
        return kept if len(value) <= MAX_ITEMS else [*kept, f"… and {len(value) - MAX_ITEMS:,} more"]
    if isinstance(value, dict):
        kept = {clip(str(k), EVIDENCE_CHARS): clip_evidence(v, depth + 1) for k, v in list(value.items())[:MAX_ITEMS]}
        if len(value) > MAX_ITEMS:
            kept["…"] = f"and {len(value) - MAX_ITEMS:,} more"
        return kept
    return value


class SubmissionInfo(_Model):
    path: str
    name: str
    sha256: str | None = None
    kind: Literal["python", "notebook", "unknown"] = "unknown"
    size_bytes: int | None = None

    _names = field_validator("path", "name")(lambda v: clip(v, NAME_CHARS))


class CheckResult(_Model):
    id: CheckId
    title: str
    passed: bool
    points: float
    max_points: float
    message: str
    hint: str | None = None
    evidence: dict[str, Any] = Field(default_factory=dict)

    _texts = field_validator("title", "message", "hint")(lambda v: clip(v, TEXT_CHARS))
    _evidence = field_validator("evidence")(lambda v: clip_evidence(v))


class Training(_Model):
    epochs: int | None = Field(None, description="complete passes over the training data that the grader observed")
    batches_per_epoch: int | None = None
    epoch_losses: list[float] = Field(default_factory=list, description="mean training loss of each observed epoch")
    train_examples: int | None = Field(None, description="size of the training subset served to the submission")
    examples_trained: int | None = Field(None, description="examples that went through a back-propagated loss")
    accuracy: float | None = Field(None, description="accuracy on the held-out MNIST test set")
    eval_examples: int | None = None
    device: str | None = None
    seed: int | None = None
    run: Literal["shortened", "full"] = Field("shortened", description="which run decided the verdict: the "
                                              "shortened one, or a full-size confirmation run")
    per_digit_accuracy: list[float | None] = Field(default_factory=list,
                                                   description="held-out accuracy of each digit 0-9")
    confusion: list[list[int]] = Field(default_factory=list,
                                       description="held-out confusion matrix: confusion[true digit][predicted digit]")

    _per_epoch = field_validator("epoch_losses")(lambda v: v[:MAX_NUMBERS])
    _device = field_validator("device")(lambda v: clip(v, NAME_CHARS))


class Timings(_Model):
    total_s: float = 0.0
    sandbox_s: float | None = Field(None, description="sandbox start to trace back")
    import_s: float | None = None
    submission_s: float | None = None
    export_s: float | None = None
    evaluate_s: float | None = None


class Environment(_Model):
    grader: str = __version__
    python: str | None = None
    torch: str | None = None
    torchvision: str | None = None
    device: str | None = None
    node: str | None = Field(None, description="the cluster node that graded it (host name and Ray node id); "
                                               "absent when this machine did")

    _names = field_validator("grader", "python", "torch", "torchvision", "device", "node")(lambda v: clip(v, NAME_CHARS))


class Output(_Model):
    stdout_tail: str = Field("", description="the submission's stdout and stderr, interleaved, last lines")
    truncated: bool = False
    total_bytes: int = 0

    _tail = field_validator("stdout_tail")(lambda v: v if len(v) <= OUTPUT_CHARS else v[-OUTPUT_CHARS:])


class LossCurve(_Model):
    """The training loss at each backward pass ("step"), as the pictures draw it. Long runs are bucketed:
    each point then stands for `per_point` steps, with their min and max in `low`/`high`."""

    steps: int = Field(description="backward passes recorded")
    per_point: int = Field(1, description="steps per point; 1 means every step is kept")
    mean: list[float | None] = Field(description="loss per point (null: not a finite number)")
    low: list[float | None] = Field(default_factory=list, description="min per bucket (only when per_point > 1)")
    high: list[float | None] = Field(default_factory=list, description="max per bucket (only when per_point > 1)")
    epoch_starts: list[int] = Field(default_factory=list, description="step index (0-based) where each epoch began")

    _starts = field_validator("epoch_starts")(lambda v: v[:MAX_NUMBERS])


class ReferenceCurve(_Model):
    """The reference solution's loss on the same subset, seed and rubric, as a band (min/max per bucket)."""

    digest: str = Field(description="rubric, grader version, seed, device and data it was computed for")
    steps: int
    per_point: int
    low: list[float]
    mean: list[float]
    high: list[float]
    epoch_starts: list[int] = Field(default_factory=list)
    accuracy: float | None = None

    _starts = field_validator("epoch_starts")(lambda v: v[:MAX_NUMBERS])


class Source(_Model):
    """The script that ran (notebooks: their code cells, in order), kept so pages can show the lines that
    checks point at without the file at hand."""

    text: str
    truncated: bool = False
    cell_starts: list[tuple[int, int]] = Field(default_factory=list,
                                               description="(script line, notebook cell) where each code cell begins")

    _text = field_validator("text")(lambda v: clip(v, SOURCE_CHARS))


class Sandbox(_Model):
    backend: str
    isolated: bool
    limits: dict[str, Any] = Field(default_factory=dict, description="the limits this backend enforced")


class Student(_Model):
    """Who handed the submission in, as the batch found it in an LMS export or a folder (batch reports only)."""

    id: str = Field(description="the id the LMS knows the student by (Canvas user id, Moodle participant id, "
                                "Blackboard username, Gradescope sid, GitHub username), else the file or folder name")
    name: str | None = None
    source: str | None = Field(None, description="canvas, moodle, blackboard, gradescope, github-classroom, folder, file")
    file: str | None = Field(None, description="where the graded file was found, e.g. export.zip:bob_12_34_hw.py")
    older_attempts: list[str] = Field(default_factory=list, description="earlier attempts found and not graded")

    _names = field_validator("id", "name", "source", "file")(lambda v: clip(v, NAME_CHARS))
    _older = field_validator("older_attempts")(lambda v: clip_list([clip(a, NAME_CHARS) for a in v]))


class Report(_Model):
    schema_version: str = SCHEMA_VERSION
    grader_version: str = __version__
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    submission: SubmissionInfo
    status: Status
    message: str = Field(description="one sentence on what happened")
    score: float
    max_score: float
    checks: list[CheckResult] = Field(default_factory=list)
    training: Training = Field(default_factory=Training)
    timings: Timings = Field(default_factory=Timings)
    environment: Environment = Field(default_factory=Environment)
    output: Output = Field(default_factory=Output)
    sandbox: Sandbox | None = None
    warnings: list[str] = Field(default_factory=list)
    curve: LossCurve | None = None
    reference_curve: ReferenceCurve | None = None
    source: Source | None = None
    rubric_digest: str | None = Field(None, description="digest of the rubric (with --seed/--timeout applied) "
                                                        "this report was graded under")
    student: Student | None = None

    _message = field_validator("message")(lambda v: clip(v, TEXT_CHARS))
    _warnings = field_validator("warnings")(lambda v: clip_list([clip(w, TEXT_CHARS) for w in v]))

    @property
    def all_passed(self) -> bool:
        return self.status == Status.graded and bool(self.checks) and all(c.passed for c in self.checks)

    def check(self, check_id: str) -> CheckResult:
        return next(c for c in self.checks if c.id == check_id)


def json_schema() -> dict:
    return Report.model_json_schema()
