"""One GitHub Actions job run the way the runner runs it, for the workflow files we publish: steps in order,
`if:` (default `success()`), `${{ }}` expressions over `steps.<id>.outputs`, `run:` steps in `bash -e` with
$GITHUB_OUTPUT/$GITHUB_STEP_SUMMARY files, and `uses:` steps through handlers the test supplies. Only the
expression forms our workflows use are understood; anything else fails the test rather than guessing.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
TOKEN = re.compile(r"\s*(steps\.[A-Za-z0-9_-]+\.(?:outputs\.[A-Za-z0-9_-]+|outcome|conclusion)|"
                   r"(?:always|success|failure|cancelled)\(\)|'(?:[^']|'')*'|==|!=|&&|\|\||!|\(|\))")
STATUS_FUNCTION = re.compile(r"\b(?:always|success|failure|cancelled)\(\)")


@dataclass
class Step:
    name: str
    outcome: str  # success, failure or skipped
    outputs: dict[str, str] = field(default_factory=dict)
    log: str = ""
    summary: str = ""


@dataclass
class Job:
    steps: list[Step]

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)


# a `uses:` handler: (with-inputs, env, workspace, files dir) -> (exit status, log)
Handler = Callable[[dict, dict, Path, Path], tuple[int, str]]


def evaluate(expr: str, done: dict[str, Step], failed: bool) -> object:
    """An expression of the forms our workflows use: status functions, steps' outputs, '' literals, ==, !=,
    !, &&, || and parentheses. Missing outputs are '' (GitHub's null compares equal to '')."""
    pos, parts = 0, []
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m or not m[1]:
            raise ValueError(f"expression not understood here: {expr!r} at {expr[pos:]!r}")
        tok, pos = m[1], m.end()
        if tok.startswith("steps."):
            _, sid, kind, *name = tok.split(".")
            step = done.get(sid)
            value = (step.outputs.get(name[0], "") if step else "") if kind == "outputs" else \
                (step.outcome if step else "")
            parts.append(repr(value))
        elif tok.endswith("()"):
            parts.append(repr({"always()": True, "cancelled()": False, "success()": not failed,
                               "failure()": failed}[tok]))
        elif tok.startswith("'"):
            parts.append(repr(tok[1:-1].replace("''", "'")))
        else:
            parts.append({"&&": " and ", "||": " or ", "!": " not "}.get(tok, tok))
    return eval("".join(parts), {"__builtins__": {}})  # noqa: S307 - tokens above are the whole grammar


def substitute(text: str, done: dict[str, Step], failed: bool) -> str:
    return EXPRESSION.sub(lambda m: str(evaluate(m[1], done, failed)), str(text))


def _outputs(path: Path) -> dict[str, str]:
    """$GITHUB_OUTPUT: `name=value` lines and `name<<DELIM` blocks."""
    lines, out = path.read_text().splitlines() if path.exists() else [], {}
    it = iter(lines)
    for line in it:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            out[name] = "\n".join(iter(lambda: next(it), delim))
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
    return out


def run_job(workflow: dict, job: str, workspace: Path, files: Path, uses: dict[str, Handler],
            env: dict[str, str], stand_ins: dict[str, Handler] | None = None) -> Job:
    """Run `job`'s steps in `workspace`. `uses` handles `uses:` steps by action (without @ref); `stand_ins`
    replaces `run:` steps by name (the installation, which the test's environment has done already)."""
    done: dict[str, Step] = {}
    steps: list[Step] = []
    for n, spec in enumerate(workflow["jobs"][job]["steps"]):
        name = spec.get("name") or spec.get("uses") or spec["run"].split("\n")[0]
        failed = any(s.outcome == "failure" for s in steps)
        condition = spec.get("if", "success()")
        condition = EXPRESSION.sub(lambda m: m[1], condition) if isinstance(condition, str) else condition
        if isinstance(condition, str) and not STATUS_FUNCTION.search(condition):
            condition = f"success() && ({condition})"  # GitHub's rule: no status function means success() too
        if not evaluate(condition, done, failed):
            steps.append(Step(name, "skipped"))
            if "id" in spec:
                done[spec["id"]] = steps[-1]
            continue
        output, summary = files / f"output-{n}", files / f"summary-{n}"
        step_env = {**env, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
                    "GITHUB_WORKSPACE": str(workspace), "GITHUB_ACTIONS": "true", "CI": "true",
                    **{k: substitute(v, done, failed) for k, v in (spec.get("env") or {}).items()}}
        if "uses" in spec:
            action = spec["uses"].split("@")[0]
            inputs = {k: substitute(v, done, failed) for k, v in (spec.get("with") or {}).items()}
            code, log = uses[action](inputs, step_env, workspace, files)
        elif stand_ins and name in stand_ins:
            code, log = stand_ins[name]({}, step_env, workspace, files)
        else:
            script = files / f"step-{n}.sh"
            script.write_text(substitute(spec["run"], done, failed))
            proc = subprocess.run(["bash", "-e", str(script)], cwd=workspace, env=step_env, capture_output=True,
                                  text=True)
            code, log = proc.returncode, proc.stdout + proc.stderr
        steps.append(Step(name, "success" if code == 0 else "failure", _outputs(output), log,
                          summary.read_text() if summary.exists() else ""))
        if "id" in spec:
            done[spec["id"]] = steps[-1]
    return Job(steps)


def base_env() -> dict[str, str]:
    """The environment a step starts from: this one, less anything GitHub's runner would set itself."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_"))}
