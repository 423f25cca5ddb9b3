"""`grader serve` as a real process on a real port: real uploads graded on the real MNIST in the sandbox
($GRADER_E2E_SANDBOX, default process), the API's contract, who may see what, the limits, and a server
killed with SIGKILL that grades, once restarted, every accepted submission exactly once.

One server serves the module's course; the restart test has a course of its own. Grading uses the batch
tests' rubric (one CPU per sandbox) and their generous timeout, for a loaded machine.
"""

import csv
import io
import json
import os
import re
import socket
import sqlite3
import time
import tomllib
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from serve_client import Server, cookie, load, make_course, multipart, raw, sign_in
from test_pictures import browser  # noqa: F401  (the system's Chromium, skipped or failed as CI decides)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = (ROOT / "reference" / "solution.py").read_bytes()
NO_ZERO_GRAD = (ROOT / "submissions" / "no_zero_grad.py").read_bytes()
EXPECTED = {e["file"]: e for e in tomllib.loads((ROOT / "submissions" / "expected.toml").read_text())["example"]}
RUBRIC = Path(__file__).parent / "e2e_rubric.toml"
TIMEOUT = os.environ.get("GRADER_E2E_BATCH_TIMEOUT", "400")
SANDBOX = os.environ.get("GRADER_E2E_SANDBOX", "process")
PER_HOUR = 6


def serve(course: Path, real_data: Path, *args: str) -> Server:
    return Server(course, "--sandbox", SANDBOX, "--timeout", TIMEOUT, "--jobs", "1", *args,
                  env={"GRADER_DATA_DIR": str(real_data)})


def gradings(course: Path) -> dict[str, int]:
    """sha256 -> how many times the service graded it (one row per verdict stored)."""
    with sqlite3.connect(course / "grader.db") as db:
        return dict(db.execute("SELECT sha256, COUNT(*) FROM serve_gradings GROUP BY sha256"))


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve") / "course"
    return folder, make_course(folder, ["alice", "bob", "carol", "erin", "frank"], RUBRIC)


@pytest.fixture(scope="module")
def server(course, real_data):
    srv = serve(course[0], real_data, "--per-hour", str(PER_HOUR), "--max-upload-kb", "64")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def graded(server, course):
    """alice hands in the reference, bob the example that forgets zero_grad; both graded for real."""
    tok, api = course[1], server.client
    ids = {}
    for who, name, content in (("alice", "solution.py", REFERENCE), ("bob", "no_zero_grad.py", NO_ZERO_GRAD)):
        status, body, headers = api.submit(tok[who], name, content)
        assert status == 202 and body["state"] == "queued" and headers["Location"] == body["url"], body
        ids[who] = body["id"]
    return {who: api.wait(tok[who], sub_id) for who, sub_id in ids.items()}


def test_uploads_are_graded_on_the_real_mnist(graded):
    ref, bad = graded["alice"], graded["bob"]
    assert ref["state"] == "done" and ref["report"]["status"] == "graded"
    assert ref["report"]["score"] == ref["report"]["max_score"]
    failed = {c["id"] for c in bad["report"]["checks"] if not c["passed"]}
    assert failed == set(EXPECTED["no_zero_grad.py"]["failed"])
    assert bad["report"]["submission"]["path"] == "no_zero_grad.py"  # no server path leaks into the report


def test_an_identical_file_is_answered_from_the_store_as_its_owners(graded, server, course):
    status, body, _ = server.client.submit(course[1]["carol"], "mine.py", REFERENCE)
    assert status == 202 and body["state"] == "done"
    assert body["report"]["score"] == graded["alice"]["report"]["score"]
    assert gradings(course[0])[body["sha256"]] == 1
    # alice's verdict, read as carol's: her id and her file's name, never alice's
    assert body["report"]["student"]["id"] == "carol" and body["report"]["submission"]["name"] == "mine.py"
    again = server.client.call("GET", f"/api/submissions/{body['id']}", course[1]["carol"])[1]
    assert again["report"]["student"]["id"] == "carol" and again["report"]["submission"]["path"] == "mine.py"
    session = sign_in(server.client.base, course[1]["carol"])
    _, _, page = raw(server.client.base, "GET", f"/submissions/{body['id']}", {"Cookie": f"grader_session={session}"})
    assert b"mine.py" in page and b"solution.py" not in page


