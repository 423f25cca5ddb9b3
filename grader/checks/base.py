"""What every check shares: the context it reads (trace, static facts, rubric, evaluation) and its outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from grader.rubric import Rubric
from grader.static import StaticFacts
from grader.trace import Epoch, Trace


@dataclass
class Evaluation:
    accuracy: float | None = None
    examples: int | None = None
    seconds: float | None = None
    error: str | None = None
    confusion: list[list[int]] | None = None  # [true digit][predicted digit], for the pictures


@dataclass
class Verification:
    """What the host found replaying the steps the harness wrote down (grader/replay.py): the trace is only
    trusted when every replayed step is consistent with real training on the served data."""

    steps: list[dict] = field(default_factory=list)  # per replayed step: opt, n, backward, adam (bool), moved, ...
    problems: list[str] = field(default_factory=list)  # inconsistencies: the trace cannot be trusted
    notes: list[str] = field(default_factory=list)  # what could not be checked, and why
    losses: dict[int, float] = field(default_factory=dict)  # backward number -> the loss the host recomputed
    unverified: str | None = None  # why no step could be replayed at all, where nothing contradicts the trace

    @property
    def failed(self) -> bool:
        return bool(self.problems)

    @property
    def available(self) -> bool:
        return bool(self.steps)

    def of(self, opt: int) -> list[dict]:
        return [s for s in self.steps if s.get("opt") == opt]

    def doubt(self) -> str | None:
        """Why the recorded training cannot be trusted, or None."""
        return "; ".join(self.problems[:3]) or None


@dataclass
class Outcome:
    passed: bool
    message: str
    hint: str | None = None
    evidence: dict = field(default_factory=dict)
    # share of the check's points earned when it did not pass (0..1); the rubric's policy.partial_credit
    # decides whether grade.py pays it
    credit: float = 0.0
    # the failure may be an artifact of the shortened run (a print cadence longer than a shortened epoch):
    # confirm on a full-size run before failing; the reason says what was seen
    shortening_sensitive: bool = False
    shortening_reason: str | None = None


@dataclass
class Context:
    trace: Trace
    facts: StaticFacts
    rubric: Rubric
    evaluation: Evaluation | None = None
    # the host's replay of recorded steps; None only where no run was observed (tests of the pure rules)
    verification: Verification | None = None
    where: Callable[[int | None], str] = lambda n: f"line {n}" if n else "an unknown line"
    limits: dict = field(default_factory=dict)
    oom: bool = False  # the sandbox (container or cgroup) says the memory limit killed the run

    def __post_init__(self):
        self.epochs: list[Epoch] = self.trace.epochs()
        self.complete = [e for e in self.epochs if e.complete]

    def fact_hint(self, kind: str, describe: Callable, suspect: Callable = lambda f: True) -> str | None:
        """Describe the static fact of this kind that best explains a failure (a suspect one first)."""
        facts = sorted(self.facts.of(kind), key=lambda f: not suspect(f))
        return describe(facts[0]) if facts else None


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}{'es' if word.endswith('s') else 's'}"


