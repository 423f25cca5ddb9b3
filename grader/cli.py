"""The `grader` command: thin click commands over the library.

Exit status: 0 every check passed (or every submission reached --min-score) · 1 some did not · 2 usage or
input error · 3 internal (infrastructure) error. `grade` also exits 130 when Ctrl-C stopped it early.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import click

from grader import __version__, data, inert, report, rubric, sandbox, scratch
from grader.report import Status

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
FORMAT_NAMES = ("gradescope", "github-classroom", "prairielearn", "junit")  # grader.formats.NAMES, kept import-light


class GraderError(click.ClickException):
    """A problem the user can fix: the message says what, `fix` how. Exit status 2."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message + (f"\n  fix: {fix}" if fix else ""))


class InfrastructureError(GraderError):
    """The grader, not the input, failed. Exit status 3."""

    exit_code = EXIT_INTERNAL


class Jobs(click.ParamType):
    """A number of parallel jobs, or `auto`: what the machine holds (cores and memory)."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        if value is None or value == "auto":
            return None
        if str(value).isdigit() and int(value) >= 1:
            return int(value)
        self.fail(f"{value!r} is neither a number of jobs (1 or more) nor 'auto'", param, ctx)


def _log(message: str) -> None:
    click.echo(inert.terminal(message), err=True)  # notes quote student ids and entry names


def exit_code(rep: report.Report, min_score: float | None = None) -> int:
    if rep.status == Status.internal_error:
        return EXIT_INTERNAL
    if rep.status == Status.invalid_submission:
        return EXIT_USAGE
    if min_score is not None:
        return EXIT_PASS if rep.score >= min_score else EXIT_FAIL
    return EXIT_PASS if rep.all_passed else EXIT_FAIL


class ReportInputError(click.ClickException):
    """A report file that cannot be read; exit status 2, and the message names the file."""

    exit_code = EXIT_USAGE


address_option = click.option("--address", envvar="RAY_ADDRESS",
                              help="The Ray cluster to join (head-node:6379) [default: $RAY_ADDRESS; with neither, "
                                   "Ray starts one on this machine].")

html_option = click.option("--html", "html_path", type=click.Path(dir_okay=False, writable=True, path_type=Path),
                           help="Also write the report as a self-contained HTML page (works offline).")


min_score_option = click.option("--min-score", type=click.FloatRange(min=0),
                                help="Exit 0 when the score reaches this [default: full marks].")


def grading_options(fn):
    """Options shared by every command that grades."""
    opts = [
        click.option("--rubric", "rubric_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="TOML rubric: points per check, epochs, subset size, accuracy threshold, limits."),
        click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
                     help="Where the submission trains. auto: cuda if this machine has an NVIDIA GPU."),
        click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Folder with the MNIST IDX files [default: $GRADER_DATA_DIR, else the user cache]."),
        click.option("--seed", type=int, help="Seed for the training subset and torch [default: the rubric's, 0]."),
        click.option("--timeout", type=click.FloatRange(min=1), help="Seconds the submission may run [default: 90]."),
        click.option("--sandbox", type=click.Choice(["auto", "docker", "process", "none"]), default="auto",
                     show_default=True, help="Isolation. auto: docker if an engine answers, else process "
                                             "(bubblewrap). none: no isolation, for your own code only."),
        click.option("--image", default="grader:latest", show_default=True, help="Grader image (docker sandbox)."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def make_grader_or_raise(rubric_path, device, data_dir, seed, timeout, sandbox, image, jobs: int = 1):
    from grader.grade import Grader, Options

    options = Options(rubric=rubric.load(rubric_path), device=device, data_dir=data_dir, seed=seed,
                      timeout=timeout, sandbox=sandbox, image=image, jobs=jobs)
    return Grader(options, log=_log)


def make_grader(**options):
    from grader.grade import SetupError

    try:
        return make_grader_or_raise(**options)
    except (SetupError, rubric.RubricError) as exc:
        _log(f"error: {exc}")
        sys.exit(EXIT_USAGE)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grader")
def cli():
    """Autograder for the PyTorch MNIST training-loop exercise.

    Runs a submission in a sandbox on a shortened MNIST training, watches what it does (architecture, loss,
    optimizer, epochs, printed losses, zero_grad) and measures held-out accuracy on the real test set.
    """


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))  # a missing file is reported (invalid), not refused
@click.option("--json", "as_json", is_flag=True, help="Write the JSON report to stdout (and nothing else).")
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write the JSON report to this file.")
@html_option
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES),
              help="Write this LMS/CI format to stdout instead of the verdict (github-classroom: base64, and "
                   "when $GITHUB_OUTPUT is set, the outputs `result` and one per check appended to it).")
@min_score_option
@grading_options
def check(file, as_json, out, html_path, fmt, min_score, **options):
    """Grade one submission (.py or .ipynb) and print the verdict.

    Exit status: 0 full marks (or --min-score reached), 1 not, 2 usage error or not a submission (a missing,
    empty or unreadable FILE is still reported, in every format), 3 internal error.

    \b
    Examples:
      grader check my_solution.py
      grader check homework.ipynb --json > report.json
      grader check my_solution.py --html report.html      # the verdict, the loss curve, the digits
      grader check my_solution.py --format junit > junit.xml --min-score 80
      GRADER_DATA_DIR=/data/mnist grader check my_solution.py --sandbox process
    """
    from grader import render

    if as_json and fmt:
        raise GraderError("--json and --format both write to stdout", fix="choose one (--out FILE keeps the JSON)")
    grader = make_grader(**options)
    rep = grader.grade(file)
    text = rep.model_dump_json(indent=2)
    if out:
        out.write_text(text + "\n")
    if html_path:
        from grader import html

        html_path.write_text(html.student_page(rep), encoding="utf-8")
    if as_json:
        click.echo(text)
    elif fmt:
        _emit_format(fmt, rep)
    else:
        click.echo(render.verdict(rep, color=None if sys.stdout.isatty() else False))
    sys.exit(exit_code(rep, min_score))


def _emit_format(fmt: str, rep: report.Report) -> None:
    import os

    from grader import formats

    text = formats.render(fmt, rep)
    click.echo(text)
    if fmt == "github-classroom" and os.environ.get("GITHUB_OUTPUT"):
        from grader.formats import github_classroom

        with open(os.environ["GITHUB_OUTPUT"], "a") as fh:  # the step's outputs, for the reporter's runners
            fh.writelines(f"{name}={value}\n" for name, value in github_classroom.outputs(rep).items())


def worker_settings(grader, options: dict, jobs: int):
    """What the batch engine's workers need to build the same Grader as this one, as plain data."""
    return _batch_settings(grader.rubric, options, grader.backend.name, jobs)


