"""Pictures as HTML: a student's page and the class page, each one self-contained offline file.

Pure functions of reports: `student_page(report)` and `class_index(entries)`. Charts are hand-written SVG
(grader/svg.py makes the numbers); Jinja2 autoescapes everything else. A Content-Security-Policy lets
the page load nothing and run only its own sorting script (by hash), so even a template bug could not
turn a student's text into a request or a script.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import statistics
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import jinja2

from grader import inert, svg
from grader.report import CHECK_IDS, LossCurve, ReferenceCurve, Report, Status

TEMPLATES = Path(__file__).with_name("templates")
OUTPUT_LINES = 200
OVERLAY_POINTS = 80  # per student on the class page: 300 curves stay light
NAMED_OUTLIERS = 12  # beyond that the table's red marks say who
Entry = tuple[str, Report, str]  # (student id, report, relative link to that student's page)


clean = inert.plain  # terminal text as a page shows it: escape sequences and control characters removed


def safe_href(link: str | None) -> str | None:
    """A relative link to a sibling page, or nothing: no scheme (javascript:, data:), no host."""
    if not link:
        return None
    link = clean(link).strip().replace("\\", "/")
    if link.startswith("//") or ":" in link.split("/")[0].split("#")[0]:
        return None
    return quote(link, safe="/#.-_~%")


def _pct(value) -> str:
    return "—" if value is None else f"{value:.1%}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(clean=clean, href=safe_href, pct=_pct, num=svg.label)
    return env


_ENV = _environment()
_CSS = (TEMPLATES / "page.css").read_text()
_SORT_JS = (TEMPLATES / "sort.js").read_text()


def _hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _render(template: str, **context) -> str:
    script = _SORT_JS if context.get("sortable") else ""
    csp = f"default-src 'none'; style-src '{_hash(_CSS)}'; img-src data:" + \
          (f"; script-src '{_hash(script)}'" if script else "")
    return _ENV.get_template(template).render(css=_CSS, script=script, csp=csp, **context)


def service_page(**context) -> str:
    """A page of `grader serve` (templates/serve.html.j2): the same inert base, styles and CSP as the reports."""
    blank = {"who": None, "instructor": False, "csrf": "", "subs": [], "message": "", "filename": "", "state": "",
             "position": None, "minutes": None, "queue": [], "signing_in": ""}
    return _render("serve.html.j2", sortable=False, **{**blank, **context})


# ---------------------------------------------------------------------------------------------- student page
def student_page(report: Report) -> str:
    """One student's report as a page: verdict, loss curve against the reference, digits, source, output."""
    failed = [c for c in report.checks if not c.passed]
    return _render("student.html.j2", r=report, title=f"{report.submission.name}: {report.score:g}/{report.max_score:g}",
                   chart=loss_chart(report.curve, report.reference_curve, _printed(report)),
                   digits=digit_chart(report), confusion=confusion_grid(report.training.confusion),
                   source=source_lines(report), failed=failed, output=_output(report), sortable=False)


def _printed(report: Report) -> dict[int, str | None] | None:
    """Epoch -> the line it printed its loss in (None: printed none), from the prints check's evidence."""
    check = next((c for c in report.checks if c.id == "prints_loss_each_epoch"), None)
    epochs = (check.evidence.get("epochs") if check else None) or []
    out = {}
    for e in epochs:
        if isinstance(e, dict) and isinstance(e.get("epoch"), int):
            # "shows": the statistic this epoch printed properly (1.1); "lines": printed lines (1.0 reports)
            out[e["epoch"]] = str(e.get("example") or "") if e.get("shows") or e.get("lines") else None
    return out or None


def _output(report: Report) -> list[str]:
    return clean(report.output.stdout_tail).rstrip("\n").splitlines()[-OUTPUT_LINES:]


