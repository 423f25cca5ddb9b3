"""Grading one submission: submission → sandbox (harness inside) → trace → checks → report.

`Grader` holds what a batch shares (rubric, data, sandbox backend); `Grader.grade(path)` always returns a
Report, whatever the file holds. Only setup problems (no data, no sandbox, no GPU) raise SetupError.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from grader import checks, curve, data, deadline, held_out, reference, replay, sandbox, static, submission
from grader.checks import Context, Evaluation, Verification
from grader.harness import supervisor
from grader.report import (CheckResult, Environment, Output, Report, Sandbox, Status, SubmissionInfo, Timings,
                           Training, clip_list)
from grader.rubric import Rubric, digest
from grader.trace import Trace

EVAL_TIMEOUT_S = 120
# the host's judging of one run (checks and report): linear in a capped trace, about a second for the
# largest honest one; past this the run is reported as not judged instead of holding the batch up
JUDGE_TIMEOUT_S = 120
MAX_NOTES = 20
# The full-size confirmation run's CPU budget: the short run's scaled to the data, but never more than this
# many times the short run's; and it only gets what the short run left of the file's one wall-clock backstop
CONFIRM_CPU_MULTIPLE = 2
TAIL_BYTES = 65536


class SetupError(Exception):
    """The grader cannot grade anything as configured (data, sandbox, device). CLI exit status 2."""


@dataclass
class Options:
    rubric: Rubric = field(default_factory=Rubric)
    device: str = "auto"
    data_dir: Path | None = None
    seed: int | None = None
    timeout: float | None = None
    sandbox: str = "auto"
    image: str = "grader:latest"
    jobs: int = 1
    allow_download: bool = True
    reference_curve: bool = True  # draw the reference's loss band in reports (graded once per rubric, cached)
    # start the evaluator while the submission trains (saves its torch import) only where it has a core of
    # its own; a batch job with one core would take that time from its own training
    warm_evaluator: bool = True
    # the harness's fast path: recognised transforms (ToTensor, Normalize) served from tensors decoded once,
    # torch._dynamo deferred. Off: torchvision's per-image path, dynamo imported as usual; for the test that
    # shows both give every example the same verdict (both export the network as its tape, the only format)
    fast_path: bool = True
    # how the harness moves what it sees, which must not change a verdict (tests/test_e2e.py, under load):
    # trace events written in batches (off: each at once), and the size of the pipes that capture the output
    batch_trace: bool = True
    pipe_bytes: int | None = None
    # one held-out evaluator kept running for all the submissions this Grader grades (a batch worker)
    evaluator_service: bool = False
    # harnesses forked from a worker that has imported torch once (harness/zygote.py), where the backend can
    # (the process sandbox as root); saves the import for every submission after the first (a batch worker)
    warm_worker: bool = False
    judge_timeout_s: float | None = JUDGE_TIMEOUT_S  # None: judge in this process, with no deadline


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if sandbox.cuda_present() else "cpu"
    if device == "cuda" and not sandbox.cuda_present():
        raise SetupError("--device cuda was asked for, but this machine has no NVIDIA GPU (no /dev/nvidiactl)")
    if device not in ("cpu", "cuda"):
        raise SetupError(f"unknown device '{device}' (choose auto, cpu or cuda)")
    return device


@dataclass
class Observation:
    """Everything one sandboxed run showed the grader."""

    trace: Trace
    result: sandbox.Result
    evaluation: Evaluation | None
    job: sandbox.Job
    verification: Verification | None = None


class Grader:
    def __init__(self, options: Options | None = None, backend: sandbox.Sandbox | None = None, log=None,
                 files: dict[str, Path] | None = None):
        """`files` (role -> IDX file) skips the data folder lookup; tests use it to run on tiny data."""
        self.options = opts = options or Options()
        self.rubric = opts.rubric
        self.seed = self.rubric.seed if opts.seed is None else opts.seed
        limits = self.rubric.limits.model_copy()
        if opts.timeout is not None:
            limits.timeout_s = opts.timeout
        self.cpus = limits.cpus or max(1.0, (os.cpu_count() or 1) / max(1, opts.jobs))
        self.limits = limits
        self.device = resolve_device(opts.device)
        try:
            self.backend = backend or sandbox.select(opts.sandbox, sandbox.Settings(image=opts.image))
        except sandbox.SandboxUnavailable as exc:
            raise SetupError(str(exc)) from exc
        self.files = files or self._find_data(log)
        self.rubric_digest = digest(self.rubric, opts.seed, opts.timeout)
        self.service = held_out.Service(self.backend, self.files, limits) if opts.evaluator_service else None

    def close(self) -> None:
        """Stop what this Grader keeps running between submissions (the evaluator service, a warm worker)."""
        if self.service is not None:
            self.service.close()
        self.backend.close()

    def _find_data(self, log) -> dict[str, Path]:
        opts = self.options
        folder = data.resolve_dir(opts.data_dir)
        try:
            explicit = bool(opts.data_dir or os.environ.get("GRADER_DATA_DIR"))
            return data.ensure(folder, allow_download=opts.allow_download and not explicit,
                               log=log or (lambda msg: None))
        except data.DataMissing as exc:
            raise SetupError(str(exc)) from exc

    # ------------------------------------------------------------------ one submission
    def grade(self, path: Path) -> Report:
        report = self._grade(path)
        report.rubric_digest = self.rubric_digest  # a stored verdict says which rubric it answers
        return report

    def _grade(self, path: Path) -> Report:
        started = time.monotonic()
        path = Path(path)
        try:
            sub = submission.load(path)
        except submission.InvalidSubmission as exc:
            info = SubmissionInfo(path=str(path), name=path.name, kind=_kind_of(path),
                                  size_bytes=path.stat().st_size if path.is_file() else None)
            return self._no_run(info, Status.invalid_submission, f"Not graded: {exc}.", str(exc), started)
        info = SubmissionInfo(path=str(path), name=sub.name, sha256=sub.sha256, kind=sub.kind, size_bytes=sub.size)
        facts = static.analyse(sub.source)
        if facts.syntax_error:
            err = facts.syntax_error
            where = sub.where(err["line"])
            detail = f"SyntaxError at {where}: {err['message']}" + (f" (`{err['text']}`)" if err["text"] else "")
            rep = self._no_run(info, Status.syntax_error, f"Python cannot parse the file: {detail}.", detail, started,
                               warnings=sub.warnings, hint="fix the syntax error; `python -m py_compile FILE` "
                                                           "shows it without running anything")
            rep.source = curve.source_of(sub.source, sub.cells)  # the page points at the line
            return rep
        try:
            return self._run(sub, info, facts, started)
        except Exception as exc:  # a bug of ours must not cost a batch its other results
            return self._no_run(info, Status.internal_error, f"The grader failed: {type(exc).__name__}: {exc}",
                                f"internal error: {exc}", started, warnings=sub.warnings,
                                hint="this is the grader's fault, not yours: report it with the JSON report")

    def _run(self, sub: submission.Submission, info: SubmissionInfo, facts, started: float) -> Report:
        seen = self.observe(sub)
        report = self._judge(sub, info, facts, seen, started)
        why = shortening_suspect(report, self.rubric)
        if why is not None:
            report = self._confirm(sub, info, facts, report, why, seen.result.wall_s, started)
        if report.curve and self.options.reference_curve and report.training.run == "shortened":
            report.reference_curve = reference.band_for(self, report)
        return report

    def _confirm(self, sub, info, facts, short: Report, why: str, short_wall_s: float, started: float) -> Report:
        """The failure may be an artifact of the shortened run: a full-size run decides, within its budgets
        (confirmation_limits). If it cannot finish in them, the shortened run's verdict stands, and says so."""
        doubt = f"on the shortened run {why}, which could have been an artifact of shortening"
        limits = confirmation_limits(self.limits, self.rubric.train_examples, short_wall_s)
        full = None if limits is None else self._judge(sub, info, facts, self.observe(sub, limits, full=True), started)
        if full is None or full.status == Status.timeout:
            why_not = "no wall-clock time was left for a full-size run" if limits is None else \
                f"a full-size run did not finish within its budget ({limits.timeout_s:g} s of CPU, " \
                f"{limits.timeout_s * limits.wall_factor:.0f} s wall-clock)"
            short.warnings.insert(0, f"{doubt}; {why_not}, so this is the shortened run's verdict")
            return short
        full.training.run = "full"
        full.warnings.insert(0, f"graded on a full-size run (60,000 training images): {doubt}")
        return full

    def observe(self, sub: submission.Submission, limits=None, full: bool = False) -> "Observation":
        """Run the submission in the sandbox, with the evaluator warming up beside it (by default within the
        rubric's limits); then ask the evaluator for the held-out predictions and the replay of recorded steps.
        `full`: on MNIST's real sizes (the confirmation run)."""
        limits = limits or self.limits
        served = held_out.served_spec(self.backend, self.rubric, self.seed, full)
        with tempfile.TemporaryDirectory(prefix="grader-") as tmp, ThreadPoolExecutor(1) as pool:
            tmp = Path(tmp)
            script = tmp / _script_name(sub.path)
            script.write_text(sub.source, encoding="utf-8")
            spec = tmp / "spec.json"
            spec.write_text(json.dumps(self._spec(script.name, sub.kind, limits, full) | {"cells": sub.cell_starts}))
            inputs = {script.name: script, "spec.json": spec, **held_out.training_inputs(self.backend, self.files)}
            key = secrets.token_hex(32).encode()
            job = sandbox.Job("grader.harness.supervisor", inputs, limits, timeout_s=_harness_deadline(limits),
                              device=self.device, cpus=self.cpus, stdin=key + b"\n", warm_env=self._warm_env(),
                              cpu_meter=True)
            pending = tmp / "pending"
            pending.mkdir()
            (pending / "served.json").write_text(json.dumps(served))  # prepared while the submission trains
            evaluator = pool.submit(self.backend.run, self._evaluator_job(pending, limits)) if self.warms_evaluator \
                else None
            trace, question = None, None
            try:
                result = self.backend.run(job)
                trace = Trace.from_stream(result.stdout, key)
                todo = replay.plan(trace)
                question = _question(trace, todo, served)
            finally:
                if self.service is None:
                    _hand_over(pending, question)
            answer = self._ask(question, evaluator, pool, pending, limits)
        verification = replay.conclude(todo, answer.replay, answer.why_not)
        replay.adopt_losses(trace, verification)
        return Observation(trace, result, _evaluation(trace, answer), job, verification)

    def _ask(self, question: held_out.Question, evaluator, pool, pending: Path, limits) -> held_out.Answer:
        """The evaluator's answer: the batch's service's, or this run's one-shot evaluator's (started beside
        the sandbox, or now)."""
        if question.empty:
            return held_out.Answer(None, None)
        if self.service is not None:
            return self.service.ask(question)
        evaluator = evaluator or pool.submit(self.backend.run, self._evaluator_job(pending, limits))
        return held_out.answer_to(question, held_out.one_shot_answer(evaluator.result()),
                                  held_out.labels(self.files["test_labels"]))

    def _spec(self, script: str, kind: str, limits, full: bool = False) -> dict:
        served = held_out.training_paths(self.backend)
        return {
            "submission": f"in/{script}", "kind": kind,
            "train_images": served["images"], "train_labels": served["labels"],
            "train_examples": self.rubric.train_examples, "eval_examples": self.rubric.eval_examples,
            "seed": self.seed, "threads": self.threads, "device": self.device,
            # CPU seconds per thread: idle torch threads spin, so a busy machine inflates CPU time per thread
            "cpu_timeout_s": limits.timeout_s * self.threads,
            "timeout_s": limits.timeout_s * limits.wall_factor,
            "grace_s": limits.grace_s, "full_size": full, "fast_path": self.options.fast_path,
            "batch_trace": self.options.batch_trace, "pipe_bytes": self.options.pipe_bytes,
            "output_cap": self.limits.output_bytes, "tail_bytes": TAIL_BYTES, "workdir": "work", "scratch": "tmp",
            "text_stdout": self.backend.text_stdout,
        }

    def _warm_env(self) -> dict | None:
        """The environment a warm worker starts with: the harness's own (supervisor.child_env), as in the
        sandbox, for the flags Python reads once at start-up (hash seed, unbuffered output, no user site)."""
        if not (self.options.warm_worker and self.options.fast_path):
            return None
        env = supervisor.child_env({"workdir": "/sandbox/work", "scratch": "/sandbox/tmp", "seed": self.seed,
                                    "threads": self.threads, "device": self.device})
        env.pop("PYTHONPATH", None)  # the sandbox's interpreter starts without the host's
        return env

    @property
    def threads(self) -> int:
        """Torch threads for the training: the job's cores, less the one the evaluator warms up on beside it,
        so busy threads never outnumber cores. Measured on 2 cores: the reference trains in 1.9 s on one
        thread and 2.5 s on two; a CNN, 3.8 s against 3.8 s."""
        cores = max(1, math.ceil(self.cpus))
        return max(1, cores - 1) if self.warms_evaluator else cores

    @property
    def warms_evaluator(self) -> bool:
        """A one-shot evaluator starts beside the training (not where a service evaluates instead)."""
        return self.options.warm_evaluator and not self.options.evaluator_service

    def _evaluator_job(self, pending: Path, limits) -> sandbox.Job:
        """Held-out evaluation and replay: no GPU, no submission code and no test labels, only data."""
        inputs = {"pending": pending, **held_out.evaluator_inputs(self.backend, self.files)}
        return sandbox.Job("grader.evaluate", inputs, limits, timeout_s=_harness_deadline(limits) + EVAL_TIMEOUT_S,
                           device="cpu", cpus=1, args=("--isolated",) if self.backend.isolated else ())

    # ------------------------------------------------------------------ reports
    def _sandbox_info(self, job: sandbox.Job | None, trace: Trace | None = None) -> Sandbox:
        enforced = self.backend.enforced(job) if job else {}
        if trace is not None and trace.sup and "warm" in trace.sup:
            enforced["harness"] = "forked by a warm worker, then entered this sandbox" if trace.sup["warm"] \
                else "a new interpreter"
        if trace is not None and trace.sup and trace.sup.get("cpu_meter"):  # what the CPU budget counted
            enforced["cpu_charged_by"] = trace.sup["cpu_meter"]
        return Sandbox(backend=self.backend.name, isolated=self.backend.isolated, limits=enforced)

    def _judge(self, sub, info, facts, seen: "Observation", started: float) -> Report:
        """The report on one run, or, where the run's trace is past the host's caps or judging it overruns
        its deadline, a report that says the run could not be judged."""
        if seen.trace.over_cap:
            why = (f"the run wrote {seen.trace.over_cap} to the grader's own trace channel; the grader's harness "
                   "never does, so the program wrote to it directly and what it did cannot be judged")
            return self._no_run(info, Status.invalid_submission, f"Not graded: {why}.", why, started,
                                warnings=sub.warnings, hint="remove the code that writes to the grader's trace: "
                                                            "a program that trains and prints never reaches this limit")
        limit = self.options.judge_timeout_s
        if limit is None:
            return self._report(sub, info, facts, seen, started)
        try:
            return deadline.call_within(limit, lambda: self._report(sub, info, facts, seen, started))
        except deadline.DeadlineExceeded:
            why = (f"the grader could not judge this run within {limit:g} s: its trace (what the program did, as "
                   "recorded) was too costly to check")
            return self._no_run(info, Status.internal_error, f"Not graded: {why}.", why, started,
                                warnings=sub.warnings, hint="this is not a verdict on your program: ask your "
                                                            "instructor to look at this submission")

    def _report(self, sub, info, facts, seen: "Observation", started: float) -> Report:
        trace, result, evaluation, job = seen.trace, seen.result, seen.evaluation, seen.job
        status, why = classify(trace, result)
        ctx = Context(trace, facts, self.rubric, evaluation, seen.verification, where=sub.where, oom=result.oom,
                      limits={"timeout_s": self.limits.timeout_s, "memory_mb": self.limits.memory_mb})
        results = []
        points = self.rubric.points.model_dump()
        for check_id, title, fn in checks.CHECKS:
            if status == Status.internal_error:
                out = checks.Outcome(False, "not graded: the grader failed before it could observe this")
            else:
                out = fn(ctx)
            share = 1.0 if out.passed else out.credit if self.rubric.policy.partial_credit == "proportional" else 0
            results.append(CheckResult(id=check_id, title=_title(check_id, title, self.rubric), passed=out.passed,
                                       points=round(points[check_id] * min(1.0, max(0.0, share)), 2),
                                       max_points=points[check_id],
                                       message=out.message, hint=None if out.passed else out.hint,
                                       evidence=_with_shortening(out)))
        start = trace.start or {}
        tail, truncated, total = trace.output_tail()
        steps = trace.of("step")
        # the harness's notes, each once; few enough that the grader's own warnings below still fit in the report
        notes = Counter(n["text"] for n in trace.of("note") if isinstance(n.get("text"), str))
        counted = [text if n == 1 else f"{text} (×{n:,})" for text, n in notes.items()]
        warnings = list(sub.warnings) + clip_list(counted, MAX_NOTES)
        if trace.sup and trace.sup.get("out_capped"):
            warnings.append(f"the submission printed {total:,} bytes; only the first {self.limits.output_bytes:,} "
                            "were kept live (the report shows the last lines)")
        forged = trace.forged + ((trace.sup or {}).get("trace_rejected") or 0)
        if forged:
            warnings.append(f"{forged} forged line(s) written to the grader's channels were rejected")
        if not self.backend.isolated:
            warnings.append("graded with --sandbox none: the submission ran unisolated, as you")
        if why:
            warnings.append(why)
        doubt = seen.verification.doubt() if seen.verification else None
        if doubt:
            warnings.insert(0, f"the recorded training could not be verified: {doubt}")
        elif seen.verification and seen.verification.unverified:
            warnings.append(f"the recorded training was not replayed: {seen.verification.unverified}")
        score = sum(r.points for r in results)
        return Report(
            submission=info, status=status, message=_summary(status, results, score, self.rubric.max_score),
            score=score, max_score=self.rubric.max_score, checks=results,
            training=Training(
                epochs=len(ctx.complete), batches_per_epoch=ctx.complete[0].batches if ctx.complete else None,
                epoch_losses=[round(e.mean_loss, 4) for e in ctx.complete if e.mean_loss is not None],
                train_examples=trace.train_size or self.rubric.train_examples,
                examples_trained=trace.examples_trained,
                accuracy=evaluation.accuracy if evaluation else None,
                eval_examples=evaluation.examples if evaluation else None,
                device=steps[0].get("device") if steps else None, seed=self.seed,
                per_digit_accuracy=curve.per_digit_accuracy(evaluation and evaluation.confusion),
                confusion=curve.confusion_matrix(evaluation and evaluation.confusion)),
            timings=Timings(total_s=round(time.monotonic() - started, 3), sandbox_s=round(result.wall_s, 3),
                            import_s=trace.phase("import"), submission_s=(trace.end or {}).get("seconds"),
                            export_s=trace.phase("export"), evaluate_s=evaluation.seconds if evaluation else None),
            environment=Environment(python=start.get("python"), torch=start.get("torch"),
                                    torchvision=start.get("torchvision"),
                                    device=start.get("gpu") or self.device),
            output=Output(stdout_tail=tail, truncated=truncated, total_bytes=total),
            sandbox=self._sandbox_info(job, trace), warnings=warnings,
            curve=curve.loss_curve(trace, ctx.epochs), source=curve.source_of(sub.source, sub.cells))

    def _no_run(self, info, status: Status, message: str, detail: str, started: float, warnings=(),
                hint: str | None = None) -> Report:
        points = self.rubric.points.model_dump()
        first = hint or "fix the file as described, then grade it again"
        results = [CheckResult(id=cid, title=_title(cid, title, self.rubric), passed=False, points=0,
                               max_points=points[cid],
                               message=detail if cid == "runs" else "not checked: the program could not run",
                               hint=first if cid == "runs" else "fix the problem reported under 'runs' first")
                   for cid, title, _ in checks.CHECKS]
        return Report(submission=info, status=status, message=message, score=0, max_score=self.rubric.max_score,
                      checks=results, training=Training(seed=self.seed, train_examples=self.rubric.train_examples),
                      timings=Timings(total_s=round(time.monotonic() - started, 3)), warnings=list(warnings),
                      sandbox=self._sandbox_info(None))