def test_a_student_sees_only_their_own(graded, server, course):
    tok, api = course[1], server.client
    alice_id = graded["alice"]["id"]
    other = api.call("GET", f"/api/submissions/{alice_id}", tok["bob"])
    made_up = api.call("GET", "/api/submissions/not-an-id", tok["bob"])
    assert other[0] == made_up[0] == 404 and other[1] == made_up[1]  # nothing tells the two apart
    assert api.call("GET", f"/api/submissions/{alice_id}", tok["prof"])[0] == 200
    mine = api.call("GET", "/api/submissions", tok["bob"])[1]["submissions"]
    assert [s["id"] for s in mine] == [graded["bob"]["id"]]
    everyone = api.call("GET", "/api/submissions", tok["prof"])[1]["submissions"]
    assert {s["student"] for s in everyone} >= {"alice", "bob"}
    assert [s["accepted"] for s in everyone] == sorted((s["accepted"] for s in everyone), reverse=True)


def test_no_token_or_a_wrong_one_is_401(server):
    for token in (None, "forged"):
        status, body, headers = server.client.submit(token, "a.py", REFERENCE)
        assert status == 401 and headers["WWW-Authenticate"] == "Bearer" and "token" in body["error"]
        assert server.client.call("GET", "/api/submissions", token)[0] == 401


def test_limits_refuse_clearly(server, course, graded):
    tok, api = course[1], server.client
    status, body, _ = api.submit(tok["alice"], "big.py", b"#" * (65 * 1024))
    assert status == 413 and "larger than the limit" in body["error"]
    status, body, _ = api.submit(tok["alice"], "../../etc/passwd", REFERENCE)
    assert status == 400 and ".py or .ipynb" in body["error"]
    status, body, _ = api.submit(tok["alice"], "..\\..\\x/../../evil.py", REFERENCE)  # stored: answered at once
    assert status == 202 and body["filename"] == "evil.py"  # a name, never a path
    assert not (course[0].parent / "evil.py").exists() and not (course[0] / "evil.py").exists()
    answers = [api.submit(tok["carol"], "again.py", REFERENCE) for _ in range(PER_HOUR)]  # stored: no grading
    refused = [a for a in answers if a[0] == 429]
    assert refused and all(a[0] == 202 for a in answers[:len(answers) - len(refused)])
    assert int(refused[0][2]["Retry-After"]) > 0 and "an hour" in refused[0][1]["error"]


