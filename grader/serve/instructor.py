"""The instructor's pages: the live class page (with its regrade buttons and exports), the queue, and every
export `grader grade` writes, made from the store by the batch's own functions (grader/batch/exports.py).

A student gets 404 on all of them, as for a page that does not exist. The regrade buttons are form posts
carrying the session's CSRF token; the downloads are GETs that change nothing. Pages and exports of a whole
class are drawn in a worker thread (the store is read first, on the event loop), so a class of hundreds does
not hold up the API while it renders.
"""

from __future__ import annotations

import io
import time
import zipfile

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from grader import __version__, formats, html
from grader.batch import exports
from grader.batch.inputs import Student
from grader.batch.store import Row
from grader.report import Report
from grader.serve.app import Refused, Service, guarded, upload_form
from grader.serve.pages import REFRESH_S, check_csrf, csrf_token, minutes_left, page, refused, session
from grader.serve.store import Caller

# download name -> the batch's export targets it holds: a zip of folders (as laid out in `grader grade`'s
# DIR), or one file of a target
DOWNLOADS: dict[str, tuple[str, ...]] = {
    "grades.csv": ("grades.csv",), "summary.md": ("summary.md",), "reports.zip": ("reports/",),
    "class.zip": ("index.html", "pages/"), **{f"{fmt}.zip": (f"{fmt}/",) for fmt in formats.NAMES},
    "junit.xml": ("junit/",),
    **{f"gradebook-{lms}.csv": (f"gradebook-{lms}.csv",) for lms in exports.GRADEBOOKS},
}
LISTED = [name for name in DOWNLOADS if not name.startswith("gradebook-")]  # gradebooks: the class page's form
MEDIA = {".csv": "text/csv; charset=utf-8", ".md": "text/markdown; charset=utf-8", ".zip": "application/zip",
         ".xml": "application/xml"}
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the same class downloads as the same bytes


def instructor(svc: Service, request: Request) -> tuple[Caller, str]:
    caller, token = session(svc, request)
    if not caller.instructor:
        raise Refused(404, "no such page")
    return caller, token


def class_rows(svc: Service, source: str = "grader serve") -> list[Row]:
    """Every student on the roster with their latest graded submission, as the batch's rows. `source`: the
    LMS whose gradebook is asked for; the roster's ids are then taken as that LMS's."""
    latest = svc.store.latest_graded()
    rows = []
    for who, name in svc.store.students():
        sub = latest.get(who)
        rows.append(Row(Student(id=who, source=source, name=name, file=sub.filename if sub else None,
                                filename=sub.filename if sub else None,
                                problem=None if sub else "no graded submission yet"),
                        sub.sha256 if sub else None, sub.report if sub else None))
    return rows


def gradebook_options(request: Request) -> dict:
    """column-id, title and points from the query, as `grader grade --column-id --points` takes them."""
    query = request.query_params
    points = query.get("points", "").strip()
    try:
        worth = float(points) if points else None
    except ValueError:
        worth = None
    if points and not (worth and 0 < worth < 1e9):
        raise Refused(400, f"points must be a positive number (got {points[:20]!r})")
    return {"column_id": query.get("column-id", "").strip() or None, "points": worth,
            "title": query.get("title", "").strip() or "MNIST training loop"}


def zipped(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, text in sorted(files.items()):
            zf.writestr(zipfile.ZipInfo(rel, ZIP_TIME), text.encode("utf-8"), zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def export_bytes(name: str, rows: list[Row], run: dict, options: dict) -> bytes:
    """One download: the batch's files of its targets, zipped, or the one file it names."""
    made = exports.Exports(rows, run, **options)
    if name.startswith("gradebook-") and not made.graded:
        raise Refused(409, "no student has a graded submission yet")
    files: dict[str, str] = {}
    try:
        for target in DOWNLOADS[name]:
            files.update(made.files(target))
    except exports.ExportError as exc:
        raise Refused(409, str(exc)) from None
    return zipped(files) if name.endswith(".zip") else files[name].encode("utf-8")


def routes(svc: Service) -> list[Route]:
    async def class_page(request: Request) -> Response:
        _, token = instructor(svc, request)
        latest = sorted(svc.store.latest_graded().items())
        service = {"csrf": csrf_token(token), "downloads": LISTED, "gradebooks": exports.GRADEBOOKS}
        title = f"Class ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})"

        def draw() -> str:
            entries = [(who, Report.model_validate_json(sub.report), f"submissions/{sub.id}") for who, sub in latest]
            return html.class_index(entries, title=title, service=service)

        return page(await run_in_threadpool(draw))

    async def queue(request: Request) -> Response:
        caller, _ = instructor(svc, request)
        rows = []
        for sub in svc.store.waiting():
            position = svc.store.position(sub) if sub.state == "queued" else None
            rows.append({**svc.view(sub, request), "position": position,
                         "minutes": minutes_left(svc, position) if position else None})
        running = sum(r["state"] == "running" for r in rows)
        files = len({r["sha256"] for r in rows})
        message = (f"{len(rows) - running} queued, {running} running ({files} distinct "
                   f"file{'s' if files != 1 else ''}; {svc.jobs} graded at once).")
        return page(html.service_page(title="The queue", view="queue", who=caller.student, instructor=True,
                                      queue=rows, message=message), headers={"Refresh": str(REFRESH_S)})

    async def regrade(request: Request) -> Response:
        """The class page's buttons: a `student` field regrades that student, none the whole class."""
        _, token = instructor(svc, request)
        form = await upload_form(request, 0)  # a few short fields: the form overhead bounds the body
        check_csrf(form, token)
        student = str(form.get("student", "")) or None
        svc.requeue(student)
        return RedirectResponse("/queue", status_code=303)

    async def download(request: Request) -> Response:
        instructor(svc, request)
        name = request.path_params.get("name", "grades.csv")
        if name == "gradebook.csv":  # the class page's form names the LMS in a field
            name = f"gradebook-{request.query_params.get('lms', '')}.csv"
        if name not in DOWNLOADS:
            raise Refused(404, "no such export")
        run = {"rubric_digest": svc.digest, "grader_version": __version__, "warnings": [],
               "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        lms = name.removeprefix("gradebook-").removesuffix(".csv") if name.startswith("gradebook-") else None
        options = gradebook_options(request) if lms else {}
        body = await run_in_threadpool(export_bytes, name, class_rows(svc, lms or "grader serve"), run, options)
        return Response(body, media_type=MEDIA[name[name.rindex("."):]],
                        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})

    return [Route("/class", guarded(class_page, refused)), Route("/queue", guarded(queue, refused)),
            Route("/regrade", guarded(regrade, refused), methods=["POST"]),
            Route("/grades.csv", guarded(download, refused)),
            Route("/exports/{name}", guarded(download, refused))]
