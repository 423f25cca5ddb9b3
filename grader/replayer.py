"""The replay's torch half (see grader/replay.py for the whole): recomputes the steps the host chose, in the
held-out evaluator's sandbox (grader/evaluate.py), where torch is already imported and nothing runs but data:
the records' programs are tapes of allowlisted torch calls (harness/portable.py), their tensors plain
tensors (harness/tensorfile.py). The host never imports torch for it, and judges the answer (replay.conclude). Runs in
the sandbox image, so it imports nothing of the host's (pydantic, the checks): torch and the harness only.

Answer: {"steps": [{"step": {...}, "notes": [...]} or {"bad": "why"}, one per record], "parameters": N or None}.
"""

from __future__ import annotations

import math
from functools import lru_cache


GRAD_RTOL = 1e-3  # relative to the gradient's norm: the sandbox ran on one thread, the replay may use more
LABELS_MISMATCH = 0.02  # near-duplicate images of different digits: a row may match the wrong one
RANDOM_CALLS = {"dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d", "dropout3d",
                "rand", "randn", "rand_like", "randn_like", "randint", "randint_like", "bernoulli", "normal",
                "normal_", "uniform_", "multinomial", "randperm", "rrelu", "bernoulli_", "exponential_"}
TARGET_LOSSES = {"cross_entropy", "nll_loss"}


class Bad(Exception):
    """A record that is inconsistent with a real step on the served data."""


def answer(request: dict, pool, labels, model: bytes | None) -> dict:
    """Replay every record of the request (replay.Plan.request); count the exported network's parameters
    when asked (a record says the network was too large to write down)."""
    steps = []
    for item in request.get("work", []):
        rec, notes = item["record"], []
        try:
            steps.append({"step": _replay(rec, item.get("sole"), pool, labels, notes), "notes": notes})
        except Bad as exc:
            steps.append({"bad": str(exc)[:300]})
        except Exception as exc:  # noqa: BLE001 - a malformed record is not a real step's
            steps.append({"bad": f"its record is malformed ({type(exc).__name__}: {exc})"[:300]})
    return {"steps": steps, "parameters": parameter_count(model) if request.get("count_parameters") else None}


def parameter_count(model: bytes | None) -> int | None:
    """The exported network's size (None: no network, or not one that can be read)."""
    try:
        from grader.harness import portable

        return sum(t.numel() for t in portable.loads(model or b"").tensors)
    except Exception:  # noqa: BLE001 - nothing bears a claim out
        return None


@lru_cache(maxsize=2)
def served_pool(images: str, labels: str, train_examples: int, eval_examples: int, seed: int, full: bool):
    """The images this run served (train and train=False slices together), standardized once for matching
    rows to them (network.match_rows), and their labels."""
    import torch

    from grader.harness import subset
    from grader.harness.network import pool_chunks

    (ti, tl), (ei, el) = subset.served(images, labels, train_examples, eval_examples, seed, full)
    pool = torch.cat([ti, ei])
    chunks = list(pool_chunks(pool.reshape(len(pool), -1)))
    return chunks, torch.cat([tl, el])


def _bytes(data) -> bytes:
    """A record's binary part, as the host put it back (protocol.unpack)."""
    if not isinstance(data, bytes):
        raise Bad("its data is not bytes")
    return data


def _replay(rec: dict, sole: bool | None, pool, labels, notes: list[str]) -> dict:
    import torch

    if not rec.get("tensors"):
        raise Bad(f"the harness could not write it down ({rec.get('why') or 'no data'})")
    from grader.harness import tensorfile

    tensors = tensorfile.loads(_bytes(rec.get("tensors")))
    n_items = len(rec["group_of"])
    for key in ("before", "grads", "after", "exp_avg", "exp_avg_sq"):
        if not isinstance(tensors.get(key), list) or len(tensors[key]) != n_items:
            raise Bad(f"its {key} do not list the {n_items} parameters")
    _finite(tensors, rec.get("groups") or [])
    step = {"opt": rec.get("opt"), "n": rec.get("n"), "backward": rec.get("backward"), "replayed": False}
    before = list(tensors["before"])
    if rec.get("program"):
        loss, changed = _replay_program(rec, tensors, pool, labels, sole, notes)
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


def _finite(tensors: dict, groups: list) -> None:
    """Every value a step is checked with is a finite number: NaN compares false both ways and an infinite
    tolerance admits anything, so a record holding either verifies nothing (a diverged step included)."""
    import torch

    for key in ("input", "before", "grads", "after", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
        values = tensors.get(key)
        for t in values if isinstance(values, list) else [values]:
            if isinstance(t, torch.Tensor) and t.is_floating_point() and not bool(torch.isfinite(t).all()):
                raise Bad(f"its {key} hold values that are not finite numbers")
    for group in groups:
        for name, value in (group or {}).items():
            numbers = value if isinstance(value, list) else [value]
            if any(isinstance(v, float) and not math.isfinite(v) for v in numbers):
                raise Bad(f"its {name} is not a finite number")


def _replay_program(rec, tensors, pool, labels, sole, notes) -> tuple[float | None, bool]:
    """(the replayed loss, whether the parameters changed between the forward pass and the step)."""
    import torch

    from grader.harness import portable
    from grader.harness.network import match_rows
    from grader.harness.tape import _name, run_steps

    program = portable.loads(_bytes(rec["program"]))
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
    loss = float(root.detach())  # the host compares it with the value the trace recorded (replay._same_loss)
    if sole:
        mine = iter(grads)
        for p, recorded in zip(params, tensors["grads"]):
            if p is not None and p.is_floating_point():
                _same_gradient(next(mine), recorded)
    elif sole is False:
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
        # NaN compares false both ways: an element is off unless it is within tolerance, or NaN on both sides
        # (an honest overflow); a NaN written in after the fact must not pass as Adam's
        off += int((~((after - want).abs() <= tol) & ~(after.isnan() & want.isnan())).sum())
        total += want.numel()
    return off <= max(1, total // 1000)
