"""A real `grader serve` process on a free port, and a stdlib HTTP client for its API (tests and bench)."""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path

GRADER = str(Path(sys.executable).parent / "grader")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def multipart(name: str, content: bytes) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 303 itself is the answer


class Client:
    def __init__(self, base: str):
        self.base = base

    def call(self, method: str, path: str, token: str | None = None, body: bytes | None = None,
             content_type: str | None = None) -> tuple[int, dict, Message]:
        """(status, JSON body, headers: case-blind); an HTTP error is an answer too, never an exception."""
        req = urllib.request.Request(self.base + path, data=body, method=method)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        if content_type:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, json.loads(resp.read() or b"null"), resp.headers
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null"), exc.headers

    def browse(self, path: str, session: str, data: bytes | None = None,
               content_type: str = "application/x-www-form-urlencoded") -> tuple[int, Message, bytes]:
        """A browser's request, signed in by the session cookie: (status, headers, body), redirects not followed."""
        headers = {"Cookie": f"grader_session={session}", **({"Content-Type": content_type} if data else {})}
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(urllib.request.Request(self.base + path, data=data, headers=headers), timeout=60) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def submit(self, token: str | None, name: str, content: bytes):
        body, ctype = multipart(name, content)
        return self.call("POST", "/api/submissions", token, body, ctype)

    def wait(self, token: str, sub_id: str, timeout: float = 900) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, body, _ = self.call("GET", f"/api/submissions/{sub_id}", token)
            assert status == 200, body
            if body["state"] in ("done", "failed"):
                return body
            time.sleep(1)
        raise TimeoutError(f"submission {sub_id} not graded in {timeout} s")


def raw(base: str, method: str, path: str, headers: dict | None = None, body: bytes | None = None):
    """One request, redirects not followed: (status, headers, body)."""
    conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def cookie(headers: Message, name: str) -> str | None:
    """The Set-Cookie line that sets `name`, whole (its attributes are what a test checks)."""
    return next((c for c in headers.get_all("Set-Cookie") or [] if c.startswith(f"{name}=")), None)


def sign_in(base: str, token: str) -> str:
    """What a browser does with a sign-in link: follow it, press the page's button; the session cookie's value."""
    status, headers, _ = raw(base, "GET", f"/signin?token={token}")
    assert status == 303 and headers["Location"] == "/signin", status
    link = cookie(headers, "grader_signin").split(";")[0]
    status, _, page = raw(base, "GET", "/signin", {"Cookie": link})
    csrf = re.search(rb'name="csrf" value="([0-9a-f]+)"', page).group(1).decode()
    status, headers, _ = raw(base, "POST", "/signin", {"Cookie": link, "Sec-Fetch-Site": "same-origin",
                                                       "Content-Type": "application/x-www-form-urlencoded"},
                             f"csrf={csrf}".encode())
    assert status == 303 and headers["Location"] == "/", status
    return cookie(headers, "grader_session").split(";")[0].partition("=")[2]


class Server:
    """`grader serve COURSE` as its own process (killable with SIGKILL), ready when /healthz says so."""

    def __init__(self, course: Path, *args: str, env: dict | None = None):
        self.port = free_port()
        self.log = open(course / f"server-{self.port}.log", "wb")
        self.proc = subprocess.Popen([GRADER, "serve", str(course), "--port", str(self.port), *args],
                                     stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        self.client = Client(f"http://127.0.0.1:{self.port}")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"grader serve exited {self.proc.returncode}: {self.log_text()}")
            try:
                if self.client.call("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"grader serve not ready in 120 s: {self.log_text()}")

    def log_text(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def tokens(course: Path) -> dict[str, str]:
    import csv

    with open(course / "tokens.csv", encoding="utf-8") as fh:
        return {row["student"]: row["token"] for row in csv.DictReader(fh)}


def make_course(folder: Path, students: list[str], rubric: Path | None = None) -> dict[str, str]:
    """A course with these students and one instructor `prof`; returns student -> token."""
    folder.mkdir(parents=True, exist_ok=True)
    roster = folder.parent / f"{folder.name}-roster.csv"
    roster.write_text("student,role\n" + "".join(f"{s},student\n" for s in students) + "prof,instructor\n")
    subprocess.run([GRADER, "serve", "roster", str(roster), "--course", str(folder)], check=True,
                   capture_output=True)
    if rubric:
        (folder / "rubric.toml").write_text(rubric.read_text())
    return tokens(folder)


def load(api: Client, tokens_by_student: dict[str, str], files: list[tuple[str, bytes]]) -> dict:
    """Each student a client thread, the files dealt round-robin, all at once; then every client polls its
    own submissions until all are graded. Returns each API call's (seconds, status, graders busy) and the ids."""
    import threading

    students = list(tokens_by_student)
    calls: list[tuple[float, int, bool]] = []
    ids: dict[str, list[str]] = {s: [] for s in students}
    pending = {"n": len(files)}
    lock, go = threading.Lock(), threading.Barrier(len(students))

    def timed(*args):
        started = time.monotonic()
        status, body, headers = api.call(*args)
        with lock:
            calls.append((time.monotonic() - started, status, pending["n"] > 0))
        return status, body

    def client(k: int, student: str) -> None:
        token = tokens_by_student[student]
        go.wait()
        for name, content in files[k::len(students)]:
            body, ctype = multipart(name, content)
            status, answer = timed("POST", "/api/submissions", token, body, ctype)
            if status == 202:
                ids[student].append(answer["id"])
        waiting = set(ids[student])
        while waiting:
            for sub_id in list(waiting):
                status, answer = timed("GET", f"/api/submissions/{sub_id}", token)
                if status == 200 and answer["state"] in ("done", "failed"):
                    waiting.discard(sub_id)
                    with lock:
                        pending["n"] -= 1
            timed("GET", "/api/submissions", token)
            time.sleep(0.5)

    threads = [threading.Thread(target=client, args=(k, s)) for k, s in enumerate(students)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"calls": calls, "ids": ids}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else float("nan")