@cli.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for grader.db (the results store) and every export.")
@click.option("--jobs", "-j", type=Jobs(), default="auto", show_default=True,
              help="Submissions graded at once; auto: what the machine holds, from its cores and memory.")
@click.option("--force", is_flag=True, help="Grade everything again, even what the store already has.")
@click.option("--retry-errors", is_flag=True, help="Grade again what ended in an infrastructure error.")
@click.option("--gradebook", type=click.Choice(["canvas", "moodle", "blackboard"]),
              help="Also write gradebook-LMS.csv, the file that LMS's grade import takes.")
@click.option("--format", "fmts", multiple=True, type=click.Choice(FORMAT_NAMES),
              help="Also write this result format per student (repeatable): DIR/FORMAT/...")
@click.option("--title", default="MNIST training loop", show_default=True,
              help="The assignment's column title in the gradebook.")
@click.option("--column-id", help="The LMS's id of the assignment column (Canvas assignment id, Blackboard "
                                  "column id): required by --gradebook canvas|blackboard.")
@click.option("--points", type=click.FloatRange(min=0, min_open=True),
              help="What the assignment is worth in the LMS: --gradebook scores are scaled to it (75/100 is 7.5 "
                   "at --points 10) [default: the rubric's maximum, which the LMS assignment must then be worth].")
