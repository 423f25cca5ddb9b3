"""The exact hardening each backend asks for, and backend selection: no engine needed."""

import os
import socket
from pathlib import Path

import pytest

from grader import sandbox
from grader.rubric import Limits
from grader.sandbox import Job, Settings
from grader.sandbox.docker import LABEL, OWNER_LABEL, DockerSandbox, owner_alive
from grader.sandbox.process import ProcessSandbox, python_paths


def job(device: str = "cpu") -> Job:
    return Job("grader.harness.supervisor", {"spec.json": Path("/tmp/x/spec.json")}, Limits(), timeout_s=140,
               device=device, cpus=2.0)


def docker_backend() -> DockerSandbox:
    backend = DockerSandbox.__new__(DockerSandbox)  # no engine: only the options are built
    backend.settings, backend.data_dir = Settings(), "/opt/grader/data"
    return backend


def test_docker_hardening_arguments():
    o = docker_backend().container_options(job())
    assert o["network_mode"] == "none" and o["read_only"] is True and o["init"] is True
    assert o["user"] == "65534:65534" and o["cap_drop"] == ["ALL"] and o["security_opt"] == ["no-new-privileges"]
    assert o["mem_limit"] == o["memswap_limit"] == "3072m"
    assert o["nano_cpus"] == 2_000_000_000 and o["pids_limit"] == 256
    assert set(o["tmpfs"]) == {"/tmp", "/sandbox/work", "/sandbox/tmp"}
    assert all("size=512m" in v and "nosuid" in v for v in o["tmpfs"].values())
    limits = {u["Name"]: u["Hard"] for u in o["ulimits"]}
    assert limits["nofile"] == 1024 and limits["fsize"] == 256 << 20 and limits["core"] == 0 and limits["cpu"] > 0
    assert o["labels"][LABEL] == "1" and owner_alive(o["labels"])  # this grader, running
    [mount] = o["mounts"]
    assert mount["Target"] == "/sandbox/in/spec.json" and mount["ReadOnly"] is True and mount["Type"] == "bind"
    assert "device_requests" not in o


def test_docker_gpu_goes_through_a_device_request():
    [request] = docker_backend().container_options(job("cuda"))["device_requests"]
    assert request["Capabilities"] == [["gpu"]] and request["Count"] == -1


def test_docker_serves_training_data_from_the_image_only():
    backend = docker_backend()
    assert backend.baked("train-images") == "/opt/grader/data/train-images-idx3-ubyte"
    assert backend.baked("test-images") is None


def test_process_rlimits_leave_room_for_torch():
    backend = ProcessSandbox.__new__(ProcessSandbox)
    backend.root, backend.cgroups = True, True
    limits = backend._rlimits(job())
    assert limits["as"] >= 4 << 30 and limits["core"] == 0 and limits["fsize"] == 256 << 20
    assert "nproc" not in limits  # as root the pids cgroup counts, not the shared uid
    assert "as" not in backend._rlimits(job("cuda"))
    backend.cgroups = False
    assert "nproc" in backend._rlimits(job())


def test_process_binds_survive_a_project_under_tmp(monkeypatch):
    """A checkout under /tmp (CI runners, scratch clones): the /tmp tmpfs must not hide the venv."""
    from grader.sandbox import process

    monkeypatch.setattr(process, "python_paths", lambda: ["/tmp/fresh/.venv", "/tmp/fresh/grader"])
    backend = ProcessSandbox.__new__(ProcessSandbox)
    args = backend.bwrap_args(job(), None, [])
    mounts = [(args[i], args[i + 1] if args[i] == "--tmpfs" else args[i + 2]) for i in range(len(args))
              if args[i] in ("--tmpfs", "--ro-bind")]
    for n, (kind, dest) in enumerate(mounts):
        if kind == "--tmpfs":  # no earlier bind may sit inside a tmpfs mounted later
            assert not [d for k, d in mounts[:n] if k == "--ro-bind" and d.startswith(dest + "/")], (dest, mounts)
    assert ("--ro-bind", "/tmp/fresh/.venv") in mounts


def test_python_paths_are_minimal_and_include_the_grader():
    paths = python_paths()
    assert any(Path(__import__("grader").__file__).resolve().is_relative_to(p) for p in paths)
    assert len(paths) == len(set(paths))


def test_a_stale_docker_image_is_refused_with_the_fix(monkeypatch):
    from grader.sandbox import docker as docker_sandbox

    class Image:
        labels = {docker_sandbox.HARNESS_LABEL: "0123456789abcdef"}

    class Client:
        images = type("Images", (), {"get": staticmethod(lambda tag: Image())})

        def ping(self):
            return True

    monkeypatch.setattr(docker_sandbox, "client", lambda timeout=30: Client())
    why = DockerSandbox.unavailable(Settings())
    assert "another version" in why and "grader image build" in why
    Image.labels = {docker_sandbox.HARNESS_LABEL: docker_sandbox.harness_digest()}
    assert DockerSandbox.unavailable(Settings()) is None


def test_unknown_and_unavailable_backends_say_how_to_fix(monkeypatch):
    with pytest.raises(sandbox.SandboxUnavailable, match="unknown sandbox"):
        sandbox.select("vm")
    monkeypatch.setattr(ProcessSandbox, "unavailable", classmethod(lambda cls, s: "install bubblewrap"))
    monkeypatch.setattr(DockerSandbox, "unavailable", classmethod(lambda cls, s: "start docker"))
    with pytest.raises(sandbox.SandboxUnavailable, match="install bubblewrap"):
        sandbox.select("process")
    with pytest.raises(sandbox.SandboxUnavailable, match="--sandbox none") as err:
        sandbox.select("auto")
    assert "start docker" in str(err.value) and "install bubblewrap" in str(err.value)
    assert sandbox.select("none").name == "none"


def test_clean_spares_only_containers_of_graders_still_running():
    here = socket.gethostname()
    assert owner_alive({OWNER_LABEL: f"{here}/{os.getpid()}"})
    assert not owner_alive({OWNER_LABEL: f"{here}/999999999"})  # its grader was killed: a leftover
    assert not owner_alive({OWNER_LABEL: f"another-host/{os.getpid()}"})  # a pid here says nothing there
    assert not owner_alive({})  # an older grader's container, unlabelled


@pytest.mark.parametrize("cpus, warm, threads", [(2, True, 1), (2, False, 2), (1, True, 1), (4, True, 3), (1.5, False, 2)])
def test_torch_threads_leave_a_core_to_the_evaluator_warming_up_beside_them(cpus, warm, threads):
    from grader.grade import Grader, Options

    grader = Grader.__new__(Grader)  # no data, no backend: only the thread count is computed
    grader.cpus, grader.options = cpus, Options(warm_evaluator=warm)
    assert grader.threads == threads
