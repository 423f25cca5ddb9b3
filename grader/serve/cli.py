"""`grader serve DIR` and `grader serve roster ROSTER.csv --course DIR`.

The web framework (starlette, uvicorn, python-multipart: the `serve` extra) is imported only when the
service starts, so `grader check` and `grader grade` never need it.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from grader import inert
from grader.cli import GraderError, Jobs, _ray_pool, address_option, grading_options, make_grader, worker_settings

EXTRA_HINT = "pip install 'grader[serve]' (starlette, uvicorn, python-multipart)"


class ServeGroup(click.Group):
    """`grader serve DIR` serves; `grader serve roster ...` issues tokens. A first argument that names no
    subcommand is the course folder (a folder called `roster`: `grader serve ./roster`)."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["start", *args]
        return super().parse_args(ctx, args)


@click.group(cls=ServeGroup)
def serve():
    """The grader as a web service: students upload and read their report; instructors watch the class.

    \b
    Examples:
      grader serve roster roster.csv --course hw1/ --url https://grader.example.edu
      grader serve hw1/ --port 8000 --sandbox process
    """


@serve.command()
@click.argument("roster_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--course", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The course folder: its store (grader.db) keeps the tokens' hashes.")
@click.option("--url", "base_url", default="http://127.0.0.1:8000", show_default=True,
              help="Where students reach the service: the sign-in links in tokens.csv start with it.")
def roster(roster_csv, course, base_url):
    """Issue a token per person on ROSTER.csv -> DIR/tokens.csv (student,role,token,url), shown once.

    ROSTER.csv: a `student` column, optional `name`, `email`, `role` (student or instructor). Issuing
    again replaces those people's earlier tokens.
    """
    from grader.serve.roster import RosterError, issue

    try:
        out = issue(roster_csv, course, base_url)
    except RosterError as exc:
        raise GraderError(inert.terminal(exc)) from None
    click.echo(f"tokens -> {out} (the only copy: hand each one out, then keep or delete the file)")


@serve.command(name="start", hidden=True)
@click.argument("course", type=click.Path(file_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--executor", "executor_kind", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Where grading runs: worker processes on this machine, or the slots of a Ray cluster (needs "
                   "pip install 'grader[ray]'); this machine keeps the store either way.")
@address_option
@click.option("--jobs", "-j", type=Jobs(), default="auto", show_default=True,
              help="Submissions graded at once (with --executor ray, auto: as many as the cluster holds).")
@click.option("--max-upload-kb", default=2048, show_default=True, type=click.IntRange(1))
@click.option("--per-hour", default=30, show_default=True, type=click.IntRange(1),
              help="Submissions a student may make per hour (429 beyond).")
@click.option("--max-queue", default=200, show_default=True, type=click.IntRange(1),
              help="Distinct files waiting to be graded before uploads are refused (429).")
@click.option("--session-days", default=14.0, show_default=True, type=click.FloatRange(0, min_open=True),
              help="How long a browser stays signed in after opening a sign-in link.")
@grading_options
def start(course, host, port, executor_kind, address, jobs, max_upload_kb, per_hour, max_queue, session_days,
          **options):
    """Serve COURSE (its grader.db): GET /healthz answers 200 once the graders can run."""
    try:
        import uvicorn

        from grader.serve import app
    except ImportError as exc:
        raise GraderError(f"`grader serve` needs the web framework ({exc.name} is missing)", fix=EXTRA_HINT) from None
    from grader.batch import executor, run
    from grader.serve.worker import Dispatcher

    course = course.resolve()  # Ray is joined from a folder of its own (ray_executor.connected)
    if not (course / "grader.db").exists():
        raise GraderError(f"{course} has no grader.db", fix=f"grader serve roster ROSTER.csv --course {course}")
    if options["rubric_path"] is None and (course / "rubric.toml").is_file():
        options["rubric_path"] = course / "rubric.toml"
    if executor_kind == "ray":  # each node proves its own sandbox and data: nothing to check here
        _, digest, pool = _ray_pool(options, address, jobs, gpus_per_job=1.0)
        dispatcher = Dispatcher(course / "grader.db", digest, lambda: pool)
    else:
        grader = make_grader(**options)  # the data, the sandbox and the rubric are checked before we listen
        jobs = jobs or run.default_jobs(grader.limits.memory_mb)
        settings = worker_settings(grader, options, jobs)
        digest = grader.rubric_digest
        grader.close()
        dispatcher = Dispatcher(course / "grader.db", digest, lambda: executor.LocalPool(settings, jobs))
    limits = app.Limits(upload_bytes=max_upload_kb * 1024, per_hour=per_hour, queue=max_queue,
                        session_days=session_days)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    uvicorn.run(app.build(course, digest, dispatcher, limits, jobs or 1), host=host, port=port, access_log=False,
                proxy_headers=True, log_level="info")
