"""The browser side: sign-in by link, an upload form that needs no JavaScript, and the state page that turns
into the student page the grader already draws (the instructor's pages: grader/serve/instructor.py).

Sign-in is a POST: the link (/signin?token=...) moves its token into a short-lived cookie that only
/signin reads and redirects to /signin, so the token leaves the address bar and the history; that page's
button posts back (same origin only) and only then is the session cookie set. A link opened from another
site therefore signs nobody in by itself (login CSRF). The session cookie holds a session id, never the
token: HttpOnly, SameSite=Strict, Secure when the request came over TLS (uvicorn trusts X-Forwarded-Proto
from a proxy on this machine), and the store ends it after --session-days. A form carries a CSRF token
derived from the session (an HMAC keyed by it), which a page on another site can neither read nor compute.
Every page is grader/html.py's inert HTML, served with its own CSP as a header too.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from grader import __version__, html
from grader.report import Report
from grader.serve.app import Refused, Service, guarded, read_capped, upload_form
from grader.serve.store import Caller

COOKIE = "grader_session"
LINK_COOKIE, LINK_S = "grader_signin", 600  # a sign-in link's token, between the link and its button
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
    caller = svc.store.session_caller(token) if token else None
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


def link_caller(svc: Service, request: Request) -> tuple[Caller, str]:
    token = request.cookies.get(LINK_COOKIE, "")
    caller = svc.store.caller(token) if token else None
    if caller is None:
        raise Refused(401, f"open the sign-in link your instructor gave you (then sign in within {LINK_S // 60} "
                           "minutes)")
    return caller, token


def routes(svc: Service) -> list[Route]:
    async def signin_link(request: Request) -> Response:
        token = request.query_params.get("token")
        if token is None:  # the link already redirected here: the button
            caller, token = link_caller(svc, request)
            return page(html.service_page(title="Sign in", view="sign-in", signing_in=caller.student,
                                          csrf=csrf_token(token)))
        if svc.store.caller(token) is None:
            raise Refused(401, "this sign-in link is not valid (ask your instructor for a new one)")
        resp = RedirectResponse("/signin", status_code=303)  # the token leaves the address bar and history
        # Lax, not Strict: it must survive a link followed from another site (mail, the LMS)
        resp.set_cookie(LINK_COOKIE, token, max_age=LINK_S, path="/signin", httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")
        return resp

    async def signin(request: Request) -> Response:
        caller, token = link_caller(svc, request)  # a Lax cookie: another site's post does not carry it
        form = parse_qs((await read_capped(request, 4096)).decode("latin-1"))
        if request.headers.get("sec-fetch-site", "same-origin") != "same-origin" or \
                not hmac.compare_digest(form.get("csrf", [""])[0], csrf_token(token)):
            raise Refused(403, "sign in with the button on this site's sign-in page")
        days = svc.limits.session_days
        resp = RedirectResponse("/", status_code=303)
        resp.set_cookie(COOKIE, svc.store.open_session(caller, days), max_age=round(days * 24 * 3600),
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
        resp.delete_cookie(LINK_COOKIE, path="/signin")
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

    return [Route("/", guarded(home, refused)), Route("/signin", guarded(signin_link, refused)),
            Route("/signin", guarded(signin, refused), methods=["POST"]),
            Route("/submit", guarded(submit, refused), methods=["POST"]),
            Route("/submissions/{id}", guarded(state, refused))]
