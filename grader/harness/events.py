"""The trace's vocabulary: every event the harness records and the fields it may carry.

One list shared by the harness (the recorder refuses an unknown event name), the host (grader/trace.py reads
these names) and the test builders (tests/builders.py refuses unknown names and fields), so the three cannot
drift apart. Every event also carries e (its name), i (sequence number) and t (seconds since start). Fields
whose values are bytes (artifact's data, evidence's program and tensors) travel beside the event's JSON
(protocol.pack), and the host puts them back before anything reads the event.
"""

from __future__ import annotations

EVENTS: dict[str, tuple[str, ...]] = {
    "start": ("python", "torch", "torchvision", "cuda", "gpu", "threads"),
    "phase": ("name", "seconds"),
    "run_start": ("cpu_s",),  # the harness's own CPU time so far: the supervisor does not charge it to the budget
    # data
    "dataset": ("ds", "train", "size"),
    "pass_start": ("loader", "pass_no", "train", "dataset_size", "batches", "bs"),
    "pass_end": ("loader", "pass_no", "batches", "examples"),
    # losses and backward
    "loss": ("loss", "kind", "value", "bs", "grad", "reduction", "log_probs", "in_pass"),
    "backward": ("losses", "kinds", "value", "bs", "cleared", "in_pass", "ce_share", "at"),
    # optimizers
    "optimizer": ("opt", "cls", "module", "is_adam", "lr", "params"),
    "zero_grad": ("opt",),
    "step": ("opt", "n", "changed", "had_grad", "lr", "device", "moved", "grads_zero", "outside"),
    # a step written down for the host to replay (harness/evidence.py, grader/replay.py)
    "evidence": ("opt", "n", "backward", "groups", "group_of", "state_steps", "slots", "program", "tensors", "why"),
    "optimizer_end": ("opt", "steps", "state_steps"),
    # the network
    "forward_path": ("module", "cls", "input", "ops", "completed"),
    "model": ("found", "source", "cls", "module", "stepped_by", "stepped_share", "tape_failures", "structure",
              "n_params", "preprocess", "batch", "export_error", "export_matches", "format"),
    "artifact": ("name", "data"),
    # output and the end
    "line": ("s", "text", "end", "row"),  # end "" : not ended yet (recorded as written); row: see output.py
    "note": ("text",),
    "exception": ("type", "message", "lineno", "line", "frames"),
    "end": ("outcome", "exit_code", "dropped", "seconds", "at"),
}
COMMON = ("e", "i", "t")


def unknown_fields(kind: str, fields) -> list[str]:
    """Names not in the vocabulary: the event itself, or fields it does not carry."""
    if kind not in EVENTS:
        return [kind]
    return [f for f in fields if f not in EVENTS[kind] and f not in COMMON]
