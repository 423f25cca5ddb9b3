"""The verdict as a person reads it: a row per check, a hint under each failure, the program's own output.

Every text a submission could have shaped (its name, its output, messages quoting it) goes through
inert.terminal: it can print a fake verdict, but only as text inside its own box, never over the real one."""

from __future__ import annotations

import textwrap

import click

from grader import inert, spark
from grader.report import Report

OUTPUT_LINES = 12


def verdict(report: Report, *, color: bool | None = None) -> str:
    def style(text: str, **kw) -> str:
        return click.style(text, **kw) if color is not False else text

    sub, text = report.submission, inert.terminal
    lines = [style(f"grader {report.grader_version} · {text(sub.path, one_line=True)} ({sub.kind})", bold=True),
             text(report.message, one_line=True), ""]
    width = max((len(c.title) for c in report.checks), default=10)
    for c in report.checks:
        mark = style("✓", fg="green") if c.passed else style("✗", fg="red")
        pts = f"{c.points:g}/{c.max_points:g}".rjust(7)
        lines.append(f"  {mark} {text(c.title).ljust(width)} {pts}  {text(c.message, one_line=True)}")
        if c.hint:
            for i, part in enumerate(textwrap.wrap(text(c.hint), 96)):
                lines.append(" " * (width + 15) + style(("hint: " if i == 0 else "      ") + part, fg="yellow"))
    t = report.training
    facts = []
    if t.accuracy is not None:
        facts.append(f"held-out accuracy {t.accuracy:.1%}")
    if t.epochs is not None and report.checks and t.examples_trained:
        run = "a full-size run" if t.run == "full" else f"the {t.train_examples:,}-image grading subset"
        facts.append(f"{t.epochs} epochs on {run}")
    facts.append(f"{report.timings.total_s:.1f} s")
    if report.sandbox:
        facts.append(f"sandbox: {report.sandbox.backend}")
    lines += ["", style(f"Score: {report.score:g}/{report.max_score:g}", bold=True) + "   " + " · ".join(facts)]
    if loss := spark.loss_line(report):
        lines.append(loss)
    out = report.output.stdout_tail.rstrip("\n").splitlines()
    if out:
        shown = out[-OUTPUT_LINES:]
        more = " (truncated)" if report.output.truncated or len(out) > len(shown) else ""
        lines += ["", f"Your program's output, last {len(shown)} lines{more}:"]
        lines += ["  │ " + text(line, one_line=True)[:200] for line in shown]
    if report.warnings:
        lines += ["", "Warnings:"] + [f"  - {text(w, one_line=True)}" for w in report.warnings]
    return "\n".join(lines)