@click.option("--pattern", help="Only files whose name matches this glob are candidates (e.g. 'train*.py').")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Who grades: worker processes on this machine, or the slots of a Ray cluster (needs "
                   "pip install 'grader[ray]'); this machine keeps the store and the exports either way.")
@address_option
@click.option("--gpus-per-job", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="With --executor ray and --device cuda: the GPU share each grading slot asks Ray for "
                   "(0.25: four slots share a GPU).")
@min_score_option
@grading_options
def grade(inputs, out, jobs, force, retry_errors, gradebook, fmts, title, column_id, points, pattern, quiet,
          executor, address, gpus_per_job, min_score, **options):
    """Grade a class: files, folders, LMS export zips -> DIR/grades.csv, reports, gradebook, formats.

    INPUTS may be .py/.ipynb files, a folder of files (one per student), a folder with a folder per
    student, a folder of GitHub Classroom clones, or an export zip from Canvas, Moodle, Blackboard or
    Gradescope (or that zip unpacked). Each student's latest attempt is graded; two different candidate
    files are reported, never guessed between.

    Results go to DIR/grader.db as each one arrives. Running the same command again grades only what is
    missing, so an interrupted batch resumes where it stopped; every file in DIR is regenerated from the
    store: reports/STUDENT.json, grades.csv, summary.md, gradebook-LMS.csv, FORMAT/.

    Exit status: 0 every student reached --min-score (default: full marks), 1 some did not, 2 usage or
    input error (including a student with no gradable or an ambiguous file, or an export these inputs
    cannot make, such as a Canvas gradebook of a plain folder: the other exports are still written),
    3 infrastructure error (grade those again with --retry-errors), 130 stopped by Ctrl-C.

    \b
    Examples:
      grader grade submissions.zip --out results/
      grader grade canvas-export.zip --out hw1/ --gradebook canvas --column-id 4321 --jobs 2
      grader grade canvas-export.zip --out hw1/ --gradebook canvas --column-id 4321 --points 10
      grader grade moodle.zip late/ --out hw1/ --format gradescope --format junit --min-score 70
      grader grade hw1-submissions/ --out hw1/ --retry-errors
      grader grade mooc.zip --out hw1/ --executor ray --address head-node:6379
    """
    from grader.batch import executor as executors, inputs as batch_inputs, run

    if gradebook in ("canvas", "blackboard") and not column_id:
        raise GraderError(f"--gradebook {gradebook} needs the assignment column's id, or the LMS would make a "
                          "new column", fix="pass --column-id ID (Canvas: the number in the assignment's URL; "
                                            "Blackboard: the |ID after the column name in a downloaded gradebook)")
    if points is not None and not gradebook:
        raise GraderError("--points scales the gradebook's scores", fix="add --gradebook canvas|moodle|blackboard")
    if force and retry_errors:
        raise GraderError("--force already grades everything again", fix="drop --retry-errors")
    if executor == "ray":
        settings, digest, pool = _ray_pool(options, address, jobs, gpus_per_job)
    else:
        grader = make_grader(**options)
        jobs, digest, pool = jobs or run.default_jobs(grader.limits.memory_mb), grader.rubric_digest, None
        settings = worker_settings(grader, options, jobs)
    plan = run.Plan(inputs=list(inputs), out=out, settings=settings, rubric_digest=digest, jobs=jobs or 0,
                    force=force, retry_errors=retry_errors, min_score=min_score, gradebook=gradebook, title=title,
                    column_id=column_id, points=points, formats=tuple(dict.fromkeys(fmts)), pattern=pattern,
                    progress="quiet" if quiet else "auto", command=" ".join(sys.argv))
    try:
        outcome = run.run(plan, pool)
    except batch_inputs.InputError as exc:
        raise GraderError(inert.terminal(exc)) from None  # it quotes entry names from the inputs
    except executors.SetupFailed as exc:
        raise InfrastructureError(f"the grading workers could not start: {exc}") from None
    for failure in outcome.failed:  # even with --quiet: a file the user asked for is missing
        _log(f"error: {failure}")
    if not quiet:
        for note in outcome.notes:
            _log(note)
        mean = f", mean score {outcome.mean:.1f}" if outcome.mean is not None else ""
        click.echo(f"{outcome.students} students{mean} -> {out / 'grades.csv'}, {out / 'summary.md'}"
                   + ("  (interrupted: run the same command to finish)" if outcome.interrupted else ""))
    sys.exit(outcome.exit_code)


