"""The replay of the steps the harness wrote down (harness/evidence.py): judgement outside the sandbox.

Everything in the harness's interpreter is reachable by the submission, so the trace is a claim, not a fact.
The harness writes a few optimizer steps down whole (the step's computation as allowlisted torch calls, the
input batch, the parameters before and after, the gradients, Adam's state and hyper-parameters). After the run
the host plans (here, without torch): it picks which records to replay (always the first, the others at random,
with a secret the sandbox never saw) and checks each sits where the trace says its step happened, and that every
step the harness would have written down is there. The held-out evaluator's sandbox, where torch is already
imported and nothing of the submission runs but data (grader/replayer.py), recomputes each chosen step:
  - the batch: every row is one of the images this run served (the seeded subset), and the labels the loss was
    given are those images' labels;
  - the loss: the program, replayed with the recorded parameters on that batch (the host compares it with the
    value the trace's backward() recorded), unless the step is random (dropout);
  - the gradients: autograd's, where that one backward() alone filled them (not accumulation);
  - the update: torch.optim.Adam itself, run on copies with the recorded state and hyper-parameters, moves
    the parameters where they went (a different rule is a finding about the optimizer, not a forgery).
Then the host concludes. A record that fails any of these, or a replay that could not be done, makes the whole
trace untrustworthy (Verification.problems). Costs, on the reference (109,386 parameters, batches of 64): a few
records, a few milliseconds each to replay.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field

from grader.checks.base import Verification
from grader.harness import recorder, recording
from grader.replayer import Bad
from grader.trace import Trace

MAX_REPLAYED = 6  # records replayed per run: the first, and up to five more chosen at random
LOSS_RTOL, LOSS_ATOL = 1e-4, 1e-5
STEP_KEYS = {"opt", "n", "backward", "replayed", "loss", "outside", "adam", "moved", "grads_zero"}


@dataclass
class Plan:
    """What the host asks the replayer (grader/replayer.py), and what it needs to judge the answer."""

    verification: Verification
    work: list[dict] = field(default_factory=list)  # {"record", "sole": did its backward() alone fill the grads}
    # per work item: (whether its place in the trace is known, the loss the trace says its backward() gave)
    recorded: list[tuple] = field(default_factory=list)
    unwritten: list[dict] = field(default_factory=list)  # records claiming a network too large to write down

    def request(self) -> dict:
        """The replayer's request: the records, and whether the exported network's size must be counted."""
        return {"work": self.work, "count_parameters": bool(self.unwritten)}


def expected_backwards(trace: Trace) -> list[int]:
    """The backward() numbers whose step the harness writes down: the first step after each tape window
    (recording.WINDOWS) ends, where the trace shows such a step and training went on after it (a run killed
    outright just after that step may not have written its record)."""
    order = [e for e in trace.events if e.get("e") in ("backward", "step")]
    count, want, stepped = 0, [], []
    pending = None
    for e in order:
        if e["e"] == "backward":
            count += 1
            want += stepped
            stepped = []
            if count - 1 in recording.WINDOWS and pending is None:
                pending = count
        elif pending is not None:
            stepped.append(pending)
            pending = None
    return want + (stepped if trace.end is not None else [])


def choose(records: list[dict], rng=None) -> list[dict]:
    """The records to replay: the first, and a secret random choice of the others."""
    rng = rng or secrets.SystemRandom()
    if len(records) <= MAX_REPLAYED:
        return list(records)
    rest = rng.sample(records[1:], MAX_REPLAYED - 1)
    return [records[0]] + sorted(rest, key=lambda r: r["i"])


def plan(trace: Trace, rng=None) -> Plan:
    """Which records to replay and where each sits, judged here; a misplaced record is a problem already."""
    out = Verification()
    records = trace.of("evidence")
    # the harness's count of events it dropped is believed only where the recorder's cap was reached (after
    # it closes, events are dropped too, but those come after every step): a claim that costs nothing else
    # would switch off the checks of each record's place
    lost = ((trace.end or {}).get("dropped") or 0) if len(trace.events) >= recorder.MAX_EVENTS else 0
    if not lost:
        found = {r.get("backward") for r in records}
        missing = [b for b in expected_backwards(trace) if b not in found]
        if missing:
            out.problems.append(f"the trace shows a training step after backward pass {missing[0]}, but not the "
                                "record the harness writes of that step")
    else:
        out.notes.append(f"the trace lost {lost} events, so records were not matched to their place in it")
    todo = Plan(out)
    if any(not r.get("tensors") and recording.TOO_LARGE in str(r.get("why")) for r in records):
        # an honest network over the cap: the exported network (data, counted by the replayer) must bear it out
        todo.unwritten = [r for r in records if not r.get("tensors")]
        records = [r for r in records if r.get("tensors")]
    places = _places(trace)
    for rec in choose(records, rng):
        place = places.get(rec.get("i")) if not lost else None
        try:
            if not rec.get("tensors"):
                raise Bad(f"the harness could not write it down ({rec.get('why') or 'no data'})")
            sole = _check_place(rec, place)
        except Bad as exc:
            out.problems.append(f"step {rec.get('n')}: {exc}")
            continue
        todo.work.append({"record": rec, "sole": sole})
        todo.recorded.append((True, place["backwards"][rec["backward"] - 1].get("value")) if place else (False, None))
    return todo


def conclude(todo: Plan, answer: dict | None, why_not: str = "no answer") -> Verification:
    """The verification, from the plan and the replayer's answer (None: it gave none, because why_not)."""
    out = todo.verification
    if (todo.work or todo.unwritten) and not _well_formed(answer, len(todo.work)):
        out.problems.append(f"the recorded steps could not be replayed ({why_not})"[:300])
        return out
    if todo.unwritten:
        too_large = _too_large_to_record(answer.get("parameters"))
        if too_large:  # what the trace says of the training stands, unverified, and says so
            out.notes.append(too_large)
            out.unverified = too_large
        else:
            for rec in todo.unwritten:
                out.problems.append(f"step {rec.get('n')}: the harness could not write it down ({rec.get('why')})")
    if not todo.work and not out.problems:
        out.notes.append("no training step was written down (no optimizer step followed a recorded backward pass)")
    for item, recorded, got in zip(todo.work, todo.recorded, answer["steps"] if answer else ()):
        rec = item["record"]
        try:
            if "bad" in got:
                raise Bad(got["bad"])
            step = got["step"]
            _same_loss(step.get("loss"), recorded)
        except Bad as exc:
            out.problems.append(f"step {rec.get('n')}: {exc}"[:300])
            continue
        out.notes.extend(got.get("notes", []))
        out.steps.append(step)
        if step.get("loss") is not None:
            out.losses[rec["backward"]] = step["loss"]
    return out


