"""The ASGI app: the JSON API (Bearer tokens) over the course store, and the grading thread's lifecycle.

Every handler is short: it reads or writes the store and returns. Grading runs in the executor's worker
processes, so the event loop answers while the graders are busy.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from grader import __version__, inert
from grader.serve.store import Caller, OverLimit, ServeStore, Submission
from grader.serve.worker import Dispatcher

access = logging.getLogger("grader.serve.access")
SUFFIXES = (".py", ".ipynb")
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and headers around the file
API_CSP = "default-src 'none'; frame-ancestors 'none'"


@dataclass(frozen=True)
class Limits:
    upload_bytes: int = 2 * 1024 * 1024
    per_hour: int = 30  # submissions per student per hour
    queue: int = 200  # distinct files waiting to be graded
    queue_retry_s: int = 60
    session_days: float = 14  # a browser session; the token itself lasts until issued again


class Refused(Exception):
    """An answer other than success: the status, a message for the person, and headers (Retry-After)."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def bearer(request: Request, store: ServeStore) -> Caller:
    kind, _, token = request.headers.get("authorization", "").partition(" ")
    caller = store.caller(token.strip()) if kind.lower() == "bearer" and token.strip() else None
    if caller is None:
        raise Refused(401, "a valid token is required: Authorization: Bearer TOKEN (from tokens.csv)",
                      {"WWW-Authenticate": "Bearer"})
    return caller


def upload_name(raw: str | None) -> str:
    """The uploaded file's name as shown and as its suffix says .py or .ipynb: its last component only,
    bounded; it never becomes a path on the server (the bytes live in the store)."""
    name = PurePosixPath((raw or "").replace("\\", "/")).name
    safe = inert.file_name(name) if name else ""
    if not safe.lower().endswith(SUFFIXES):
        raise Refused(400, f"upload a .py or .ipynb file (got {inert.plain(name)[:80]!r})")
    return safe