def _batch_settings(rub: rubric.Rubric, options: dict, sandbox_kind: str, jobs: int):
    """What each batch worker builds its Grader from, as plain data."""
    from grader.batch import executor as executors

    return executors.Settings(rubric=rub.model_dump(mode="json"), device=options["device"],
                              data_dir=str(options["data_dir"]) if options["data_dir"] else None,
                              seed=options["seed"], timeout=options["timeout"], sandbox=sandbox_kind,
                              image=options["image"], jobs=jobs)


def _ray_pool(options: dict, address: str | None, jobs: int | None, gpus_per_job: float):
    """The driver's side of a Ray batch: no sandbox or GPU needed here (each node proves its own), only the
    rubric, and MNIST where this machine has it to ship to the nodes that lack it."""
    from grader.batch import ray_executor

    if options["sandbox"] == "none":
        raise GraderError("--sandbox none is refused with --executor ray: a cluster grades only in a sandbox",
                          fix="pass --sandbox auto, process or docker")
    try:
        ray_executor.import_ray()
    except ray_executor.RayUnavailable as exc:
        raise GraderError(str(exc)) from None
    try:
        rub = rubric.load(options["rubric_path"])
    except rubric.RubricError as exc:
        raise GraderError(str(exc)) from None
    settings = _batch_settings(rub, options, options["sandbox"], jobs=1)
    pool = ray_executor.RayPool(settings, address, jobs, cpus_per_job=rub.limits.cpus or 1.0,
                                gpus_per_job=gpus_per_job if options["device"] == "cuda" else 0.0)
    return settings, rubric.digest(rub, options["seed"], options["timeout"]), pool


def _hook(root: Path, submission: str, results: str, source: str, fmt: str, options: dict) -> None:
    from grader import formats, hooks
    from grader.formats import prairielearn
    from grader.grade import SetupError

    target = root / results
    try:
        grader = make_grader_or_raise(**options)
    except (SetupError, rubric.RubricError) as exc:
        if source != "prairielearn":
            raise InfrastructureError(f"the grader could not start: {exc}") from None
        # PrairieLearn reads results.json only after exit 0, else shows "Unknown error": say what went wrong
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(prairielearn.not_gradable(f"The grader could not start: {exc}")) + "\n")
        _log(f"error: the grader could not start: {exc}")
        return
    rep = hooks.grade_folder(grader, root / submission, source)
    if rep.status == Status.internal_error and source == "gradescope":
        # no results.json is how Gradescope marks a platform error, which the instructor can regrade
        raise InfrastructureError(f"not graded: {rep.message}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(formats.render(fmt, rep) + "\n")
    click.echo(f"{inert.terminal(rep.message)} -> {target}")


@cli.command(name="gradescope")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("/autograder"),
              show_default=True, help="Folder laid out like Gradescope's: submission/ in, results/ out.")
@grading_options
def gradescope_hook(root, **options):
    """What Gradescope's run_autograder calls: grade ROOT/submission, write ROOT/results/results.json.

    An infrastructure error writes no results.json (Gradescope then shows an autograder failure that the
    instructor can regrade) and exits 3.

    \b
    Examples:
      grader gradescope                                   # inside Gradescope
      grader gradescope --root /tmp/ag --sandbox process  # by hand: /tmp/ag/submission/main.py
    """
    _hook(root, "submission", "results/results.json", "gradescope", "gradescope", options)