def verify(trace: Trace, pool, labels, rng=None) -> Verification:
    """Plan, replay in this process and conclude (the grader replays in the evaluator's sandbox instead, from
    the same file)."""
    from grader import replayer
    from grader.harness import protocol

    todo = plan(trace, rng)
    request = protocol.read_request_file(protocol.request_file(todo.request()))
    return conclude(todo, replayer.answer(request, pool, labels, trace.artifact))


def _same_loss(loss, known_recorded: tuple) -> None:
    """The replayed loss is the one the trace recorded, where the record's place in the trace is known."""
    known, recorded = known_recorded
    if loss is None:
        return
    if not math.isfinite(loss):  # NaN matches nothing it is compared with: a diverged step verifies nothing
        raise Bad(f"its network gives a loss of {loss} on its batch, which verifies no training step")
    if not known:
        return
    number = isinstance(recorded, (int, float)) and not isinstance(recorded, bool) and math.isfinite(recorded)
    if not number or abs(loss - recorded) > LOSS_ATOL + LOSS_RTOL * abs(loss):
        raise Bad(f"the trace says its loss was {recorded}, its network gives {loss:.6g} on its batch")


def _well_formed(answer, n: int) -> bool:
    """The replayer's answer has one verdict per record, of the shape replayer.answer gives."""
    if not isinstance(answer, dict) or not isinstance(answer.get("steps"), list) or len(answer["steps"]) != n:
        return False
    for got in answer["steps"]:
        if not isinstance(got, dict):
            return False
        if "bad" in got:
            if not isinstance(got["bad"], str):
                return False
        elif not isinstance(got.get("step"), dict) or set(got["step"]) - STEP_KEYS or \
                not all(isinstance(note, str) for note in got.get("notes", [])):
            return False
    return True


def _too_large_to_record(size) -> str | None:
    """Why no step could be written down, when the reason is true: the harness writes down at most
    recording.MAX_ELEMENTS parameters, and the network the run exported (data, whose size the submission cannot
    fake without training that network) is larger. A claim the exported network does not bear out is a
    forgery like any other missing record."""
    cap = recording.MAX_ELEMENTS
    if isinstance(size, bool) or not isinstance(size, int) or size <= cap:
        return None
    return (f"the exported network has {size:,} parameters, more than the {cap:,} the harness writes "
            "down, so its training steps could not be replayed: what the trace says of them is not verified")


def adopt_losses(trace: Trace, verification: Verification) -> None:
    """The trace's losses at the replayed steps become the host's own: what is printed is matched against them."""
    if verification.failed:
        return
    for n, event in enumerate(trace.of("backward"), start=1):
        if n in verification.losses:
            event["value"] = verification.losses[n]


def _places(trace: Trace) -> dict[int, dict]:
    """For each record (by event number): the backward() events and the optimizer's steps before it."""
    places, backwards, steps = {}, [], {}
    last_step_backwards: dict = {}
    for e in trace.events:
        kind = e.get("e")
        if kind == "backward":
            backwards.append(e)
        elif kind == "step":
            steps[e.get("opt")] = steps.get(e.get("opt"), 0) + 1
            last_step_backwards.setdefault(e.get("opt"), []).append(len(backwards))
        elif kind == "evidence":
            marks = last_step_backwards.get(e.get("opt"), [])
            places[e.get("i")] = {"steps": steps.get(e.get("opt"), 0), "backwards": list(backwards),
                              "since": marks[-2] if len(marks) > 1 else 0, "until": marks[-1] if marks else 0}
    return places


def _check_place(rec: dict, place: dict | None) -> bool | None:
    """The record sits where its step happened; returns whether that one backward() alone filled the gradients
    (None: unknown)."""
    if place is None:
        return None
    if rec.get("n") != place["steps"]:
        raise Bad(f"it says it is step {rec.get('n')} of its optimizer, the trace has {place['steps']} by then")
    b = rec.get("backward")
    if not isinstance(b, int) or not place["since"] < b <= place["until"] or b > len(place["backwards"]):
        raise Bad(f"it says backward pass {b} filled its gradients, which the trace does not show before it")
    # cleared before it, and no other backward() between it and the step
    return b == place["until"] and place["backwards"][b - 1].get("cleared") is True


