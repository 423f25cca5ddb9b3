"""The `grader` command: thin click commands over the library.

Exit status: 0 every check passed · 1 some check failed · 2 usage or input error · 3 internal error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from grader import __version__, data, report, rubric
from grader.report import Status

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _log(message: str) -> None:
    click.echo(message, err=True)


def exit_code(rep: report.Report) -> int:
    if rep.status == Status.internal_error:
        return EXIT_INTERNAL
    if rep.status == Status.invalid_submission:
        return EXIT_USAGE
    return EXIT_PASS if rep.all_passed else EXIT_FAIL


class ReportInputError(click.ClickException):
    """A report file that cannot be read; exit status 2, and the message names the file."""

    exit_code = EXIT_USAGE


html_option = click.option("--html", "html_path", type=click.Path(dir_okay=False, writable=True, path_type=Path),
                           help="Also write the report as a self-contained HTML page (works offline).")


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


def make_grader(rubric_path, device, data_dir, seed, timeout, sandbox, image, jobs: int = 1):
    from grader.grade import Grader, Options, SetupError

    try:
        options = Options(rubric=rubric.load(rubric_path), device=device, data_dir=data_dir, seed=seed,
                          timeout=timeout, sandbox=sandbox, image=image, jobs=jobs)
        return Grader(options, log=_log)
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
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Write the JSON report to stdout (and nothing else).")
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write the JSON report to this file.")
@html_option
@grading_options
def check(file, as_json, out, html_path, **options):
    """Grade one submission (.py or .ipynb) and print the verdict.

    \b
    Examples:
      grader check my_solution.py
      grader check homework.ipynb --json > report.json
      grader check my_solution.py --html report.html      # the verdict, the loss curve, the digits
      GRADER_DATA_DIR=/data/mnist grader check my_solution.py --sandbox process
    """
    from grader import render

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
    else:
        click.echo(render.verdict(rep, color=None if sys.stdout.isatty() else False))
    sys.exit(exit_code(rep))


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
@click.option("--tag", default="grader:latest", show_default=True, help="Name of the image to build.")
@click.option("--base-image", help="Base image with Python 3.11+ [default: the Dockerfile's, python:3.11-slim]. "
                                   "Machines without a registry pass a local one, e.g. grader-base:local.")
@data_dir_option
def build(tag, base_image, data_dir):
    """Build the grader image from the project's Dockerfile: torch, torchvision, the grader and MNIST's
    training set (never the test set)."""
    from grader.sandbox import docker as docker_sandbox

    folder = data.resolve_dir(data_dir)
    try:
        files = data.require(folder, roles=data.TRAIN)
        image_id = docker_sandbox.build_image(tag, base_image, files, log=_log)
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
    from grader import sandbox

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


@sandbox_group.command(name="clean")
def sandbox_clean():
    """Remove leftover sandbox containers (by label) and cgroups of jobs that were killed."""
    from grader.sandbox import docker as docker_sandbox
    from grader.sandbox import process

    removed = process.clean()
    try:
        removed += docker_sandbox.clean()
    except Exception as exc:  # no engine: nothing to clean there
        _log(f"docker: skipped ({type(exc).__name__})")
    click.echo(f"removed {removed} leftover sandbox(es)")


def main() -> None:
    try:
        cli(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:  # anything unexpected is ours, not the user's
        _log(f"internal error: {type(exc).__name__}: {exc}")
        sys.exit(EXIT_INTERNAL)