@cli.command(name="gradescope-bundle")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--rubric", "rubric_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TOML rubric to bundle [default: the default rubric].")
@click.option("--sandbox", type=click.Choice(["process", "none"]), default="process", show_default=True,
              help="Sandbox inside Gradescope's container (bubblewrap needs user namespaces there; none: the "
                   "container is the only isolation).")
def gradescope_bundle(out, rubric_path, sandbox):
    """Write the autograder zip to upload to Gradescope: setup.sh, run_autograder, rubric.toml, the grader.

    \b
    Examples:
      grader gradescope-bundle autograder.zip
      grader gradescope-bundle autograder.zip --rubric hw1.toml
    """
    from grader import hooks

    try:
        text = rubric_path.read_text() if rubric_path else hooks.rubric_toml(rubric.load(None))
        rubric.load(rubric_path)
    except rubric.RubricError as exc:
        raise GraderError(str(exc)) from None
    out.write_bytes(hooks.gradescope_bundle(text, sandbox))
    click.echo(f"wrote {out}: upload it as the assignment's autograder (base image: Ubuntu 24.04)")


@cli.command(name="prairielearn")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("/grade"),
              show_default=True, help="Folder laid out like PrairieLearn's: student/ in, results/ out.")
@grading_options
def prairielearn_hook(root, **options):
    """PrairieLearn's external-grading entry point: grade ROOT/student, write ROOT/results/results.json.

    \b
    Examples:
      grader prairielearn                        # the question's "entrypoint" in info.json
      grader prairielearn --root /tmp/pl         # by hand: /tmp/pl/student/main.py
    """
    _hook(root, "student", "results/results.json", "prairielearn", "prairielearn", options)


@cli.command()
@click.option("--reference", "solution", type=click.Path(dir_okay=False, path_type=Path),
              help="A solution that earns full marks, graded once for real [default: the project's reference].")
@grading_options
def doctor(solution, **options):
    """Check a set-up before students submit: the sandbox, MNIST (sha256), one real grading of the reference.

    Prints each check, and the fix for each that fails. Exit status: 0 all passed, 1 some did not.
    The Gradescope bundle's setup.sh and the PrairieLearn image run it while they are built.

    \b
    Examples:
      grader doctor
      grader doctor --sandbox process --data-dir /opt/grader/mnist
      grader doctor --sandbox none --reference /autograder/source/reference/solution.py
    """
    from grader import doctor as checks
    from grader.grade import SetupError

    findings = [checks.check_sandbox(options["sandbox"], options["image"]), checks.check_data(options["data_dir"])]
    if all(f.ok for f in findings):
        try:
            grader = make_grader_or_raise(**options)
        except (SetupError, rubric.RubricError) as exc:
            findings.append(checks.Finding("reference grading", False, f"the grader could not start: {exc}",
                                           fix="fix the rubric, --device or the sandbox named above"))
        else:
            with contextlib.closing(grader):
                findings.append(checks.check_reference(grader, solution or checks.default_reference()))
    else:
        findings.append(checks.Finding("reference grading", False, "not run: the checks above failed",
                                       fix="fix those first"))
    for f in findings:
        click.echo(f"{'ok  ' if f.ok else 'FAIL'} {f.name}: {inert.terminal(f.detail)}")
        if f.fix:
            click.echo(f"     fix: {f.fix}")
    sys.exit(EXIT_PASS if all(f.ok for f in findings) else EXIT_FAIL)


