"""The host reads only events the harness can write: names used by trace.py and the checks are in the vocabulary."""

import re
from pathlib import Path

from grader.harness.events import EVENTS

ROOT = Path(__file__).resolve().parent.parent


def test_host_reads_only_known_events():
    used = set()
    for path in [ROOT / "grader" / "trace.py", ROOT / "grader" / "grade.py", *(ROOT / "grader" / "checks").glob("*.py")]:
        used |= set(re.findall(r"""(?:trace|self)\.(?:of|first|last)\(["']([a-z_]+)["']\)""", path.read_text()))
        used |= set(re.findall(r"""get\("e"\) == ["']([a-z_]+)["']""", path.read_text()))
    assert used and used <= set(EVENTS), used - set(EVENTS)


def test_harness_writes_only_known_events():
    written = set()
    for path in (ROOT / "grader" / "harness").rglob("*.py"):
        written |= set(re.findall(r"""emit\(\s*["']([a-z_]+)["']""", path.read_text()))
    assert written == set(EVENTS), (written ^ set(EVENTS))