def _with_shortening(out: checks.Outcome) -> dict:
    """The check's evidence, plus why its failure may be an artifact of the shortened run (read by
    shortening_suspect to decide on a full-size run)."""
    if out.passed or not out.shortening_sensitive:
        return out.evidence
    return {**out.evidence, "shortening_sensitive": out.shortening_reason or "it depends on the epoch length"}


def confirmation_limits(limits, train_examples: int, short_wall_s: float):
    """The full-size confirmation run's limits, or None where the short run left it no time. Its CPU budget is
    the short run's scaled to the data, at most CONFIRM_CPU_MULTIPLE times the short run's; its wall-clock
    backstop is what the short run left of the file's one (timeout_s x wall_factor), so a file never holds a
    worker for longer than that and two grace periods, whatever it does to ask for the confirmation."""
    cpu_s = limits.timeout_s * min(60000 / train_examples, CONFIRM_CPU_MULTIPLE)
    wall_s = limits.timeout_s * limits.wall_factor - short_wall_s
    if wall_s < limits.timeout_s:  # less than one short run's budget: not worth starting
        return None
    return limits.model_copy(update={"timeout_s": cpu_s, "wall_factor": wall_s / cpu_s})


def _harness_deadline(limits) -> float:
    """The host's hard wall clock for the harness sandbox: after the supervisor's own deadlines."""
    return limits.timeout_s * limits.wall_factor + limits.grace_s + 30