def loss_chart(curve: LossCurve | None, ref: ReferenceCurve | None, printed: dict | None = None) -> dict | None:
    if curve is None or not curve.mean:
        return None
    xs = svg.epoch_positions(len(curve.mean), curve.epoch_starts, curve.per_point)
    rxs = svg.epoch_positions(len(ref.mean), ref.epoch_starts, ref.per_point) if ref else []
    epochs = max(len(curve.epoch_starts), len(ref.epoch_starts) if ref else 0, math.ceil(max(xs, default=1)), 1)
    tops = [v for v in (curve.high or curve.mean) if v is not None]
    ref_top = max(ref.high) if ref and ref.high else None
    top = max(tops + ([ref_top] if ref_top else []), default=1.0)
    clipped = None
    if ref_top and top > 3 * ref_top:  # an exploding loss would flatten everything else
        top, clipped = 3 * ref_top, max(tops)
    frame = svg.Frame(720, 300, 48, 12, 30, 34, 0, epochs, 0, svg.nice_ceiling(top))
    means = _epoch_means(curve, xs)
    chart = {
        "frame": frame, "line": svg.line(frame, xs, curve.mean),
        "range": svg.band(frame, xs, curve.low, curve.high) if curve.per_point > 1 else "",
        "band": svg.band(frame, rxs, ref.low, ref.high) if ref else "",
        "ref_line": svg.line(frame, rxs, ref.mean) if ref else "",
        "ref_accuracy": ref.accuracy if ref else None,
        "yticks": [(frame.y(t), svg.label(t)) for t in svg.ticks(frame.y1)],
        "boundaries": [frame.x(e) for e in range(len(curve.epoch_starts))],
        "epoch_labels": [(frame.x(e + 0.5), e + 1) for e in range(epochs)] if epochs <= 30 else [],
        "means": [(frame.x(e), frame.x(e + 1), frame.y(m), e + 1, m) for e, m in means],
        "clipped": clipped, "steps": curve.steps, "per_point": curve.per_point,
        "gaps": sum(v is None for v in curve.mean),
        "printed": [], "epochs": len(curve.epoch_starts),
    }
    for e in sorted(printed or {}):  # the epochs the check judged (an epoch cut short by a crash is not)
        if 1 <= e <= epochs:
            chart["printed"].append((frame.x(e - 0.5), e, printed[e]))
    chart["missing_prints"] = sum(1 for _, _, line in chart["printed"] if line is None)
    return chart


def _epoch_means(curve: LossCurve, xs: list[float]) -> list[tuple[int, float]]:
    by_epoch: dict[int, list[float]] = {}
    for x, v in zip(xs, curve.mean):
        if v is not None:
            by_epoch.setdefault(int(x), []).append(v)
    return [(e, sum(v) / len(v)) for e, v in sorted(by_epoch.items())]


def digit_chart(report: Report) -> dict | None:
    accs = report.training.per_digit_accuracy
    if len(accs) != 10:
        return None
    learns = next((c for c in report.checks if c.id == "learns"), None)
    need = (learns.evidence.get("threshold") if learns else None) or 0.8
    frame = svg.Frame(360, 250, 28, 48, 8, 24, 0, 1, 0, 10)
    bars = []
    for d, acc in enumerate(accs):
        y = 8 + d * 23
        bars.append({"digit": d, "y": y, "w": frame.x(acc or 0) - frame.left, "acc": acc,
                     "low": acc is not None and acc < need})
    worst = min((a, d) for d, a in enumerate(accs) if a is not None) if any(a is not None for a in accs) else None
    return {"frame": frame, "bars": bars, "need": need, "need_x": frame.x(need),
            "ticks": [(frame.x(t), f"{t:.0%}") for t in (0, 0.25, 0.5, 0.75, 1)], "worst": worst}


def confusion_grid(confusion: list[list[int]]) -> dict | None:
    if len(confusion) != 10:
        return None
    cells = []
    cell, left, top = 26, 30, 30
    for t, row in enumerate(confusion):
        total = sum(row) or 1
        for p, n in enumerate(row):
            share = n / total
            cells.append({"x": left + p * cell, "y": top + t * cell, "n": n, "t": t, "p": p, "hit": t == p,
                          "level": min(9, math.ceil(share * 10)) if n else 0, "share": share})
    pairs = sorted(((n, t, p) for t, row in enumerate(confusion) for p, n in enumerate(row) if t != p), reverse=True)
    return {"cells": cells, "size": cell, "left": left, "top": top, "width": left + 10 * cell + 4,
            "height": top + 10 * cell + 4, "confused": [(t, p, n) for n, t, p in pairs[:3] if n]}


LINE_REF = re.compile(r"\bcell (\d+), line (\d+)|\blines? (\d+)")


def source_lines(report: Report) -> dict | None:
    """The source, line by line, with the lines that failed checks point at marked and explained."""
    src = report.source
    if src is None or not src.text:
        return None
    starts = dict((cell, line) for line, cell in src.cell_starts)
    marks: dict[int, list] = {}
    for c in report.checks:
        if c.passed:
            continue
        for n in _lines_named(c, starts):
            marks.setdefault(n, [])
            if c not in marks[n]:
                marks[n].append(c)
    cell_at = {line: cell for line, cell in src.cell_starts}
    lines, cell, first = [], None, 0
    for n, text in enumerate(src.text.splitlines() or [""], start=1):
        if n in cell_at:
            cell, first = cell_at[n], n
        lines.append({"n": n, "label": n - first + 1 if cell else n, "cell": cell if n in cell_at else None,
                      "text": clean(text.expandtabs(4)), "marks": marks.get(n, [])})
    return {"lines": lines, "truncated": src.truncated, "marked": sorted(marks), "notebook": bool(cell_at)}


