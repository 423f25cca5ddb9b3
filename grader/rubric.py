"""What is graded and how much it is worth; defaults measured on the reference (see README, "Rubric")."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Points(_Model):
    runs: float = 10
    architecture: float = 15
    loss: float = 15
    optimizer: float = 15
    epochs: float = 10
    prints_loss_each_epoch: float = 10
    zero_grad: float = 15
    learns: float = 10


class Limits(_Model):
    """Per-submission sandbox limits, sized so two jobs at once fit a 2-core, 24 GiB machine with room to spare."""

    timeout_s: float = Field(90, gt=0, description="CPU seconds the submission may use from its first line (its "
                                                   "own imports included, not the grader's start): CPU time, so a "
                                                   "busy machine never times out a correct program")
    wall_factor: float = Field(6, ge=1, description="wall-clock backstop: timeout_s times this")
    grace_s: float = Field(20, ge=0, description="after the timeout: time to export what was trained")
    memory_mb: int = Field(3072, ge=512, description="RAM (no swap); the harness alone uses ~900 MB")
    cpus: float | None = Field(None, gt=0, description="CPU cores; default: the machine's cores (÷ parallel jobs)")
    pids: int = Field(256, ge=16, description="processes and threads")
    output_bytes: int = Field(1_000_000, ge=1024, description="submission output kept (stdout+stderr)")
    tmpfs_mb: int = Field(512, ge=16, description="size of the writable working dir and /tmp")
    file_size_mb: int = Field(256, ge=1, description="largest file the submission may write")
    open_files: int = Field(1024, ge=64)


class Policy(_Model):
    """How observations become points where a check is about every epoch, and how often printing is fine.

    partial_credit: "proportional" (default): `prints_loss_each_epoch` earns points × (epochs that printed
    their loss properly) / (the epochs it trained), or, for a run cut off inside its training, / (the larger of
    the required epochs and the epochs that ran), so a program that crashes in epoch 2 of 10 earns at most a
    tenth (a program whose training ended passes when every epoch it trained printed, however many: the count
    is `epochs`' fault, charged there once); "none": all or nothing. Other checks are all or nothing.
    max_reports_per_batch: printing cadence. More loss reports in an epoch than this share of its batches
    (and more than 3) is printing on (nearly) every batch, which fails `prints_loss_each_epoch`; a progress
    bar redrawn in place is one report. None: no limit.
    evidence: printed numbers must be precise enough that matching a loss by luck in every epoch that counts
    is less likely than this (see README, "What is graded").
    """

    partial_credit: Literal["proportional", "none"] = "proportional"
    max_reports_per_batch: float | None = Field(0.5, gt=0, description="reports per batch that count as every batch")
    evidence: float = Field(1e-3, gt=0, lt=1, description="largest chance that the printed numbers match by luck")


class Rubric(_Model):
    points: Points = Field(default_factory=Points)
    epochs: int = Field(10, ge=1, description="required passes over the training data")
    train_examples: int = Field(3000, ge=64, le=59000, description="size of the training subset (the shortened run)")
    eval_examples: int = Field(1000, ge=0, le=10000, description="size of the train=False slice handed to the submission")
    accuracy_threshold: float = Field(0.80, ge=0, le=1, description="held-out accuracy needed by `learns`")
    seed: int = 0
    limits: Limits = Field(default_factory=Limits)
    policy: Policy = Field(default_factory=Policy)

    @model_validator(mode="after")
    def _fits_in_mnist(self):
        if self.train_examples + self.eval_examples > 60000:
            raise ValueError("train_examples + eval_examples must fit in MNIST's 60000 training images")
        return self

    @property
    def max_score(self) -> float:
        return sum(self.points.model_dump().values())


class RubricError(ValueError):
    pass


def load(path: Path | None) -> Rubric:
    if path is None:
        return Rubric()
    try:
        with open(path, "rb") as fh:
            return Rubric.model_validate(tomllib.load(fh))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RubricError(f"cannot read rubric {path}: {exc}") from exc
    except ValidationError as exc:
        raise RubricError(f"invalid rubric {path}:\n{exc}") from exc


def digest(rubric: Rubric, seed: int | None = None, timeout_s: float | None = None) -> str:
    """A short fingerprint of everything a verdict depends on: the rubric with the command line's overrides."""
    effective = rubric.model_copy(deep=True)
    if seed is not None:
        effective.seed = seed
    if timeout_s is not None:
        effective.limits.timeout_s = timeout_s
    blob = json.dumps(effective.model_dump(mode="json"), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
