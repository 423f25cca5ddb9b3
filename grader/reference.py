"""The reference solution's loss curve, the band every student's curve is drawn against.

It depends only on what the reference run sees (rubric, grader version, seed, device, the training data and
the reference file), so it is graded once per digest of those and cached as JSON in the user cache, next to
the MNIST cache: never once per submission. A file lock makes parallel graders compute it once.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import fcntl
import functools
import hashlib
import json
import os
import threading
from pathlib import Path

from grader import __version__, curve, data
from grader.report import ReferenceCurve, Report

REFERENCE = Path(__file__).resolve().parent.parent / "reference" / "solution.py"

_memo: dict[str, ReferenceCurve | None] = {}
_lock = threading.Lock()


def cache_dir() -> Path:
    return data.default_dir().parent / "reference"


def digest(grader, reference: Path = REFERENCE) -> str:
    payload = {"rubric": json.loads(grader.rubric.model_dump_json()), "grader": __version__, "seed": grader.seed,
               "device": grader.device, "data": _content_hash(Path(grader.files["train_images"])),
               "reference": hashlib.sha256(reference.read_bytes()).hexdigest()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


@functools.lru_cache(maxsize=8)
def _hash_of(path: str, size: int, mtime_ns: int) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _content_hash(path: Path) -> str:
    """By content, so the same data in another folder (a fresh copy, a test's temp dir) shares the band."""
    st = path.stat()
    return _hash_of(str(path.resolve()), st.st_size, st.st_mtime_ns)


def band_for(grader, graded: Report | None = None, reference: Path = REFERENCE) -> ReferenceCurve | None:
    """The cached band for this grader's settings, grading the reference first if no one has yet (unless
    `graded`, the report just made, is the reference's own: grading is seeded, so its curve is the band's).
    None when there is no reference file (an installed grader) or its run drew no curve."""
    if not reference.is_file():
        return None
    try:
        key = digest(grader, reference)
        own = graded is not None and graded.submission.sha256 == hashlib.sha256(reference.read_bytes()).hexdigest()
        with _lock:
            if key not in _memo:
                _memo[key] = _cached(key, (lambda: _band(graded, key)) if own else
                                     (lambda: _band(_grade(grader, reference), key)))
            return _memo[key]
    except Exception:  # the band only decorates a picture: it must never cost a student their report
        return None


def _cached(key: str, compute) -> ReferenceCurve | None:
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.json"
    with open(folder / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another grader may be computing this very band
        with contextlib.suppress(OSError, ValueError):
            return ReferenceCurve.model_validate_json(path.read_text())
        band = compute()
        if band is not None:  # a failed run is not cached: it may have been the machine's fault
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(band.model_dump_json())
            os.replace(tmp, path)
        return band


def _grade(grader, reference: Path) -> Report:
    plain = copy.copy(grader)
    plain.options = dataclasses.replace(grader.options, reference_curve=False)  # no band for the band
    return plain.grade(reference)


def _band(rep: Report, key: str) -> ReferenceCurve | None:
    if rep.curve is None or not rep.all_passed:
        return None
    return curve.reference_band(rep.curve, key, rep.training.accuracy)