SIZE_WORDS = re.compile(r"out of (?:bounds|range)|\bindex\b|\bsize\b|\bshape\b|exceeds", re.IGNORECASE)


def shortening_suspect(report: Report, rubric: Rubric) -> str | None:
    """Why the shortened run's verdict could differ from a full-size run's, or None.

    A crash with an index or size error (code written for 60,000 images meeting fewer), or a check that says
    its failure depends on the shortening (a print cadence longer than the shortened epoch)."""
    if report.training.run == "full" or report.status == Status.timeout:  # shortening never makes a run longer
        return None
    runs = report.check("runs")
    numbers = {int(n) for n in re.findall(r"\d+", runs.message)}
    served = {rubric.train_examples, rubric.eval_examples}
    if not runs.passed and report.status == Status.runtime_error and SIZE_WORDS.search(runs.message) and \
            (numbers & served or any(min(served) <= n <= 60000 for n in numbers)):
        return f"it stopped with \"{runs.message[:160]}\""
    for c in report.checks:
        why = (c.evidence or {}).get("shortening_sensitive")
        if not c.passed and why:
            return f"`{c.id}` failed ({why})"
    return None


def _has_model(trace: Trace | None) -> bool:
    return trace is not None and trace.artifact is not None and bool((trace.model or {}).get("preprocess"))