@cli.command(name="report")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@html_option
@click.option("--index", "index_path", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write the class page here, and each student's page beside it (STUDENT.html).")
@click.option("--title", default="Class report", show_default=True, help="Heading of the class page.")
def report_(inputs, html_path, index_path, title):
    """Show stored JSON reports again: as the verdict, as a student's page, or as a class page.

    INPUTS are report files (from --out or --json), or folders of them (*.json). Nothing is graded again:
    every picture is drawn from the reports alone.

    \b
    Examples:
      grader report report.json                          # the terminal verdict
      grader report report.json --html report.html       # one student's page
      grader report reports/ --index class/index.html    # the class page, plus class/STUDENT.html for each
    """
    from grader import html, pages, render

    try:
        found = pages.load_reports(inputs)
    except pages.ReportError as exc:
        raise ReportInputError(str(exc)) from exc
    if html_path and index_path:
        raise click.UsageError("--html renders one report and --index a class: choose one")
    if index_path:
        written = pages.write_class(found, index_path, title=title)
        click.echo(f"wrote {index_path} and {written} student page(s) beside it")
        return
    if len(found) != 1:
        raise click.UsageError(f"{len(found)} reports given: --html and the verdict take one (use --index for a class)")
    (_, rep), = found
    if html_path:
        html_path.write_text(html.student_page(rep), encoding="utf-8")
        click.echo(f"wrote {html_path}")
    else:
        click.echo(render.verdict(rep, color=None if sys.stdout.isatty() else False))


@cli.command()
def schema():
    """Print the JSON Schema of the report (what --json emits)."""
    click.echo(json.dumps(report.json_schema(), indent=2))


@cli.group(name="data")
def data_group():
    """Find, verify, import or download MNIST."""


data_dir_option = click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
                               help="Folder to use [default: $GRADER_DATA_DIR, else the user cache].")


@data_group.command()
@data_dir_option
@click.option("--verify", is_flag=True, help="Also check each file's sha256 against the published MNIST.")
def status(data_dir, verify):
    """Say where MNIST is looked for and whether all four files are there and sound."""
    folder = data.resolve_dir(data_dir)
    st = data.status(folder, hashes=verify)
    click.echo(f"data folder: {folder}")
    for role, path in st.files.items():
        click.echo(f"  {data.FILES[role]:<26} {path if path else 'missing'}")
    if st.ok:
        click.echo("ok: MNIST is ready" + (" (sha256 verified)" if st.verified_hashes else ""))
        return
    for problem in st.problems:
        click.echo(f"  problem: {problem}")
    click.echo("To fix it, " + data.fix_command(folder), err=True)
    sys.exit(EXIT_USAGE)


@data_group.command(name="import")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@data_dir_option
def import_(source, data_dir):
    """Copy the four MNIST IDX files (raw or .gz) from SOURCE into the data folder, verifying them."""
    folder = data.resolve_dir(data_dir)
    try:
        data.import_from(source, folder)
    except data.DataMissing as exc:
        _log(f"error: {exc}")
        sys.exit(EXIT_USAGE)
    click.echo(f"imported MNIST from {source} into {folder} (sha256 verified)")


@data_group.command()
@data_dir_option
def download(data_dir):
    """Download MNIST with torchvision (needs internet) into the data folder."""
    folder = data.resolve_dir(data_dir)
    try:
        data.download(folder)
    except data.DataMissing as exc:
        _log(f"error: {exc}")
        sys.exit(EXIT_USAGE)
    click.echo(f"downloaded MNIST into {folder}")


@cli.group()
def image():
    """Build the Docker image the docker sandbox runs (nothing is ever pulled while grading)."""


@image.command()
@click.option("--target", type=click.Choice(["sandbox", "serve"]), default="sandbox", show_default=True,
              help="The Dockerfile's stage: the sandbox image, or `grader serve` in a container (README).")
@click.option("--tag", help="Name of the image to build [default: grader:latest; grader-serve:latest for serve].")
@click.option("--base-image", help="Base image with Python 3.11+ [default: the Dockerfile's, python:3.11-slim]. "
                                   "Machines without a registry pass a local one, e.g. grader-base:local.")
