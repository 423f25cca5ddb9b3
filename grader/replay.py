"""The host's replay of the steps the harness wrote down (harness/evidence.py): judgement outside the sandbox.

Everything in the harness's interpreter is reachable by the submission, so the trace is a claim, not a fact.
The harness writes a few optimizer steps down whole (the step's computation as allowlisted torch calls, the
input batch, the parameters before and after, the gradients, Adam's state and hyper-parameters). Here, after
the run, the host picks which of them to replay (always the first, the others at random, with a secret the
sandbox never saw), and checks each against what it can establish itself:
  - the batch: every row is one of the images this run served (the seeded subset, known to the host), and the
    labels the loss was given are those images' labels;
  - the loss: the program, replayed with the recorded parameters on that batch, gives the value the trace's
    backward() recorded (unless the step is random: dropout);
  - the gradients: autograd's, where that one backward() alone filled them (not accumulation);
  - the update: torch.optim.Adam itself, run on copies with the recorded state and hyper-parameters, moves
    the parameters where they went (a different rule is a finding about the optimizer, not a forgery);
  - the place: each record sits where the trace says its step happened, and every step the harness would
    have written down is there.
A record that fails any of these makes the whole trace untrustworthy (Verification.problems). Costs, on the
reference (109,386 parameters, batches of 64): three records, a few milliseconds each to replay.
"""

from __future__ import annotations

import base64
import binascii
import io
import secrets
from functools import lru_cache

from grader.checks.base import Verification
from grader.trace import Trace

MAX_REPLAYED = 6  # records replayed per run: the first, and up to five more chosen at random
LOSS_RTOL, LOSS_ATOL = 1e-4, 1e-5
GRAD_RTOL = 1e-3  # relative to the gradient's norm: the sandbox ran on one thread, the host may use more
LABELS_MISMATCH = 0.02  # near-duplicate images of different digits: a row may match the wrong one
RANDOM_CALLS = {"dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d", "dropout3d",
                "rand", "randn", "rand_like", "randn_like", "randint", "randint_like", "bernoulli", "normal",
                "normal_", "uniform_", "multinomial", "randperm", "rrelu", "bernoulli_", "exponential_"}
TARGET_LOSSES = {"cross_entropy", "nll_loss"}


class Bad(Exception):
    """A record that is inconsistent with a real step on the served data."""


@lru_cache(maxsize=2)
def served_pool(images: str, labels: str, train_examples: int, eval_examples: int, seed: int, full: bool):
    """The images this run served (train and train=False slices together), standardized once for matching
    rows to them (network.match_rows), and their labels."""
    import torch

    from grader.harness import subset
    from grader.harness.network import pool_chunks

    torch.set_num_threads(1)  # the host replays a few small steps: a core of its own is plenty
    (ti, tl), (ei, el) = subset.served(images, labels, train_examples, eval_examples, seed, full)
    pool = torch.cat([ti, ei])
    chunks = [(start, z.float()) for start, z in pool_chunks(pool.reshape(len(pool), -1))]
    return chunks, torch.cat([tl, el])


def expected_backwards(trace: Trace) -> list[int]:
    """The backward() numbers whose step the harness writes down: the first step after each tape window
    (model.WINDOWS) ends, where the trace shows such a step and training went on after it (a run killed
    outright just after that step may not have written its record)."""
    from grader.harness.model import WINDOWS

    order = [e for e in trace.events if e.get("e") in ("backward", "step")]
    count, want, stepped = 0, [], []
    pending = None
    for e in order:
        if e["e"] == "backward":
            count += 1
            want += stepped
            stepped = []
            if count - 1 in WINDOWS and pending is None:
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