def _lines_named(check, cell_starts: dict[int, int]) -> list[int]:
    found = []
    lineno = check.evidence.get("lineno")
    if isinstance(lineno, int):
        found.append(lineno)
    for text in (check.message, check.hint or ""):
        for m in LINE_REF.finditer(text):
            if m.group(1) and int(m.group(1)) in cell_starts:
                found.append(cell_starts[int(m.group(1))] + int(m.group(2)) - 1)
            elif m.group(3) and not cell_starts:
                found.append(int(m.group(3)))
    return found


# ---------------------------------------------------------------------------------------------- class page
def class_index(entries: list[Entry], title: str = "Class report", service: dict | None = None) -> str:
    """The class at a glance: what fails most (with an example to open), the score histogram, pass rate
    per check, every loss curve overlaid with the outliers named, and a sortable table of students.
    `service` ({"csrf", "downloads", "gradebooks"}): `grader serve`'s live page, with its exports and regrade
    buttons (form posts carrying the CSRF token)."""
    rows = [_row(sid, rep, link) for sid, rep, link in entries]
    ref = next((rep.reference_curve for _, rep, _ in entries if rep.reference_curve), None)
    scores = [r["score_pct"] for r in rows]
    summary = {
        "n": len(rows), "median": statistics.median(scores) if scores else None,
        "full": sum(r["all_passed"] for r in rows), "not_run": sum(r["not_run"] for r in rows),
        "accuracy": statistics.median([r["accuracy"] for r in rows if r["accuracy"] is not None] or [0])
        if any(r["accuracy"] is not None for r in rows) else None,
    }
    overlay = overlay_chart(rows, ref)
    return _render("class.html.j2", title=title, rows=rows, summary=summary, failures=_failures(entries, rows),
                   histogram=histogram(scores), checks=_pass_rates(entries), overlay=overlay,
                   twins=_identical(rows), points=OVERLAY_POINTS, sortable=True, service=service)


def _row(sid: str, rep: Report, link: str) -> dict:
    curve = rep.curve
    return {
        "id": str(sid), "rep": rep, "link": safe_href(link),
        "score_pct": 100 * rep.score / rep.max_score if rep.max_score else 0.0,
        "failed": [c for c in rep.checks if not c.passed], "all_passed": rep.all_passed,
        "not_run": rep.status in (Status.syntax_error, Status.import_error, Status.invalid_submission,
                                  Status.internal_error),
        "accuracy": rep.training.accuracy,
        "final_loss": _final(curve.mean, len(curve.epoch_starts)) if curve else None,
        "diverged": bool(curve) and any(v is None for v in curve.mean),
        "curve": curve, "outlier": False,
        "fingerprint": hashlib.sha256(repr(curve.mean).encode()).hexdigest() if curve and curve.steps > 20 else None,
    }


def _failures(entries: list[Entry], rows: list[dict]) -> list[dict]:
    """Failed checks, most common first, each with its commonest hint and a student to look at. A program
    that could not run counts once, under runs."""
    out = []
    titles = {}
    counts: Counter = Counter()
    examples: dict[str, dict] = {}
    hints: dict[str, Counter] = {}
    for row in rows:
        for c in row["failed"]:
            if row["not_run"] and c.id != "runs":  # "not checked: the program could not run" says nothing new
                continue
            counts[c.id] += 1
            titles.setdefault(c.id, c.title)
            hints.setdefault(c.id, Counter())[c.hint or c.message] += 1
            if c.id not in examples or (row["link"] and not examples[c.id]["link"]):
                examples[c.id] = row
    for check_id, n in counts.most_common():
        ex = examples[check_id]
        out.append({"id": check_id, "title": titles[check_id], "n": n, "share": n / len(rows),
                    "hint": hints[check_id].most_common(1)[0][0], "example": ex["id"],
                    "link": f"{ex['link']}#check-{check_id}" if ex["link"] else None})
    return out


def _pass_rates(entries: list[Entry]) -> list[dict]:
    out = []
    for check_id in CHECK_IDS:
        results = [c for _, rep, _ in entries for c in rep.checks if c.id == check_id]
        if results:
            passed = sum(c.passed for c in results)
            out.append({"id": check_id, "title": results[0].title, "passed": passed, "n": len(results),
                        "rate": passed / len(results), "w": round(240 * passed / len(results), 1)})
    return out


