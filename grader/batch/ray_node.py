"""What runs on a Ray node: its facts (sandbox backend, MNIST, GPUs), its copy of MNIST, and a grading slot.

Imports no Ray at module level: the slot class becomes a Ray actor only in grader/batch/ray_executor.py.
A slot refuses to grade where no sandbox backend is available (it never falls back to running a student's
code unsandboxed), and where MNIST is neither in the node's own data folder nor shipped by the driver.
"""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import grader
from grader import data
from grader.batch.executor import Settings, Work, grade_bytes, make_grader

Blobs = dict[str, bytes]  # MNIST file name -> its bytes (raw or gzipped), as the driver found them


def node_name() -> str:
    """Host name and Ray node id: several raylets can share one host (a test cluster), never a node id."""
    import ray

    return f"{socket.gethostname()} (ray node {ray.get_runtime_context().get_node_id()[:12]})"


def code_digest() -> str:
    """sha256 of the grader's Python code: every line of it can change a verdict, so a node grades only
    with the same code as the driver (the same version string is not enough for an edited checkout).
    Read once per process, when the code is loaded: a Ray worker kept from before an upgrade differs."""
    package = Path(grader.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return f"{grader.__version__}/{digest.hexdigest()[:16]}"


LOADED_CODE = code_digest()  # when this process loaded the grader


def backend_here(kind: str, image: str) -> tuple[str | None, str | None]:
    """(the backend `kind` resolves to on this node, None) or (None, why none is available). `none` (no
    isolation) never counts: a cluster grades only in a sandbox."""
    from grader import sandbox

    if kind == "none":
        return None, "--sandbox none is refused on a cluster: student code runs only in a sandbox"
    try:
        backend = sandbox.select(kind, sandbox.Settings(image=image))
    except sandbox.SandboxUnavailable as exc:  # its advice to pass --sandbox none does not hold on a cluster
        return None, " ".join(str(exc).split("\nTo grade your own code")[0].split())
    backend.close()
    return backend.name, None


def own_mnist() -> Path | None:
    """The node's own MNIST ($GRADER_DATA_DIR, else its user cache), when its four files are the published ones."""
    folder = data.resolve_dir(None)
    return folder if data.status(folder, hashes=True).ok else None


def shipped_dir(blobs_digest: str) -> Path:
    return data.default_dir().parent / "shipped" / blobs_digest[:16]


def digest_of(blobs: Blobs) -> str:
    h = hashlib.sha256()
    for name in sorted(blobs):
        h.update(name.encode() + b"\0" + hashlib.sha256(blobs[name]).digest())
    return h.hexdigest()


def unpack(blobs: Blobs, expected_digest: str) -> Path:
    """The driver's MNIST written once on this node (renamed into place, so a slot starting beside sees
    whole files), accepted only when it is the published MNIST file by file (sha256)."""
    if digest_of(blobs) != expected_digest:
        raise data.DataMissing("the MNIST shipped by the driver arrived altered (sha256 differs)")
    folder = shipped_dir(expected_digest)
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in blobs.items():
        part = folder / f"{Path(name).name}.{os.getpid()}.part"
        part.write_bytes(content)
        part.replace(folder / Path(name).name)
    st = data.status(folder, hashes=True)
    if not st.ok:
        raise data.DataMissing("the MNIST shipped by the driver is not the published MNIST: " + "; ".join(st.problems))
    return folder


def mnist_for_node(shipped: list, blobs_digest: str | None) -> tuple[Path, str]:
    """(MNIST folder, where it came from). `shipped` holds the object-store reference, unresolved: the node
    fetches the bytes only when it has no verified copy of its own, so MNIST reaches each node at most once."""
    if (own := own_mnist()) is not None:
        return own, f"the node's own ({own})"
    if blobs_digest and data.status(shipped_dir(blobs_digest), hashes=True).ok:
        return shipped_dir(blobs_digest), "shipped by the driver (already on this node)"
    if not shipped:
        raise data.DataMissing(f"MNIST is not on this node ({data.resolve_dir(None)}) and the driver shipped none")
    import ray

    return unpack(ray.get(shipped[0]), blobs_digest), "shipped by the driver (verified by sha256)"


def node_facts(sandbox_kind: str = "auto", image: str = "grader:latest") -> dict:
    """What `grader cluster status` shows for a node."""
    from grader.sandbox import cuda_present

    backend, why = backend_here(sandbox_kind, image)
    st = data.status(data.resolve_dir(None))
    return {"node": node_name(), "backend": backend, "no_backend": why, "gpu": cuda_present(),
            "mnist": str(st.folder) if st.ok else None, "code": LOADED_CODE}


class GradingSlot:
    """One grading slot on one node: a Grader built once (a warm worker, a running held-out evaluator), then
    one submission at a time. A slot that cannot grade safely says why in `ready()` and grades nothing."""

    def __init__(self, settings: Settings, cpus: float, shipped: list, blobs_digest: str | None, code: str):
        self.node, self.grader, self.problem, self.mnist = node_name(), None, None, None
        if code != LOADED_CODE:
            self.problem = f"its grader code ({LOADED_CODE}) is not the driver's ({code}): install the same on every node"
            return
        backend, why = backend_here(settings.sandbox, settings.image)
        if backend is None:
            self.problem = f"no sandbox backend: {why}"
            return
        try:
            folder, self.mnist = mnist_for_node(shipped, blobs_digest)
            # the Grader's share of the machine is the slot's: jobs = how many such slots the host holds
            jobs = max(1, round((os.cpu_count() or 1) / cpus))
            self.grader = make_grader(Settings(**{**settings.__dict__, "sandbox": backend, "data_dir": str(folder),
                                                  "jobs": jobs}))
        except Exception as exc:  # data, device: this node cannot grade; the driver says why and moves on
            self.problem = f"{type(exc).__name__}: {' '.join(str(exc).split())}"

    def ready(self) -> dict:
        return {"node": self.node, "problem": self.problem, "mnist": self.mnist,
                "backend": self.grader.backend.name if self.grader else None,
                "device": self.grader.device if self.grader else None}

    def grade(self, work: Work) -> str:
        if self.grader is None:  # never reached: the driver hands work only to ready slots
            raise RuntimeError(f"this slot cannot grade: {self.problem}")
        return grade_bytes(self.grader, work, node=self.node)
