"""The batch on a Ray cluster: `grader grade ... --executor ray [--address ADDR]` (or $RAY_ADDRESS).

The driver (this process) keeps the store and the exports, as with the local pool; the cluster only grades.
Each node gets as many grading slots (warm Ray actors, grader/batch/ray_node.py) as its CPUs (and GPUs with
--device cuda) hold, each pinned to its node, so a node that cannot grade safely is known by name and never
asked again. Work is handed out one submission per free slot, so a slow node never holds the class back;
the service (`grader serve --executor ray`) feeds it for as long as it runs, its slots warm between files.

Faults: a slot that dies (actor killed, node lost) costs only the submission it was running. That one is
handed to another slot once; lost a second time, it is reported as an infrastructure error (internal_error),
which --retry-errors grades again. A driver killed outright takes its actors with it (Ray ends the actors of
a dead driver); the store it wrote resumes the batch.

`import ray` happens only here, on the --executor ray path: Ray is an extra (pip install 'grader[ray]').
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from grader import data
from grader.batch.executor import Executor, Feed, Pending, SetupFailed, Settings, Work, failure_report
from grader.batch.ray_node import Blobs, LOADED_CODE, GradingSlot, digest_of, node_facts

POLL_S = 0.5
REFRESH_S = 10.0  # how often to look for nodes that joined (an autoscaler's), and refill slots
MAX_TRIES = 2  # a submission whose slot died is handed to another slot once
NODE_DEATHS = 3  # slots that died before grading anything: after this many, a node is given up


class RayUnavailable(SetupFailed):
    """Ray is not installed, or no cluster answers at the address."""


def import_ray():
    try:
        import ray
    except ImportError:
        raise RayUnavailable("--executor ray needs Ray: pip install 'grader[ray]'") from None
    return ray


def check_reachable(address: str | None, timeout_s: float = 5.0) -> None:
    """Ray itself retries an unreachable head for minutes; a plain HOST:PORT is tried once here instead."""
    host, _, port = (address or "").rpartition(":")
    if not address or "://" in address or not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise RayUnavailable(f"no Ray cluster answers at {address} ({exc.strerror or exc}): start one with "
                             "`ray start --head`, or pass its head's HOST:PORT with --address") from None


@contextlib.contextmanager
def connected(address: str | None):
    """Ray, joined to the cluster at `address` (else $RAY_ADDRESS; with neither, Ray starts one here).

    Ray puts the driver's working directory first on every worker's sys.path. Where the batch is started
    from a class's folder, a student's `torch.py` or `grader/` there would be imported by the slots
    themselves, outside any sandbox. So Ray is joined from an empty folder of our own (0700), which
    lives as long as the connection."""
    ray = import_ray()
    check_reachable(address)
    back = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="grader-ray-driver-") as empty:
        os.chdir(empty)
        try:
            ray.init(address=address, logging_level="ERROR", log_to_driver=False, include_dashboard=False,
                     configure_logging=True)
        finally:
            os.chdir(back)
        try:
            yield ray
        finally:
            ray.shutdown()


def alive_nodes(ray) -> list[dict]:
    return [n for n in ray.nodes() if n.get("Alive")]


def mnist_blobs(data_dir: str | None) -> Blobs:
    """The driver's MNIST files as bytes (raw or gzipped, as found), or {} when the driver has none."""
    st = data.status(data.resolve_dir(data_dir))
    return {path.name: path.read_bytes() for path in st.files.values() if path} if st.ok else {}


@dataclass(eq=False)
class Slot:
    actor: Any
    node_id: str
    node: str = ""
    work: Work | None = None