def histogram(scores: list[float]) -> dict:
    """Scores in tenths of the maximum (the last bin is full marks alone)."""
    bins = [0] * 11
    for s in scores:
        bins[10 if s >= 100 else max(0, min(9, int(s // 10)))] += 1
    frame = svg.Frame(440, 180, 30, 8, 10, 30, 0, 11, 0, svg.nice_ceiling(max(bins + [1])))
    width = frame.x(1) - frame.x(0) - 3
    bars = [{"x": frame.x(i) + 1.5, "y": frame.y(n), "h": frame.y(0) - frame.y(n), "n": n, "w": width,
             "label": "100" if i == 10 else f"{i * 10}–{i * 10 + 9}", "full": i == 10} for i, n in enumerate(bins)]
    return {"frame": frame, "bars": bars, "yticks": [(frame.y(t), svg.label(t)) for t in svg.ticks(frame.y1, 3)
                                                     if t == int(t)]}


def overlay_chart(rows: list[dict], ref: ReferenceCurve | None) -> dict | None:
    """Every student's curve, thinned, in one chart; outliers (diverged, or ending far above the class)
    drawn on top in colour and named."""
    drawn = [r for r in rows if r["curve"] and r["curve"].mean]
    if not drawn:
        return None
    finals = [r["final_loss"] for r in drawn if r["final_loss"] is not None]
    median = statistics.median(finals) if finals else 0.0
    spread = statistics.median([abs(f - median) for f in finals]) if finals else 0.0
    limit = median + max(6 * spread, 0.25)
    ref_end = _final(ref.mean, len(ref.epoch_starts)) if ref and ref.mean else None
    if ref_end is not None:  # with a reference, "far above" means far above where it ends
        limit = max(3 * ref_end, ref_end + 0.5)
    ref_top = max(ref.high) if ref and ref.high else None
    tops = sorted(v for r in drawn for v in r["curve"].mean if v is not None)
    top = tops[int(0.98 * (len(tops) - 1))] if tops else 1.0  # a few exploding curves must not flatten the rest
    top = min(max(top, ref_top or 0), 3 * ref_top) if ref_top else top  # as on a student's page
    epochs = max([len(r["curve"].epoch_starts) for r in drawn] + [len(ref.epoch_starts) if ref else 0, 1])
    frame = svg.Frame(720, 320, 48, 12, 12, 34, 0, epochs, 0, svg.nice_ceiling(top))
    curves, outliers = [], []
    for r in drawn:
        c = r["curve"]
        values = svg.thin(c.mean, OVERLAY_POINTS)
        per_point = c.per_point * math.ceil(len(c.mean) / len(values))
        xs = svg.epoch_positions(len(values), c.epoch_starts, per_point)
        odd = r["diverged"] or r["final_loss"] is None or r["final_loss"] > limit
        item = {"d": svg.line(frame, xs, values), "id": r["id"], "link": r["link"], "odd": odd}
        (outliers if odd else curves).append(item)
        r["outlier"] = odd
    rxs = svg.epoch_positions(len(ref.mean), ref.epoch_starts, ref.per_point) if ref else []
    return {"frame": frame, "curves": curves, "outliers": outliers, "named": outliers[:NAMED_OUTLIERS],
            "band": svg.band(frame, rxs, ref.low, ref.high) if ref else "",
            "yticks": [(frame.y(t), svg.label(t)) for t in svg.ticks(frame.y1)],
            "epoch_labels": [(frame.x(e + 0.5), e + 1) for e in range(epochs)] if epochs <= 30 else [],
            "boundaries": [frame.x(e) for e in range(1, epochs)], "limit": limit, "median": median,
            "ref_end": ref_end}


def _final(values: list[float | None], epochs: int) -> float | None:
    """The mean over the last epoch's points (the last tenth without epochs)."""
    tail = [v for v in values[-max(1, len(values) // (epochs or 10)):] if v is not None]
    return sum(tail) / len(tail) if tail else None


def _identical(rows: list[dict]) -> list[list[dict]]:
    """Students whose loss curves are identical step for step. Grading is seeded, so identical code gives
    identical curves: worth a look, not proof of anything (the same bug copied from the same slide does too)."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        if r["fingerprint"]:
            groups.setdefault(r["fingerprint"], []).append(r)
    return sorted((g for g in groups.values() if len(g) > 1), key=len, reverse=True)
