"""`--sandbox docker`: one fresh, hardened container per job, through the Docker SDK.

No network, read-only root filesystem, size-capped tmpfs for /tmp and the working dir, memory = memory+swap,
CPU quota, pids limit, every capability dropped, no-new-privileges, uid 65534, an init process, nofile /
fsize / core / cpu ulimits, and a label so leftovers can be found (`grader sandbox clean`). Inputs arrive
through read-only bind mounts (a read-only container refuses put_archive). Images are never pulled here:
`grader image build` makes them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import socket
import tempfile
import time
import uuid
from pathlib import Path

import grader
from grader import data
from grader.harness import idx
from grader.sandbox import Job, Result, Running, Sandbox, Settings

LABEL = "grader.sandbox"
DATA_LABEL = "grader.data"
HARNESS_LABEL = "grader.harness"  # digest of the in-sandbox code the image carries
OWNER_LABEL = "grader.owner"  # host/pid of the grader that started the container: clean() spares live ones
BAKED = {"train-images": data.FILES["train_images"], "train-labels": data.FILES["train_labels"]}


def harness_digest() -> str:
    """sha256 of the code that runs inside the sandbox; host and image must agree on it (same protocol)."""
    package = Path(grader.__file__).resolve().parent
    digest = hashlib.sha256()
    sandboxed = [package / "__init__.py", package / "evaluate.py", package / "replayer.py"]
    for path in sorted([*sandboxed, *(package / "harness").rglob("*.py")]):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def client(timeout: int = 30):
    import docker

    return docker.from_env(timeout=timeout)


class DockerSandbox(Sandbox):
    name = "docker"
    text_stdout = True  # stdout comes back through the engine's log driver (protocol.py)

    def __init__(self, settings: Settings | None = None):
        super().__init__(settings)
        self.client = client()
        image = self.client.images.get(self.settings.image)
        self.data_dir = (image.labels or {}).get(DATA_LABEL)

    @classmethod
    def unavailable(cls, settings: Settings) -> str | None:
        try:
            import docker

            c = client(timeout=5)
            c.ping()
        except Exception as exc:  # no socket, permission denied, daemon down ...
            return (f"no Docker engine answers ({type(exc).__name__}); start one (e.g. `sudo systemctl start docker`, "
                    "or .ci/docker-engine.sh on a machine without an init system)")
        try:
            image = c.images.get(settings.image)
        except docker.errors.ImageNotFound:
            return f"the image {settings.image} does not exist; build it with `grader image build`"
        built_from, ours = (image.labels or {}).get(HARNESS_LABEL), harness_digest()
        if built_from != ours:
            return (f"the image {settings.image} carries another version of the grader's sandbox code (image: "
                    f"{built_from or 'unlabelled'}, this grader: {ours}); rebuild it with `grader image build`")
        return None

    def baked(self, name: str) -> str | None:
        return f"{self.data_dir}/{BAKED[name]}" if self.data_dir and name in BAKED else None

    def container_options(self, job: Job) -> dict:
        """The hardening, in one place (unit-tested argument by argument)."""
        from docker.types import DeviceRequest, Mount, Ulimit

        lim = job.limits
        tmpfs = f"rw,nosuid,nodev,size={lim.tmpfs_mb}m,uid=65534,gid=65534,mode=0700"
        if job.cpu_meter:  # the supervisor reads the container's own cgroup (or sums its pid namespace)
            job = dataclasses.replace(job, args=(*job.args, "--cpu-usage", "cgroup"))
        options = dict(
            command=job.command("python", "/sandbox"),
            user="65534:65534",
            working_dir="/sandbox/work",
            environment={"HOME": "/sandbox/work"},
            network_mode="none",
            read_only=True,
            tmpfs={"/tmp": tmpfs, "/sandbox/work": tmpfs, "/sandbox/tmp": tmpfs},
            shm_size=f"{min(lim.tmpfs_mb, 256)}m",  # DataLoader workers pass batches through /dev/shm
            mem_limit=f"{lim.memory_mb}m",
            memswap_limit=f"{lim.memory_mb}m",
            nano_cpus=int(job.cpus * 1e9),
            pids_limit=lim.pids,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            init=True,
            ulimits=[Ulimit(name="nofile", soft=lim.open_files, hard=lim.open_files),
                     Ulimit(name="fsize", soft=lim.file_size_mb << 20, hard=lim.file_size_mb << 20),
                     Ulimit(name="core", soft=0, hard=0),
                     Ulimit(name="cpu", soft=job.cpu_seconds, hard=job.cpu_seconds)],
            labels={LABEL: "1", "grader.job": job.module, OWNER_LABEL: f"{socket.gethostname()}/{os.getpid()}"},
            stdin_open=True,  # the supervisor's signing key arrives on stdin (it reads one line, then closes it)
            mounts=[Mount(target=f"/sandbox/in/{name}", source=os.path.realpath(host), type="bind", read_only=True)
                    for name, host in job.inputs.items()],
            detach=True,
        )
        if job.device == "cuda":
            options["device_requests"] = [DeviceRequest(count=-1, capabilities=[["gpu"]])]
        return options

    def enforced(self, job: Job) -> dict:
        lim = job.limits
        return {**super().enforced(job), "image": self.settings.image, "user": 65534, "network": "none",
                "filesystem": f"read-only root; inputs bind-mounted read-only; work dir and /tmp on {lim.tmpfs_mb} MB tmpfs",
                "memory_mb": lim.memory_mb, "swap_mb": 0, "cpus": job.cpus, "pids": lim.pids,
                "file_size_mb": lim.file_size_mb, "open_files": lim.open_files, "core_dumps": False,
                "capabilities": "none", "no_new_privileges": True}

    def run(self, job: Job) -> Result:
        import requests

        container = self.client.containers.create(self.settings.image, name=f"grader-{uuid.uuid4().hex[:12]}",
                                                  **self.container_options(job))
        timed_out = False
        try:
            started = time.monotonic()
            stdin = container.attach_socket(params={"stdin": 1, "stream": 1})
            container.start()
            _send(stdin, job.stdin)
            try:
                status = container.wait(timeout=job.timeout_s)
                code = status.get("StatusCode")
            except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
                timed_out, code = True, None
                container.kill()
            wall = time.monotonic() - started
            out = container.logs(stdout=True, stderr=False)
            err = container.logs(stdout=False, stderr=True)
            container.reload()
            oom = bool(container.attrs.get("State", {}).get("OOMKilled"))
            return Result(out, err, code, wall, timed_out=timed_out, oom=oom)
        finally:
            container.remove(force=True)

    def start(self, job: Job) -> Running:
        container = self.client.containers.create(self.settings.image, name=f"grader-{uuid.uuid4().hex[:12]}",
                                                  **self.container_options(job))
        try:
            stdin = _raw(container.attach_socket(params={"stdin": 1, "stream": 1}))
            container.start()
            out = container.logs(stdout=True, stderr=False, stream=True, follow=True)
            err = container.logs(stdout=False, stderr=True, stream=True, follow=True)
        except BaseException:
            container.remove(force=True)
            raise

        def stop() -> None:
            try:
                stdin.close()
            finally:
                container.remove(force=True)

        stdin.sendall(job.stdin)
        return Running(stdin.sendall, out, stop, err)


def _raw(sock):
    return getattr(sock, "_sock", sock)  # the SDK wraps the socket in a SocketIO


def _send(sock, data: bytes) -> None:
    raw = _raw(sock)
    try:
        raw.sendall(data)
    finally:
        raw.close()


def clean() -> int:
    """Remove the containers a killed grader left behind (they carry the label), never those of a grader
    still running on this host (a batch beside this one). Returns how many."""
    gone = 0
    for container in client().containers.list(all=True, filters={"label": LABEL}):
        if not owner_alive(container.labels or {}):
            container.remove(force=True)
            gone += 1
    return gone


def owner_alive(labels: dict) -> bool:
    host, _, pid = labels.get(OWNER_LABEL, "").rpartition("/")
    return host == socket.gethostname() and pid.isdigit() and Path(f"/proc/{pid}").exists()


def build_image(tag: str, base_image: str | None, data_files: dict[str, Path], log=print,
                target: str = "sandbox") -> str:
    """Build one stage of the project's Dockerfile (the sandbox image, or the service's); returns the image id."""
    project = Path(grader.__file__).resolve().parent.parent
    dockerfile = project / "Dockerfile"
    if not dockerfile.is_file():
        raise FileNotFoundError(f"no Dockerfile at {dockerfile}: build the image from a checkout of the project")
    with tempfile.TemporaryDirectory(prefix="grader-image-") as tmp:
        ctx = Path(tmp)
        shutil.copy(dockerfile, ctx / "Dockerfile")
        shutil.copy(_ca_bundle(), ctx / "ca.crt")
        (ctx / "data").mkdir()
        for role in data.TRAIN:  # the training set only, decompressed
            dims, payload = idx.read(data_files[role])
            idx.write(ctx / "data" / data.FILES[role], dims, payload)
        src = ctx / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(project / name, src / name)
        shutil.copytree(project / "grader", src / "grader", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        args = {"GRADER_HARNESS": harness_digest(), **({"BASE_IMAGE": base_image} if base_image else {})}
        image_id = None
        for chunk in client(timeout=3600).api.build(path=str(ctx), tag=tag, buildargs=args, network_mode="host",
                                                    target=target, rm=True, forcerm=True, decode=True):
            if "stream" in chunk and chunk["stream"].strip():
                log(chunk["stream"].rstrip())
            if "error" in chunk:
                raise RuntimeError(chunk["error"].strip())
            if "aux" in chunk and "ID" in chunk["aux"]:
                image_id = chunk["aux"]["ID"]
        return image_id or tag


def _ca_bundle() -> str:
    for candidate in ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"):
        if os.path.isfile(candidate):
            return candidate
    import certifi

    return certifi.where()
