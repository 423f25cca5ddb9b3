"""After the submission: export the trained model so it can be evaluated where no submission code runs.

The held-out evaluator sees raw test pixels (0..255) and must feed them to the model exactly as training
did. The preprocessing is inferred from what the model was actually given: the smallest and largest value
of its inputs are where raw 0 and 255 landed (ToTensor, Normalize((0.5,),(0.5,)), x/255, no scaling ...),
and the input's shape past the batch dimension says whether it was flattened.
"""

from __future__ import annotations

import base64
import io

import torch

MAX_ARTIFACT_BYTES = 64 * 2**20


def preprocessing(info) -> dict | None:
    if info.lo is None or info.hi is None or info.hi - info.lo < 1e-6:
        return None
    scale = info.hi - info.lo
    exact = None
    if info.sample is not None:
        steps = (info.sample - info.lo) / scale * 255  # raw pixel values, if the map really is affine
        exact = bool((steps - steps.round()).abs().max() < 0.02)
    return {"shift": info.lo, "scale": scale, "shape": info.shape[1:], "dtype": info.dtype, "exact": exact}


def probe_batch(raw_images: torch.Tensor, prep: dict, batch: int) -> torch.Tensor:
    x = raw_images[:batch].float() / 255 * prep["scale"] + prep["shift"]
    return x.reshape(len(x), *prep["shape"]).to(getattr(torch, prep["dtype"], torch.float32))


def export_model(model, prep: dict, raw_images: torch.Tensor, batch: int) -> tuple[dict, bytes | None]:
    """Returns (facts for the trace, serialized ExportedProgram or None)."""
    facts: dict = {}
    try:
        model.eval()
        model.to("cpu")
        x = probe_batch(raw_images, prep, batch)
        program = torch.export.export(model, (x,))
        with torch.no_grad():
            same = torch.allclose(program.module()(x), model(x), atol=1e-4, rtol=1e-4)
        facts["export_matches"] = bool(same)
        buf = io.BytesIO()
        torch.export.save(program, buf)
        blob = buf.getvalue()
        if len(blob) > MAX_ARTIFACT_BYTES:
            facts["export_error"] = f"exported model is {len(blob) >> 20} MB, over the {MAX_ARTIFACT_BYTES >> 20} MB limit"
            return facts, None
        return facts, blob
    except Exception as exc:
        facts["export_error"] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ''}"
        return facts, None


def encode(blob: bytes) -> str:
    return base64.b64encode(blob).decode()
