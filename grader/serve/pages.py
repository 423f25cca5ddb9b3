"""The browser side: sign-in by link, an upload form that needs no JavaScript, and the state page that turns
into the student page the grader already draws (the instructor's pages: grader/serve/instructor.py).

The session cookie is the token itself: HttpOnly, SameSite=Strict, Secure when the request came over TLS
(uvicorn trusts X-Forwarded-Proto from a proxy on this machine). A form carries a CSRF token derived from
the session (an HMAC keyed by it), which a page on another site can neither read nor compute. Every page
is grader/html.py's inert HTML, served with its own CSP as a header too.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from grader import __version__, html
from grader.report import Report
from grader.serve.app import Refused, Service, guarded, upload_form
from grader.serve.store import Caller

COOKIE = "grader_session"
REFRESH_S = 3
CSP_META = re.compile(r'http-equiv="Content-Security-Policy" content="([^"]+)"')


def csrf_token(session: str) -> str:
    return hmac.new(session.encode(), b"grader-serve-csrf", hashlib.sha256).hexdigest()


def page(text: str, status: int = 200, headers: dict | None = None) -> HTMLResponse:
    """The page's own CSP (styles and script by hash) as a header too, plus what only a header can say."""
    csp = CSP_META.search(text).group(1).replace("&#39;", "'") + "; frame-ancestors 'none'; form-action 'self'"
    return HTMLResponse(text, status_code=status, headers={**(headers or {}), "Content-Security-Policy": csp})


def refused(status: int, message: str, headers: dict | None = None) -> HTMLResponse:
    return page(html.service_page(title="Not done", view="refused", message=message, who=None), status, headers)


def session(svc: Service, request: Request) -> tuple[Caller, str]:
    token = request.cookies.get(COOKIE, "")
    caller = svc.store.caller(token) if token else None
    if caller is None:
        raise Refused(401, "sign in with the link your instructor gave you")
    return caller, token


def check_csrf(form, token: str) -> None:
    if not hmac.compare_digest(str(form.get("csrf", "")), csrf_token(token)):
        raise Refused(403, "this form is out of date or came from another site: reload the page and try again")


def minutes_left(svc: Service, position: int | None) -> int | None:
    """About when a queued file is graded: its position x the median grading time so far / the jobs."""
    typical = svc.store.typical_seconds(svc.digest, __version__)
    return None if typical is None else math.ceil((position or 1) * typical / svc.jobs / 60)


def routes(svc: Service) -> list[Route]:
    async def signin(request: Request) -> Response:
        token = request.query_params.get("token", "")
        caller = svc.store.caller(token) if token else None
        if caller is None:
            raise Refused(401, "this sign-in link is not valid (ask your instructor for a new one)")
        # a page, not a redirect: after a link from another site, SameSite=Strict withholds the cookie
        # from the rest of that navigation; the refresh below is a same-site one
        resp = page(html.service_page(title="Signed in", view="signed-in", who=caller.student),
                    headers={"Refresh": "0; url=/"})
        resp.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        max_age=180 * 24 * 3600)
        return resp

    async def home(request: Request) -> Response:
        if not request.cookies.get(COOKIE):
            return page(html.service_page(title="Grader", view="signed-out", who=None))
        caller, token = session(svc, request)
        subs = [svc.view(s, request) for s in svc.store.mine(None if caller.instructor else caller.student)]
        return page(html.service_page(title="Grader", view="home", who=caller.student, instructor=caller.instructor,
                                      csrf=csrf_token(token), subs=subs))

    async def submit(request: Request) -> Response:
        caller, token = session(svc, request)
        svc.check_limits(caller)
        form = await upload_form(request, svc.limits.upload_bytes)
        check_csrf(form, token)
        sub = await svc.accept(caller, form)
        return RedirectResponse(f"/submissions/{sub.id}", status_code=303)

    async def state(request: Request) -> Response:
        caller, _ = session(svc, request)
        sub = svc.visible(caller, request.path_params["id"])
        if sub.state in ("done", "failed") and sub.report:
            return page(html.student_page(Report.model_validate_json(sub.report)))
        position = svc.store.position(sub) if sub.state == "queued" else None
        return page(html.service_page(title=f"{sub.filename}: {sub.state}", view="waiting", who=caller.student,
                                      filename=sub.filename, state=sub.state, position=position,
                                      minutes=minutes_left(svc, position)),
                    headers={"Refresh": str(REFRESH_S)})

    return [Route("/", guarded(home, refused)), Route("/signin", guarded(signin, refused)),
            Route("/submit", guarded(submit, refused), methods=["POST"]),
            Route("/submissions/{id}", guarded(state, refused))]