@data_dir_option
def build(target, tag, base_image, data_dir):
    """Build the grader image from the project's Dockerfile: torch, torchvision, the grader and MNIST's
    training set (never the test set). `--target serve`: the service's image, built on it."""
    from grader.sandbox import docker as docker_sandbox

    folder = data.resolve_dir(data_dir)
    try:
        files = data.require(folder, roles=data.TRAIN)
        tag = tag or ("grader:latest" if target == "sandbox" else "grader-serve:latest")
        image_id = docker_sandbox.build_image(tag, base_image, files, log=_log, target=target)
    except (data.DataMissing, FileNotFoundError, RuntimeError) as exc:
        _log(f"error: {exc}")
        sys.exit(EXIT_USAGE)
    except Exception as exc:  # docker.errors.* : no engine, build failures
        _log(f"error: could not build the image: {exc}")
        sys.exit(EXIT_USAGE)
    click.echo(f"built {tag} ({image_id})")


@cli.group(name="sandbox")
def sandbox_group():
    """See which sandboxes can run here; remove what a killed grader left behind."""


@sandbox_group.command(name="status")
@click.option("--image", default="grader:latest", show_default=True)
def sandbox_status(image):
    """Say which backend --sandbox auto picks, and why the others are unavailable."""
    settings = sandbox.Settings(image=image)
    for kind in ("docker", "process"):
        try:
            sandbox.select(kind, settings)
            click.echo(f"{kind:<8} available")
        except sandbox.SandboxUnavailable as exc:
            click.echo(f"{kind:<8} unavailable: {str(exc).split(': ', 1)[-1]}")
    try:
        click.echo(f"auto     -> {sandbox.select('auto', settings).name}")
    except sandbox.SandboxUnavailable:
        click.echo("auto     -> none available (pass --sandbox none to grade your own code unisolated)")
        sys.exit(EXIT_USAGE)


@cli.group(name="cluster")
def cluster_group():
    """The Ray cluster `grader grade --executor ray` grades on (needs pip install 'grader[ray]')."""


@cluster_group.command(name="status")
@address_option
@click.option("--sandbox", type=click.Choice(["auto", "docker", "process"]), default="auto", show_default=True,
              help="The backend each node is asked for.")
@click.option("--image", default="grader:latest", show_default=True)
def cluster_status(address, sandbox, image):
    """List the cluster's nodes: CPUs, GPUs, the sandbox backend each grades in, and whether MNIST is there.

    Exit status 2 when no node can grade (no sandbox backend anywhere)."""
    from grader.batch import ray_executor, ray_node

    try:
        nodes = ray_executor.cluster_status(address, sandbox, image)
    except ray_executor.RayUnavailable as exc:
        raise GraderError(str(exc)) from None
    for n in nodes:
        backend = n["backend"] or f"NONE ({n['no_backend']})"
        mnist = n["mnist"] or "not here (the driver ships it)"
        code = "this machine's" if n["code"] == ray_node.LOADED_CODE else f"DIFFERENT ({n['code']}): it grades nothing"
        _log(f"{n['node']}: {n['cpus']:g} CPUs, {n['gpus']:g} GPUs{' (device found)' if n['gpu'] else ''}, "
             f"sandbox {backend}, MNIST {mnist}, grader code {code}")
    click.echo(f"{len(nodes)} node(s), {sum(n['backend'] is not None for n in nodes)} with a sandbox backend")
    if not any(n["backend"] for n in nodes):
        sys.exit(EXIT_USAGE)


@sandbox_group.command(name="clean")
def sandbox_clean():
    """Remove leftover sandbox containers (by label), cgroups and temporary folders of graders that were killed.

    \b
    Example:
      grader sandbox clean     # after a batch was killed with SIGKILL; a batch still running is spared
    """
    click.echo(f"removed {sandbox.clean_leftovers(log=_log)} leftover(s): sandboxes, cgroups, temporary folders")


from grader.serve.cli import serve  # noqa: E402  (the group imports its web framework only when it runs)

cli.add_command(serve)


def main() -> None:
    scratch.claim()  # what a grader killed outright leaves behind, `grader sandbox clean` can find
    try:
        cli(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:  # anything unexpected is ours, not the user's
        _log(f"internal error: {type(exc).__name__}: {exc}")
        sys.exit(EXIT_INTERNAL)