async def read_capped(request: Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it is larger than `limit`, declared or not."""
    too_big = Refused(413, f"the upload is larger than the limit of {limit - FORM_OVERHEAD} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


async def upload_form(request: Request, limit: int):
    """The multipart form, its body read under the size limit first."""
    body = await read_capped(request, limit + FORM_OVERHEAD)

    async def replay():
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        return await Request(request.scope, replay).form(max_files=1, max_fields=4)
    except Exception as exc:  # python-multipart's and starlette's parse errors
        raise Refused(400, f"expected a multipart form with a field `file` ({exc})") from None


async def uploaded_file(form, limit: int) -> tuple[str, bytes]:
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise Refused(400, "expected a multipart form with a field `file`")
    content = await upload.read()
    if len(content) > limit:
        raise Refused(413, f"the file is larger than the limit of {limit} bytes")
    if not content:
        raise Refused(400, "the file is empty")
    return upload_name(upload.filename), content


class Service:
    def __init__(self, course: Path, digest: str, dispatcher: Dispatcher, limits: Limits, jobs: int = 1):
        self.course, self.digest, self.dispatcher, self.limits, self.jobs = course, digest, dispatcher, limits, jobs
        self.store: ServeStore | None = None

    def check_limits(self, caller: Caller) -> None:
        """Refuse early, before the body is read; accept() checks again in the insert's transaction."""
        with self.over_limit():
            self.store.check_limits(caller.student, self.limits.per_hour, self.limits.queue)

    @contextlib.contextmanager
    def over_limit(self):
        try:
            yield
        except OverLimit as exc:
            if exc.limit == "per_hour":
                raise Refused(429, f"at most {self.limits.per_hour} submissions an hour",
                              {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}) from None
            raise Refused(429, "the grading queue is full: try again later",
                          {"Retry-After": str(self.limits.queue_retry_s)}) from None

    def view(self, sub: Submission, request: Request) -> dict:
        done = sub.state in ("done", "failed")
        return {"id": sub.id, "state": sub.state, "url": str(request.url_for("submission", id=sub.id)),
                "student": sub.student, "filename": sub.filename, "sha256": sub.sha256,
                "accepted": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sub.accepted)),
                "report": json.loads(sub.report) if done and sub.report else None}

    def visible(self, caller: Caller, sub_id: str) -> Submission:
        """Another student's submission and a made-up id read the same: 404, nothing else."""
        sub = self.store.get(sub_id)
        if sub is None or not (caller.instructor or sub.student == caller.student):
            raise Refused(404, "no such submission")
        return sub

    # ------------------------------------------------------------------ endpoints
    async def submit(self, request: Request) -> Response:
        caller = bearer(request, self.store)
        self.check_limits(caller)
        form = await upload_form(request, self.limits.upload_bytes)
        body = self.view(await self.accept(caller, form), request)
        return JSONResponse(body, status_code=202, headers={"Location": body["url"]})

    async def accept(self, caller: Caller, form) -> Submission:
        name, content = await uploaded_file(form, self.limits.upload_bytes)
        with self.over_limit():  # committed before the answer
            sub = self.store.accept(caller.student, name, content, self.digest, __version__,
                                    (self.limits.per_hour, self.limits.queue))
        if sub.state == "queued":
            self.dispatcher.wake.set()
            return sub
        return self.store.get(sub.id)  # answered from the store: it carries the report

    async def one(self, request: Request) -> Response:
        caller = bearer(request, self.store)
        return JSONResponse(self.view(self.visible(caller, request.path_params["id"]), request))

    async def listing(self, request: Request) -> Response:
        caller = bearer(request, self.store)
        subs = self.store.mine(None if caller.instructor else caller.student)
        return JSONResponse({"submissions": [{k: v for k, v in self.view(s, request).items() if k != "report"}
                                             for s in subs]})  # newest 100; each one's report at its url

    async def regrade(self, request: Request) -> Response:
        """Instructors: {"student": ID} queues that student's newest graded submission again; {} everyone's."""
        caller = bearer(request, self.store)
        if not caller.instructor:
            raise Refused(404, "not found")
        try:
            wanted = (await request.json() if await request.body() else {}).get("student")
        except (ValueError, AttributeError):
            raise Refused(400, 'expected JSON: {"student": ID} or {} for everyone') from None
        return JSONResponse({"queued": self.requeue(None if wanted is None else str(wanted))}, status_code=202)

    def requeue(self, student: str | None) -> list[str]:
        """Queue again the newest graded submission of a student (None: everyone's): the API's and the class
        page's regrade. The new verdict replaces the stored one when it arrives."""
        ids = self.store.regrade(student)
        if student is not None and not ids:
            raise Refused(404, "that student has no graded submission")
        self.dispatcher.wake.set()
        return ids

    async def healthz(self, request: Request) -> Response:
        ok = self.store is not None and self.dispatcher.alive
        return JSONResponse({"ok": ok, "version": __version__}, status_code=200 if ok else 503)

    @contextlib.asynccontextmanager
    async def lifespan(self, app):
        self.store = ServeStore(self.course / "grader.db")
        self.dispatcher.start()
        try:
            yield
        finally:
            self.dispatcher.stop()
            self.store.close()


def guarded(handler, answer=error):
    """Refusals become answers: JSON for the API, a page for the browser."""
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except Refused as exc:
            return answer(exc.status, exc.message, exc.headers)
    return endpoint


class AccessLog:
    """One JSON line per request; the path without its query (a sign-in link carries a token)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.monotonic(), {}

        async def sending(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                headers = dict(message["headers"])
                for key, value in ((b"content-security-policy", API_CSP.encode()), (b"x-content-type-options",
                                   b"nosniff"), (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")):
                    if key not in headers:
                        message["headers"].append((key, value))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            access.info(json.dumps({"method": scope["method"], "path": scope["path"], "status": status.get("code"),
                                    "ms": round((time.monotonic() - started) * 1000, 1),
                                    "client": (scope.get("client") or ["?"])[0]}))


def build(course: Path, digest: str, dispatcher: Dispatcher, limits: Limits = Limits(), jobs: int = 1):
    svc = Service(course, digest, dispatcher, limits, jobs)
    from grader.serve import instructor, pages

    routes = [Route("/healthz", svc.healthz), *pages.routes(svc), *instructor.routes(svc),
              Route("/api/submissions", guarded(svc.submit), methods=["POST"]),
              Route("/api/submissions", guarded(svc.listing), methods=["GET"]),
              Route("/api/submissions/{id}", guarded(svc.one), methods=["GET"], name="submission"),
              Route("/api/regrade", guarded(svc.regrade), methods=["POST"])]
    return AccessLog(Starlette(routes=routes, lifespan=svc.lifespan))