def _question(trace: Trace, todo: replay.Plan, served: dict) -> held_out.Question:
    """What the evaluator is asked about this run: the exported model, when it is data; the chosen records."""
    model = trace.artifact if _has_model(trace) and held_out.refusal(trace.model) is None else None
    return held_out.Question(model, trace.model, todo.request() if todo.work or todo.unwritten else None, served)


def _evaluation(trace: Trace, answer: held_out.Answer) -> Evaluation | None:
    """The held-out evaluation: none without an exported model, a refusal for one that is not data."""
    if not _has_model(trace):
        return None
    if refusal := held_out.refusal(trace.model):
        return Evaluation(error=refusal)
    return answer.evaluation


def _hand_over(pending: Path, question: held_out.Question | None) -> None:
    """Give the waiting evaluator the run's question, or tell it there is none. The request is renamed into
    place last, so the evaluator never reads a half-written file."""
    request = {"cancel": True} if question is None or question.empty else question.write(pending)
    (pending / "request.tmp").write_text(json.dumps(request))
    os.replace(pending / "request.tmp", pending / "request.json")


def classify(trace: Trace, result: sandbox.Result) -> tuple[Status, str | None]:
    """The report's status, and a warning explaining it where the trace alone does not."""
    sup = trace.sup
    if sup is None or "error" in sup:
        err = result.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        if result.timed_out:
            return Status.timeout, "the sandbox was killed at the host's deadline"
        return Status.internal_error, "the sandbox returned no result: " + (" | ".join(err) or (sup or {}).get("error", "?"))
    if result.oom:
        return Status.memory_limit, None
    outcome = checks.run_outcome(trace)
    if outcome == "ok":
        return Status.graded, None
    if outcome == "exception":
        exc = (trace.exception or {}).get("type")
        return (Status.import_error if exc in ("ModuleNotFoundError", "ImportError") else Status.runtime_error), None
    if outcome == "memory":
        return Status.memory_limit, None
    if outcome == "timeout":
        return Status.timeout, None
    if outcome == "exit":
        return Status.runtime_error, None
    if trace.phase("data") is None:  # the harness itself failed before running the submission
        return Status.internal_error, "the harness failed before the submission ran"
    return Status.runtime_error, "the program ended without the harness seeing it finish"


def _summary(status: Status, results: list[CheckResult], score: float, max_score: float) -> str:
    failed = [r.id for r in results if not r.passed]
    lead = {Status.graded: "Ran to completion", Status.import_error: "Stopped at an import",
            Status.runtime_error: "Stopped with an error", Status.timeout: "Timed out",
            Status.memory_limit: "Ran out of memory", Status.internal_error: "The grader failed"}[status]
    if not failed:
        return f"{lead}; all {len(results)} checks passed: {score:g}/{max_score:g}."
    return f"{lead}; {len(results) - len(failed)} of {len(results)} checks passed ({', '.join(failed)} failed): " \
           f"{score:g}/{max_score:g}."


def _title(check_id: str, title: str, rubric: Rubric) -> str:
    return f"{rubric.epochs} epochs" if check_id == "epochs" else title


def _kind_of(path: Path) -> str:
    return {".py": "python", ".ipynb": "notebook"}.get(path.suffix.lower(), "unknown")


def _script_name(path: Path) -> str:
    """The name the submission runs under (shown in its tracebacks); safe for any sandbox."""
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem)[:64].strip(".") or "submission"
    return f"{stem}.py"
