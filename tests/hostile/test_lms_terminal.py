"""Issue 15: a submission's output cannot redraw the instructor's terminal. The program runs in each sandbox
and the verdict `grader check` prints is rendered from its report."""

import re

from grader import render
from grader.formats import junit
from test_sandbox import TOKEN, hostile

CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def test_escape_sequences_in_the_output_stay_text_in_the_verdict(short, tmp_path):
    rep = short.grade(hostile(tmp_path, "lms_escapes"))
    assert TOKEN in rep.output.stdout_tail and "\x1b[2J" in rep.output.stdout_tail, rep.message  # the evidence
    assert rep.score < rep.max_score
    text = render.verdict(rep, color=False)
    assert not CONTROLS.search(text.replace("\n", "")), repr(text)
    box = text.split("Your program's output")[1].split("\n\n")[0].splitlines()[1:]
    assert any(TOKEN in line for line in box) and all(line.startswith("  │ ") for line in box)
    assert sum(line.startswith("Score:") for line in text.splitlines()) == 1  # the real verdict only
    assert "\x1b" not in junit.xml(rep)