def verify(trace: Trace, pool, labels, rng=None) -> Verification:
    """Replay what the harness wrote down of this run (pool: served_pool's standardized chunks; labels)."""
    out = Verification()
    records = trace.of("evidence")
    lost = (trace.end or {}).get("dropped") or 0
    if not lost:
        found = {r.get("backward") for r in records}
        missing = [b for b in expected_backwards(trace) if b not in found]
        if missing:
            out.problems.append(f"the trace shows a training step after backward pass {missing[0]}, but not the "
                                "record the harness writes of that step")
    else:
        out.notes.append(f"the trace lost {lost} events, so records were not matched to their place in it")
    too_large = _too_large_to_record(trace, records)
    if too_large:  # an honest network over the cap: what the trace says stands, unverified, and says so
        out.notes.append(too_large)
        out.unverified = too_large
        records = [r for r in records if r.get("tensors")]
    if not records:
        out.notes.append("no training step was written down (no optimizer step followed a recorded backward pass)")
        return out
    places = _places(trace)
    for rec in choose(records, rng):
        try:
            step = _replay(rec, pool, labels, places.get(rec["i"]) if not lost else None, out.notes)
        except Bad as exc:
            out.problems.append(f"step {rec.get('n')}: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - a malformed record is not a real step's
            out.problems.append(f"step {rec.get('n')}'s record is malformed ({type(exc).__name__}: {exc})"[:300])
            continue
        out.steps.append(step)
        if step.get("loss") is not None:
            out.losses[rec["backward"]] = step["loss"]
    return out


def _too_large_to_record(trace: Trace, records: list[dict]) -> str | None:
    """Why no step could be written down, when the reason is true: the harness writes down at most
    evidence.MAX_ELEMENTS parameters, and the network the run exported (data, whose size the submission cannot
    fake without training that network) is larger. A claim the exported network does not bear out is a
    forgery like any other missing record (see _replay)."""
    from grader.harness.evidence import MAX_ELEMENTS

    if not any(not r.get("tensors") and "too many to write down" in str(r.get("why")) for r in records):
        return None
    try:
        from grader.harness import portable

        size = sum(t.numel() for t in portable.loads(trace.artifact or b"").tensors)
    except Exception:  # noqa: BLE001 - no exported network, or not one that can be read: nothing bears it out
        return None
    if size <= MAX_ELEMENTS:
        return None
    return (f"the exported network has {size:,} parameters, more than the {MAX_ELEMENTS:,} the harness writes "
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
            places[e["i"]] = {"steps": steps.get(e.get("opt"), 0), "backwards": list(backwards),
                              "since": marks[-2] if len(marks) > 1 else 0, "until": marks[-1] if marks else 0}
    return places


def _decode(text) -> bytes:
    try:
        return base64.b64decode(text or "", validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise Bad("its data is not base64") from exc


def _replay(rec: dict, pool, labels, place: dict | None, notes: list[str]) -> dict:
    import torch

    if not rec.get("tensors"):
        raise Bad(f"the harness could not write it down ({rec.get('why') or 'no data'})")
    tensors = torch.load(io.BytesIO(_decode(rec.get("tensors"))), weights_only=True, map_location="cpu")
    n_items = len(rec["group_of"])
    for key in ("before", "grads", "after", "exp_avg", "exp_avg_sq"):
        if not isinstance(tensors.get(key), list) or len(tensors[key]) != n_items:
            raise Bad(f"its {key} do not list the {n_items} parameters")
    step = {"opt": rec.get("opt"), "n": rec.get("n"), "backward": rec.get("backward"), "replayed": False}
    sole = _check_place(rec, place)
    before = list(tensors["before"])
    if rec.get("program"):
        loss, changed = _replay_program(rec, tensors, pool, labels, place, sole, notes)
        # the parameters moved between the forward pass and the step: something other than the optimizer
        step.update(replayed=True, loss=loss, outside=changed)
    else:
        why = f"could not be written down ({rec['why']})" if rec.get("why") else "was not followed by the tape"
        notes.append(f"step {rec.get('n')}'s network {why}: only its update was checked")
    if any(b is None or not isinstance(b, torch.Tensor) for b in before):
        raise Bad("a parameter's value before the step is missing")
    step["adam"] = _follows_adam(rec, before, tensors)
    step["moved"] = max((float((a - b).abs().max()) for a, b in zip(tensors["after"], before) if b.numel()),
                        default=0.0)
    step["grads_zero"] = all(g is None or not bool(g.ne(0).any()) for g in tensors["grads"])
    return step


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


def _replay_program(rec, tensors, pool, labels, place, sole, notes) -> tuple[float | None, bool]:
    """(the replayed loss, whether the parameters changed between the forward pass and the step)."""
    import torch

    from grader.harness import portable
    from grader.harness.network import match_rows
    from grader.harness.tape import _name, run_steps

    program = portable.loads(_decode(rec["program"]))
    x = tensors.get("input")
    if not isinstance(x, torch.Tensor) or x.dim() == 0 or x.shape[0] == 0:
        raise Bad("it has no input batch")
    n = x.shape[0]
    if x.numel() // n != pool[0][1].shape[1]:
        raise Bad("its input rows are not images")
    served, which = match_rows(x.reshape(n, -1), pool)
    if not bool(served.all()):
        raise Bad(f"{int((~served).sum())} of the {n} rows of its batch are not images this run served")
    targets = [_target(args, kwargs) for _, func, args, kwargs in program.steps if _name(func) in TARGET_LOSSES]
    for target in targets:
        if not isinstance(target, torch.Tensor):
            continue  # computed by the network itself (not data): nothing to compare with the served labels
        if target.dim() == 2 and target.is_floating_point():
            target = target.argmax(dim=1)  # class probabilities (one-hot, smoothed): their most likely class
        if target.shape != (n,):
            raise Bad("its loss was not given one label per image")
        wrong = int((target.long() != labels[which]).sum())
        if wrong > LABELS_MISMATCH * n:
            raise Bad(f"{wrong} of the {n} labels its loss was given are not those of the images")
    slots = rec["slots"]
    if len(slots) != len(rec["group_of"]) or not all(s is None or 0 <= s < len(program.tensors) for s in slots):
        raise Bad("its parameters are not the network's")
    params = [program.tensors[s] if s is not None else None for s in slots]
    changed = any(p is not None and b is not None and (p.shape != b.shape or not torch.equal(p, b))
                  for p, b in zip(params, tensors["before"]))
    random = sorted({_name(f) for _, f, _, _ in program.steps} & RANDOM_CALLS)
    if random:
        notes.append(f"step {rec.get('n')} draws random numbers ({', '.join(random)}): its loss and gradients "
                     "were not recomputed")
        return None, changed
    wrt = [p.requires_grad_(True) for p in params if p is not None and p.is_floating_point()]
    with torch.enable_grad():
        root = run_steps(program.steps, x, eval_mode=False)[program.logits]
        if not isinstance(root, torch.Tensor) or root.numel() != 1 or not root.requires_grad:
            raise Bad("its computation does not end in a loss that depends on the parameters")
        grads = torch.autograd.grad(root, wrt, allow_unused=True)
    loss = float(root.detach())
    if place is not None:
        recorded = place["backwards"][rec["backward"] - 1].get("value")
        if not isinstance(recorded, (int, float)) or abs(loss - recorded) > LOSS_ATOL + LOSS_RTOL * abs(loss):
            raise Bad(f"the trace says its loss was {recorded}, its network gives {loss:.6g} on its batch")
    if sole:
        mine = iter(grads)
        for p, recorded in zip(params, tensors["grads"]):
            if p is not None and p.is_floating_point():
                _same_gradient(next(mine), recorded)
    elif place is not None:
        notes.append(f"step {rec.get('n')}'s gradients had accumulated over more than one backward pass: its "
                     "update was checked from them, they were not recomputed")
    return loss, changed


def _target(args, kwargs):
    if "target" in kwargs:
        return kwargs["target"]
    return args[1] if len(args) > 1 else None


def _same_gradient(computed, recorded) -> None:
    """autograd's gradient, or that gradient clipped: scaled down as a whole (clip_grad_norm_) or clamped
    elementwise (clip_grad_value_). Zeroed after backward (zero_grad before step) is the checks' to judge."""
    if recorded is None or not bool(recorded.ne(0).any()):
        return  # cleared after backward(): zero_grad's check judges that
    if computed is None or computed.shape != recorded.shape:
        raise Bad("its gradients are not those of its parameters")
    scale = float(computed.norm())
    if (computed - recorded).norm() <= GRAD_RTOL * scale + 1e-8:
        return
    ratio = float(recorded.norm()) / max(scale, 1e-30)
    if ratio <= 1 and (computed * ratio - recorded).norm() <= GRAD_RTOL * scale + 1e-8:
        return
    bound = float(recorded.abs().max())
    if (computed.clamp(-bound, bound) - recorded).norm() <= GRAD_RTOL * scale + 1e-8:
        return
    raise Bad("its gradients are not autograd's gradients of its loss")


def _follows_adam(rec: dict, before: list, tensors: dict) -> bool:
    """Do the parameters after follow torch.optim.Adam's own step from the recorded state? Computed with
    torch's Adam on copies, compared element by element: a step of another rule differs almost everywhere,
    rounding in a handful of elements at most."""
    import torch

    groups = rec.get("groups") or []
    params, opt_groups = [], {}
    for i, gi in enumerate(rec["group_of"]):
        hyper = groups[gi] if isinstance(gi, int) and 0 <= gi < len(groups) else None
        if not hyper or hyper.get("betas") is None or hyper.get("eps") is None:
            return False  # not an Adam step: no betas or eps in its hyper-parameters
        p = before[i].detach().clone().requires_grad_(before[i].is_floating_point())
        p.grad = None if tensors["grads"][i] is None else tensors["grads"][i].clone()  # None: Adam skips it
        params.append(p)
        opt_groups.setdefault(gi, {"params": [], **{k: v for k, v in hyper.items() if v is not None},
                                   "foreach": False})["params"].append(p)
    if not params:
        return False
    for g in opt_groups.values():
        g["betas"] = tuple(g["betas"])
    opt = torch.optim.Adam(list(opt_groups.values()))
    steps = rec.get("state_steps") or [None] * len(params)
    for i, p in enumerate(params):
        if steps[i] is not None:
            state = {"step": torch.tensor(float(steps[i]))}
            for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
                if tensors.get(key) and tensors[key][i] is not None:
                    state[key] = tensors[key][i].clone()
            opt.state[p] = state
    opt.step()
    off = total = 0
    for p, b, after in zip(params, before, tensors["after"]):
        want, after = p.detach(), after.detach()
        if want.shape != after.shape:
            return False
        tol = 1e-5 * (after.abs() + b.abs()) + 1e-3 * (after - b).abs() + 1e-7
        off += int(((after - want).abs() > tol).sum())
        total += want.numel()
    return off <= max(1, total // 1000)