def test_uploads_that_arrive_together_cannot_pass_the_hourly_limit(server, course, graded):
    """Each upload passes the early check before any body is read; the check that counts is the insert's."""
    body, ctype = multipart("same.py", REFERENCE)  # stored already: answered at once, nothing to grade
    head = (f"POST /api/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {course[1]['frank']}\r\n"
            f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    together = [socket.create_connection(("127.0.0.1", server.port), timeout=60) for _ in range(PER_HOUR + 3)]
    for conn in together:
        conn.sendall(head + body[:200])
    time.sleep(1)  # every request is past the early check, waiting for the rest of its body
    for conn in together:
        conn.sendall(body[200:])
    statuses = []
    for conn in together:
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
        conn.close()
        statuses.append(int(answer.split(b" ", 2)[1]))
    assert sorted(statuses) == [202] * PER_HOUR + [429] * 3


def test_a_sign_in_link_alone_signs_nobody_in(server, course):
    """Login CSRF: another site that links to /signin?token=ITS_OWN must not sign the visitor in."""
    base, token = server.client.base, course[1]["alice"]
    status, headers, _ = raw(base, "GET", f"/signin?token={token}")
    assert status == 303 and headers["Location"] == "/signin" and cookie(headers, "grader_session") is None
    link = cookie(headers, "grader_signin")
    assert {"httponly", "path=/signin", "samesite=lax"} <= {a.strip().lower() for a in link.split(";")}
    link = link.split(";")[0]
    csrf = re.search(rb'name="csrf" value="([0-9a-f]+)"', raw(base, "GET", "/signin", {"Cookie": link})[2]).group(1)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    same_site = {**form, "Cookie": link, "Sec-Fetch-Site": "same-origin"}
    for headers, body in (({**form}, csrf),  # another site's form: the link's Lax cookie stays behind
                          ({**same_site, "Sec-Fetch-Site": "cross-site"}, csrf),
                          (same_site, b"0" * 64)):  # a forged CSRF field
        status, answer, _ = raw(base, "POST", "/signin", headers, b"csrf=" + body)
        assert status in (401, 403) and cookie(answer, "grader_session") is None
    status, headers, _ = raw(base, "POST", "/signin", same_site, b"csrf=" + csrf)
    assert status == 303 and headers["Location"] == "/"
    session = cookie(headers, "grader_session")
    attributes = {a.strip().lower() for a in session.split(";")[1:]}
    assert {"httponly", "samesite=strict", f"max-age={14 * 24 * 3600}"} <= attributes  # the default 14 days
    value = session.split(";")[0].partition("=")[2]
    assert value != token  # the cookie holds a session, never the token
    assert b"Signed in as <b>alice</b>" in raw(base, "GET", "/", {"Cookie": f"grader_session={value}"})[2]


def test_healthz_and_headers(server):
    status, body, headers = server.client.call("GET", "/healthz")
    assert status == 200 and body["ok"] is True
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_an_instructor_regrades_one_student(server, course, graded):
    api, tok = server.client, course[1]
    assert api.call("POST", "/api/regrade", tok["bob"], b"{}", "application/json")[0] == 404  # students may not
    status, body, _ = api.call("POST", "/api/regrade", tok["prof"], b'{"student": "bob"}', "application/json")
    assert status == 202 and body["queued"] == [graded["bob"]["id"]]
    again = api.wait(tok["bob"], graded["bob"]["id"])
    assert again["report"]["score"] == graded["bob"]["report"]["score"]
    assert again["report"]["created_at"] != graded["bob"]["report"]["created_at"]  # a new verdict, not the stored one
    assert gradings(course[0])[graded["bob"]["sha256"]] == 2


CSRF_FIELD = re.compile(rb'name="csrf" value="([0-9a-f]+)"')


@pytest.fixture(scope="module")
def sessions(server, course):
    """The session cookies of a student and the instructor, signed in as a browser does."""
    return {who: sign_in(server.client.base, course[1][who]) for who in ("alice", "prof")}


def test_the_queue_the_exports_and_the_regrade_buttons_are_the_instructors(server, sessions, graded):
    api, tok = server.client, sessions
    csrf = CSRF_FIELD.search(api.browse("/", tok["alice"])[2]).group(1)  # alice's own, valid for her
    for path in ("/queue", "/exports/grades.csv", "/exports/reports.zip", "/exports/junit.xml",
                 "/exports/gradebook.csv?lms=canvas&column-id=7"):
        assert api.browse(path, tok["alice"])[0] == 404, path
    assert api.browse("/regrade", tok["alice"], b"csrf=" + csrf)[0] == 404
    status, _, page = api.browse("/class", tok["prof"])
    assert status == 200
    links = set(re.findall(rb'href="/exports/([^"]+)"', page))
    assert links == {n.encode() for n in ("grades.csv", "summary.md", "reports.zip", "class.zip", "gradescope.zip",
                                          "github-classroom.zip", "prairielearn.zip", "junit.zip", "junit.xml")}
    assert b'action="/exports/gradebook.csv"' in page and b'<option value="moodle">' in page
    assert b'name="student" value="bob"' in page and page.count(b'action="/regrade"') >= 3  # bob, alice, the class


def download(api, token: str, path: str, kind: str, filename: str | None = None) -> bytes:
    status, headers, body = api.browse(f"/exports/{path}", token)
    assert status == 200, body[:300]
    assert headers["Content-Type"].startswith(kind), headers["Content-Type"]
    assert headers["Content-Disposition"] == f'attachment; filename="{filename or path.split("?")[0]}"'
    return body


def test_every_export_of_the_batch_downloads_and_parses(server, course, sessions, graded):
    api, prof = server.client, sessions["prof"]
    alice, bob = graded["alice"]["report"], graded["bob"]["report"]
    grades = {r["student"]: r for r in csv.DictReader(io.StringIO(
        download(api, prof, "grades.csv", "text/csv").decode("utf-8-sig")))}
    assert set(grades) == set(course[1]) - {"prof"}  # the roster's students, graded or not
    assert float(grades["alice"]["score"]) == alice["score"] and grades["bob"]["status"] == bob["status"]
    assert float(grades["bob"]["zero_grad"]) == 0 and grades["bob"]["file"] == "no_zero_grad.py"
    with_verdict = {who for who, row in grades.items() if row["score"]}
    assert download(api, prof, "summary.md", "text/markdown").startswith(b"# Grading summary")

    def members(name: str) -> dict[str, bytes]:
        with zipfile.ZipFile(io.BytesIO(download(api, prof, name, "application/zip"))) as zf:
            return {n: zf.read(n) for n in zf.namelist()}

    assert json.loads(members("reports.zip")["reports/bob.json"])["student"]["id"] == "bob"
    pages = members("class.zip")
    assert b'href="pages/alice.html"' in pages["index.html"] and b"<svg" in pages["pages/bob.html"]
    gradescope = members("gradescope.zip")
    assert {n.split("/")[1] for n in gradescope} == with_verdict
    assert json.loads(gradescope["gradescope/alice/results.json"])["score"] == alice["score"]
    assert json.loads(members("prairielearn.zip")["prairielearn/bob/results.json"])["score"] == \
        round(bob["score"] / bob["max_score"], 4)
    assert json.loads(members("github-classroom.zip")["github-classroom/alice.json"])["status"] == "pass"
    junit = members("junit.zip")
    assert ElementTree.fromstring(junit["junit/bob.xml"]).find(".//failure") is not None
    suites = ElementTree.fromstring(download(api, prof, "junit.xml", "application/xml"))
    assert {s.get("id") for s in suites.iter("testsuite")} == with_verdict and junit["junit.xml"]
    canvas = list(csv.reader(io.StringIO(download(api, prof, "gradebook.csv?lms=canvas&column-id=7&points=10",
                                                  "text/csv", "gradebook-canvas.csv").decode())))
    assert canvas[:2] == [["Student", "ID", "Section", "MNIST training loop (7)"], ["Points Possible", "", "", "10"]]
    assert {row[1] for row in canvas[2:]} == with_verdict and ["alice", "alice", "", "10"] in canvas
    moodle = csv.DictReader(io.StringIO(download(api, prof, "gradebook-moodle.csv", "text/csv").decode()))
    assert {r["Identifier"]: float(r["Grade"]) for r in moodle}["Participant bob"] == bob["score"]
    board = download(api, prof, "gradebook-blackboard.csv?column-id=_9_1", "text/csv").decode().splitlines()
    assert board[0] == f'"Username","MNIST training loop [Total Pts: {alice["max_score"]:g}] |_9_1"'
    assert f'"alice","{alice["score"]:g}"' in board
    assert api.browse("/exports/gradebook.csv?lms=canvas&points=-1", prof)[0] == 400
    assert api.browse("/exports/nothing.zip", prof)[0] == 404


def test_a_regrade_button_needs_its_csrf_token_and_queues_again(server, course, sessions, graded):
    api, prof, alice = server.client, sessions["prof"], course[1]["alice"]
    sub = api.call("GET", "/api/submissions", alice)[1]["submissions"][0]  # her newest: what a regrade grades
    assert sub["state"] == "done" and sub["sha256"] == graded["alice"]["sha256"]
    csrf = CSRF_FIELD.search(api.browse("/class", prof)[2]).group(1)
    for form in (b"student=alice", b"student=alice&csrf=" + b"0" * 64):
        assert api.browse("/regrade", prof, form)[0] == 403
    assert api.call("GET", f"/api/submissions/{sub['id']}", alice)[1]["state"] == "done"
    status, headers, _ = api.browse("/regrade", prof, b"student=alice&csrf=" + csrf)
    assert status == 303 and headers["Location"] == "/queue"
    status, headers, queue = api.browse("/queue", prof)
    assert status == 200 and headers["Refresh"] and sub["id"].encode() in queue and b"<td>alice</td>" in queue
    again = api.wait(alice, sub["id"])
    assert again["report"]["created_at"] != graded["alice"]["report"]["created_at"]  # graded again, not the store's
    assert gradings(course[0])[sub["sha256"]] == 2


@pytest.mark.browser
def test_a_student_signs_in_uploads_with_the_form_and_reads_the_score(browser, server, course, graded):  # noqa: F811
    base, tok = server.client.base, course[1]
    ctx = browser.new_context()
    page = ctx.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.goto(f"{base}/signin?token={tok['erin']}")
    page.wait_for_url(f"{base}/signin")  # the token has left the address bar; nobody is signed in yet
    assert not [c for c in ctx.cookies() if c["name"] == "grader_session"]
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    cookie = next(c for c in ctx.cookies() if c["name"] == "grader_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and not cookie["secure"]  # plain http here
    # a file no one handed in yet, so the state page comes before the report
    page.set_input_files("input[name=file]", files=[{"name": "mine.py", "mimeType": "text/x-python",
                                                     "buffer": NO_ZERO_GRAD + b"\n# from the browser\n"}])
    page.click("button[type=submit]")
    assert page.locator("b.state").inner_text() in ("queued", "running")
    assert "ready in about" in page.inner_text("main")  # an estimate from the verdicts stored so far
    page.wait_for_selector("div.score", timeout=900_000)  # the state page reloads itself until the report
    assert page.locator("div.score").inner_text().replace("\n", "") == \
        f"{graded['bob']['report']['score']:g}/{graded['bob']['report']['max_score']:g}"
    ctx.close()
    ctx = browser.new_context()
    page = ctx.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.goto(f"{base}/signin?token={tok['prof']}")
    page.click("button[type=submit]")
    page.click("text=Class page")
    rows = page.locator("table.students tbody tr")
    assert {"alice", "bob", "erin"} <= {rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())}
    with page.expect_download() as got:
        page.click("a[href='/exports/grades.csv']")
    assert got.value.suggested_filename == "grades.csv"
    rows.filter(has=page.locator("td", has_text="bob")).get_by_role("button", name="Regrade").click()
    page.wait_for_url(f"{base}/queue")  # the form post carried its CSRF token, without any script
    assert "bob" in page.locator("table.queue").inner_text()
    assert not problems, problems  # the CSP refused nothing the pages need (the class page's sorting script)
    ctx.close()


def test_forms_need_the_csrf_token_and_instructor_pages_hide(server, course, graded):
    api, tok = server.client, course[1]
    body, ctype = multipart("a.py", REFERENCE)
    import urllib.error
    import urllib.request

    sessions = {who: sign_in(api.base, tok[who]) for who in ("alice", "prof")}

    def fetch(path: str, who: str, data: bytes | None = None) -> int:
        req = urllib.request.Request(api.base + path, data=data, headers={"Cookie": f"grader_session={sessions[who]}",
                                                                          **({"Content-Type": ctype} if data else {})})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert fetch("/submit", "alice", body) == 403  # the form's csrf field is missing
    assert fetch("/class", "alice") == fetch("/grades.csv", "alice") == 404
    assert fetch("/class", "prof") == fetch("/grades.csv", "prof") == 200
    sessions["bob"] = sign_in(api.base, tok["bob"])
    assert fetch(f"/submissions/{graded['alice']['id']}", "bob") == 404


def test_the_whole_class_button_queues_every_students_latest(server, course, sessions, graded):
    """The module server's last test: what it queues is abandoned when the server stops (never waited for)."""
    api, tok = server.client, course[1]
    newest = {who: api.call("GET", "/api/submissions", tok[who])[1]["submissions"] for who in ("alice", "bob", "carol")}
    done = {who: subs[0] for who, subs in newest.items() if subs and subs[0]["state"] == "done"}  # bob: maybe queued
    assert "alice" in done
    csrf = CSRF_FIELD.search(api.browse("/class", sessions["prof"])[2]).group(1)
    status, headers, _ = api.browse("/regrade", sessions["prof"], b"csrf=" + csrf)
    assert status == 303 and headers["Location"] == "/queue"
    queue = api.browse("/queue", sessions["prof"])[2]
    assert all(sub["id"].encode() in queue for sub in done.values())


def variants(n: int) -> list[bytes]:
    """n distinct files that grade like the reference (a comment makes each its own sha256)."""
    return [REFERENCE + f"\n# variant {i}\n".encode() for i in range(n)]


def kill_and_restart(tmp_path: Path, real_data: Path, n: int) -> None:
    """Queue n files, SIGKILL the server once one is graded, start it again: all n graded, none twice."""
    folder = tmp_path / "course"
    tok = make_course(folder, ["dave"], RUBRIC)["dave"]
    first = serve(folder, real_data, "--max-queue", str(n))
    try:
        ids = [first.client.submit(tok, f"v{i}.py", f)[1]["id"] for i, f in enumerate(variants(n))]
        full = first.client.submit(tok, "one-more.py", REFERENCE + b"\n# over the queue\n")
        assert full[0] == 429 and int(full[2]["Retry-After"]) > 0 and "queue is full" in full[1]["error"]
        while not gradings(folder):
            assert first.proc.poll() is None, first.log_text()
            time.sleep(0.5)
        first.proc.kill()
        first.proc.wait()
    finally:
        first.stop()
    before = gradings(folder)
    assert 0 < len(before) < n, "the kill must find some graded and some not"
    second = serve(folder, real_data)
    try:
        states = [second.client.wait(tok, sub_id)["state"] for sub_id in ids]
    finally:
        second.stop()
    assert states == ["done"] * n
    assert sorted(gradings(folder).values()) == [1] * n


def test_kill_9_then_restart_grades_each_accepted_file_once(tmp_path, real_data):
    kill_and_restart(tmp_path, real_data, 4)


@pytest.mark.slow
def test_kill_9_with_a_queue_of_20(tmp_path, real_data):
    kill_and_restart(tmp_path, real_data, 20)


@pytest.mark.slow
def test_50_clients_200_files_each_graded_once_and_no_5xx(tmp_path, real_data):
    """The issue's load (its p95 is measured by bench/serve_load.py, never by a test)."""
    folder = tmp_path / "course"
    tok = make_course(folder, [f"s{i:02d}" for i in range(50)], RUBRIC)
    del tok["prof"]
    files = [(f"f{i}.py", variants(20)[i % 20]) for i in range(200)]
    srv = serve(folder, real_data, "--per-hour", "200", "--max-queue", "200")
    try:
        result = load(srv.client, tok, files)
        states = {srv.client.call("GET", f"/api/submissions/{sub_id}", tok[who])[1]["state"]
                  for who, subs in result["ids"].items() for sub_id in subs}
    finally:
        srv.stop()
    assert sum(map(len, result["ids"].values())) == 200 and states == {"done"}
    assert not [status for _, status, _ in result["calls"] if status >= 500]
    assert sorted(gradings(folder).values()) == [1] * 20


@pytest.mark.slow
def test_the_dockerfile_serve_target_grades_through_the_hosts_engine(tmp_path, real_data):
    """`grader image build --target serve`, run as the README says (the engine's socket, TMPDIR and MNIST
    mounted at the same paths): /healthz answers, and an upload is graded in a sibling sandbox container."""
    import subprocess

    from grader.sandbox import docker as docker_sandbox
    from serve_client import GRADER, Client, free_port

    base = os.environ.get("GRADER_BASE_IMAGE", "grader-base:local")  # CI's registry-free base (.ci/run)
    tags = {"sandbox": "grader-serve-test:sandbox", "serve": "grader-serve-test:serve"}  # grader:latest untouched
    for target, tag in tags.items():
        subprocess.run([GRADER, "image", "build", "--target", target, "--tag", tag, "--base-image", base],
                       check=True, capture_output=True, env={**os.environ, "GRADER_DATA_DIR": str(real_data)})
    folder, scratch = tmp_path / "course", tmp_path / "tmp"
    tok = make_course(folder, ["ana"], RUBRIC)
    scratch.mkdir()
    data = str(real_data.resolve())
    port = free_port()
    container = docker_sandbox.client().containers.run(
        tags["serve"], ["--image", tags["sandbox"], "--jobs", "1", "--timeout", TIMEOUT], detach=True,
        ports={"8000/tcp": ("127.0.0.1", port)}, environment={"TMPDIR": str(scratch), "GRADER_DATA_DIR": data},
        volumes={"/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "rw"},
                 str(folder): {"bind": "/course", "mode": "rw"}, str(scratch): {"bind": str(scratch), "mode": "rw"},
                 data: {"bind": data, "mode": "ro"}})
    try:
        api = Client(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            container.reload()
            assert container.status in ("created", "running"), container.logs().decode()[-3000:]
            try:
                if api.call("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(1)
        status, body, _ = api.submit(tok["ana"], "solution.py", REFERENCE)
        assert status == 202, body
        report = api.wait(tok["ana"], body["id"])["report"]
        assert report["score"] == report["max_score"], container.logs().decode()[-3000:]
        assert report["sandbox"]["backend"] == "docker" and report["sandbox"]["limits"]["image"] == tags["sandbox"]
    finally:
        container.remove(force=True)


@pytest.mark.slow
@pytest.mark.ray
def test_the_ray_executor_grades_uploads(tmp_path, real_data):
    """`--executor ray` behind the same seam: a local cluster (a head that only coordinates, one grading node)."""
    from test_ray_executor import need_ray

    need_ray()
    from ray.cluster_utils import Cluster

    small = {"object_store_memory": 80 * 2**20}
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, **small})
    cluster.add_node(num_cpus=1, env_vars={"GRADER_DATA_DIR": str(real_data)}, **small)
    cluster.wait_for_nodes()
    folder = tmp_path / "course"
    tok = make_course(folder, ["gina", "hal"], RUBRIC)
    try:
        srv = serve(folder, real_data, "--executor", "ray", "--address", cluster.address)
        try:
            ids = {who: srv.client.submit(tok[who], f"{who}.py", content)[1]["id"]
                   for who, content in (("gina", REFERENCE), ("hal", NO_ZERO_GRAD))}
            done = {who: srv.client.wait(tok[who], sub_id) for who, sub_id in ids.items()}
        finally:
            srv.stop()
    finally:
        cluster.shutdown()
    ref, bad = done["gina"]["report"], done["hal"]["report"]
    assert ref["score"] == ref["max_score"] and ref["environment"]["node"]  # graded by a Ray node
    assert {c["id"] for c in bad["checks"] if not c["passed"]} == set(EXPECTED["no_zero_grad.py"]["failed"])
    assert sorted(gradings(folder).values()) == [1, 1]