class RayPool(Executor):
    def __init__(self, settings: Settings, address: str | None = None, jobs: int | None = None,
                 cpus_per_job: float = 1.0, gpus_per_job: float = 0.0):
        self.settings, self.address, self.cap = settings, address, jobs
        self.cpus, self.gpus = cpus_per_job, gpus_per_job
        self.notes: list[str] = []
        self.waiting: dict[Any, tuple[str, Slot]] = {}  # object ref -> ("ready" | "grade", slot)
        self.idle: list[Slot] = []
        self.live: Counter = Counter()  # node id -> slots starting or ready there
        self.deaths: Counter = Counter()  # node id -> slots that died there before being ready
        self.bad: dict[str, str] = {}  # node id -> why it grades nothing
        self.tries: Counter = Counter()  # work key -> times handed out
        self.ready_nodes: set[str] = set()
        self.stopping = self.abandoned = self.refill = False
        self.ray = self.remote_slot = self.shipped = self.blobs_digest = self.code = None

    # ------------------------------------------------------------------ the batch
    def run(self, work: Iterable[Work] | Feed) -> Iterator[tuple[Work, str]]:
        pending = Pending(work)
        if not pending.open:
            return
        with connected(self.address) as self.ray:
            yield from self._grade(pending)

    def _grade(self, pending: Pending) -> Iterator[tuple[Work, str]]:
        self._start()
        last_fill = time.monotonic()
        self._fill(pending.at_most())
        try:
            while pending.open and not self.stopping or self._running():
                while self.idle and not self.stopping and (piece := pending.take()) is not None:
                    self._hand_out(self.idle.pop(), piece)
                if not (self.waiting or self.idle) and pending.open and not self.stopping:
                    self._fill(pending.at_most())
                    if not self.waiting:
                        raise SetupFailed(self._nobody_can_grade())
                done = self.ray.wait(list(self.waiting), num_returns=1, timeout=POLL_S)[0] if self.waiting else []
                if not self.waiting:
                    time.sleep(POLL_S)  # every slot idle, and a feed with nothing now
                if done:
                    yield from self._settle(done[0], pending)
                if self.refill or not done and time.monotonic() - last_fill > REFRESH_S and not self.stopping:
                    last_fill, self.refill = time.monotonic(), False
                    self._fill(pending.at_most() + self._running())
        finally:
            self._shutdown()

    def _start(self) -> None:
        ray = self.ray
        self.remote_slot = ray.remote(GradingSlot)
        blobs = mnist_blobs(self.settings.data_dir)
        # one object for the whole cluster: a node fetches it at most once, and only when it lacks MNIST
        self.shipped = [ray.put(blobs)] if blobs else []
        self.blobs_digest = digest_of(blobs) if blobs else None
        self.code = LOADED_CODE

    def _running(self) -> int:
        return sum(kind == "grade" for kind, _ in self.waiting.values())

    def _capacity(self, node: dict) -> int:
        res = node.get("Resources", {})
        fits = int(res.get("CPU", 0) // self.cpus) if self.cpus else 1 << 30
        if self.gpus:
            fits = min(fits, int(res.get("GPU", 0) // self.gpus))
        return fits

    def _fill(self, wanted: int) -> None:
        """Start slots on every node that can take more, up to the work left (and --jobs)."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        wanted = min(wanted, self.cap or wanted) - sum(self.live.values())
        for node in alive_nodes(self.ray):
            node_id = node["NodeID"]
            while wanted > 0 and node_id not in self.bad and self.live[node_id] < self._capacity(node):
                actor = self.remote_slot.options(
                    num_cpus=self.cpus, num_gpus=self.gpus, max_restarts=0, max_concurrency=1,
                    scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
                ).remote(self.settings_for_nodes(), self.cpus, self.shipped, self.blobs_digest, self.code)
                slot = Slot(actor, node_id)
                self.waiting[actor.ready.remote()] = ("ready", slot)
                self.live[node_id] += 1
                wanted -= 1

    def settings_for_nodes(self) -> Settings:
        # the driver's data folder means nothing on a node; auto would take a GPU Ray did not give the slot
        device = "cpu" if self.settings.device == "auto" else self.settings.device
        return Settings(**{**self.settings.__dict__, "data_dir": None, "device": device})

    def _hand_out(self, slot: Slot, work: Work) -> None:
        slot.work = work
        self.tries[work.key] += 1
        self.waiting[slot.actor.grade.remote(work)] = ("grade", slot)

    def _settle(self, ref, pending: Pending) -> Iterator[tuple[Work, str]]:
        kind, slot = self.waiting.pop(ref)
        try:
            value = self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as exc:  # grade() raised: the grader failed on this file
            work, slot.work = slot.work, None
            self.idle.append(slot)
            yield work, failure_report(work, str(exc.cause or exc).strip().splitlines()[-1], self.settings)
            return
        except self.ray.exceptions.RayError as exc:  # the actor or its node is gone
            yield from self._lost(slot, kind, exc, pending)
            return
        if kind == "ready":
            self._welcome(slot, value)
        else:
            work, slot.work = slot.work, None
            self.idle.append(slot)
            yield work, value

    def _welcome(self, slot: Slot, facts: dict) -> None:
        slot.node = facts["node"]
        if facts["problem"]:
            self.bad[slot.node_id] = f"{facts['node']}: grades nothing: {facts['problem']}"
            self.say(self.bad[slot.node_id])
            self.notes.append(self.bad[slot.node_id])
            self._drop(slot)
            return
        if slot.node_id not in self.ready_nodes:
            self.ready_nodes.add(slot.node_id)
            self.say(f"{facts['node']}: grading in the {facts['backend']} sandbox on {facts['device']}, "
                     f"MNIST {facts['mnist']}")
        self.idle.append(slot)

    def _lost(self, slot: Slot, kind: str, exc, pending: Pending) -> Iterator[tuple[Work, str]]:
        self._drop(slot)
        why = f"{slot.node or slot.node_id[:12]}: {type(exc).__name__}"
        if kind == "ready":
            self.deaths[slot.node_id] += 1
            if self.deaths[slot.node_id] >= NODE_DEATHS:
                self.bad[slot.node_id] = f"{why}: grades nothing: its grading slots died before starting"
                self.notes.append(self.bad[slot.node_id])
            return
        work = slot.work
        if self.abandoned:  # killed on purpose: it stays ungraded, and the next run grades it
            return
        self.say(f"{why}: lost {work.name} while grading it"
                 + ("; another slot grades it" if self.tries[work.key] < MAX_TRIES else ""))
        if self.tries[work.key] < MAX_TRIES:
            pending.give_back(work)
        else:
            yield work, failure_report(work, f"the Ray slot grading it was lost {MAX_TRIES} times (last: {why})",
                                       self.settings)

    def _drop(self, slot: Slot) -> None:
        self.live[slot.node_id] -= 1
        self.refill = not self.stopping  # a replacement, where the node is still there and can grade
        self.ray.kill(slot.actor, no_restart=True)

    def _nobody_can_grade(self) -> str:
        if self.bad:
            return "no node of the cluster can grade: " + "; ".join(self.bad.values())
        return (f"the cluster has no node with {self.cpus:g} free CPU(s)"
                + (f" and {self.gpus:g} GPU(s)" if self.gpus else "") + " for a grading slot")

    # ------------------------------------------------------------------ Ctrl-C, the end
    def stop(self) -> None:
        self.stopping = True

    def abandon(self) -> None:
        self.stopping = self.abandoned = True
        for kind, slot in list(self.waiting.values()):
            self.ray.kill(slot.actor, no_restart=True)

    def _shutdown(self) -> None:
        for _, slot in self.waiting.values():
            self.ray.kill(slot.actor, no_restart=True)
        for slot in self.idle:
            self.ray.kill(slot.actor, no_restart=True)


def cluster_status(address: str | None, sandbox_kind: str = "auto", image: str = "grader:latest") -> list[dict]:
    """Each alive node's resources and facts (backend, MNIST, GPU), probed by a task pinned to that node."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    with connected(address) as ray:
        probe = ray.remote(num_cpus=0)(node_facts)
        nodes = alive_nodes(ray)
        refs = [probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False))
                .remote(sandbox_kind, image) for n in nodes]
        return [{**ray.get(ref), "cpus": n["Resources"].get("CPU", 0), "gpus": n["Resources"].get("GPU", 0)}
                for n, ref in zip(nodes, refs)]
