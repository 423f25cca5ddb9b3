"""Each command through click's CliRunner: output, files written and exit status."""

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from grader import cli, sandbox
from grader.report import Report

from classroom import sample_report

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "submissions"


@pytest.fixture
def run(real_data, monkeypatch):
    monkeypatch.setenv("GRADER_DATA_DIR", str(real_data))

    def invoke(*args):
        return CliRunner().invoke(cli.cli, [str(a) for a in args], catch_exceptions=False)

    return invoke


def schema() -> dict:
    result = CliRunner().invoke(cli.cli, ["schema"])
    assert result.exit_code == 0
    return json.loads(result.output)


def test_help_documents_exit_codes_and_options(run):
    out = run("--help").output
    assert "check" in out and "schema" in out and "data" in out
    out = run("check", "--help").output
    for option in ("--json", "--out", "--rubric", "--device", "--data-dir", "--seed", "--timeout", "--sandbox"):
        assert option in out
    assert "Exit status" in cli.__doc__


def test_check_reference_json_validates_against_schema(run, tmp_path):
    out_file = tmp_path / "report.json"
    page = tmp_path / "report.html"
    result = run("check", ROOT / "reference" / "solution.py", "--json", "--out", out_file, "--sandbox", "none",
                 "--html", page)
    assert result.exit_code == 0, result.output
    assert '<svg class="chart loss-curve"' in page.read_text()  # the same grading, drawn
    report = json.loads(result.stdout)  # stdout holds the report and nothing else
    jsonschema.validate(report, schema())
    assert report["score"] == report["max_score"] == 100 and report["status"] == "graded"
    assert Report.model_validate_json(out_file.read_text()).score == 100


def test_check_failing_submission_exits_1_with_hints(run):
    result = run("check", SUBMISSIONS / "syntax_error.py", "--sandbox", "none")
    assert result.exit_code == 1
    assert "✗ Runs to completion" in result.output and "SyntaxError at line 4" in result.output
    assert "hint:" in result.output


def test_check_invalid_submission_exits_2_with_a_report(run):
    result = run("check", SUBMISSIONS / "empty.py", "--json", "--sandbox", "none")
    assert result.exit_code == 2
    report = json.loads(result.output)
    jsonschema.validate(report, schema())
    assert report["status"] == "invalid_submission" and "empty" in report["message"]


@pytest.mark.parametrize("args, fragment", [
    (["check", "no/such/file.py", "--sandbox", "none"], "cannot read no/such/file.py"),  # reported, not refused
    (["check", SUBMISSIONS / "empty.py", "--sandbox", "nope"], "nope"),
    (["check", SUBMISSIONS / "empty.py", "--timeout", "0"], "0"),
])
def test_usage_errors_exit_2(run, args, fragment):
    result = run(*args)
    assert result.exit_code == 2 and fragment in result.output


def test_bad_rubric_exits_2(run, tmp_path):
    rubric = tmp_path / "r.toml"
    rubric.write_text("epochs = -1\n")
    result = CliRunner().invoke(cli.cli, ["check", str(SUBMISSIONS / "empty.py"), "--rubric",
                                                          str(rubric), "--sandbox", "none"])
    assert result.exit_code == 2 and "invalid rubric" in result.stderr


@pytest.mark.skipif(sandbox.cuda_present(), reason="this machine has a GPU")
def test_cuda_without_gpu_exits_2(run):
    result = CliRunner().invoke(cli.cli, ["check", str(SUBMISSIONS / "empty.py"), "--device", "cuda",
                                                          "--sandbox", "none"])
    assert result.exit_code == 2 and "no NVIDIA GPU" in result.stderr


def test_missing_data_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_DATA_DIR", str(tmp_path / "nothing"))
    result = CliRunner().invoke(cli.cli, ["check", str(SUBMISSIONS / "empty.py"), "--sandbox", "none"])
    assert result.exit_code == 2 and "grader data import DIR" in result.stderr


def test_data_status_import(run, real_data, tmp_path):
    assert run("data", "status").exit_code == 0
    result = run("data", "status", "--data-dir", tmp_path / "empty")
    assert result.exit_code == 2 and "missing" in result.output
    dest = tmp_path / "cache"
    result = run("data", "import", real_data, "--data-dir", dest)
    assert result.exit_code == 0 and "sha256 verified" in result.output
    result = run("data", "status", "--data-dir", dest, "--verify")
    assert result.exit_code == 0 and "sha256 verified" in result.output


def test_report_shows_stored_reports_again(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    for name in ("alice", "bob"):
        (folder / f"{name}.json").write_text(sample_report(name).model_dump_json())
    runner = CliRunner()
    result = runner.invoke(cli.cli, ["report", str(folder / "alice.json")])
    assert result.exit_code == 0 and "Loss per epoch" in result.output and "alice" in result.output
    result = runner.invoke(cli.cli, ["report", str(folder / "alice.json"), "--html", str(tmp_path / "a.html")])
    assert result.exit_code == 0 and "loss-curve" in (tmp_path / "a.html").read_text()
    result = runner.invoke(cli.cli, ["report", str(folder), "--index", str(tmp_path / "class" / "index.html")])
    assert result.exit_code == 0, result.output
    index = (tmp_path / "class" / "index.html").read_text()
    assert 'href="alice.html"' in index and (tmp_path / "class" / "bob.html").is_file()


@pytest.mark.parametrize("args, fragment", [
    (["{dir}"], "take one"),  # two reports, no --index
    (["{bad}"], "is not a grader report"),
    (["{empty}", "--index", "{dir}/i.html"], "no report"),
    (["{one}", "--html", "{dir}/a.html", "--index", "{dir}/i.html"], "choose one"),
])
def test_report_input_errors_exit_2(tmp_path, args, fragment):
    folder, empty = tmp_path / "reports", tmp_path / "empty"
    folder.mkdir(), empty.mkdir()
    for name in ("alice", "bob"):
        (folder / f"{name}.json").write_text(sample_report(name).model_dump_json())
    (tmp_path / "bad.json").write_text('{"score": "high"}')
    paths = {"dir": folder, "bad": tmp_path / "bad.json", "empty": empty, "one": folder / "alice.json"}
    result = CliRunner().invoke(cli.cli, ["report", *(a.format(**paths) for a in args)])
    assert result.exit_code == 2 and fragment in result.output, result.output


@pytest.mark.parametrize("given, jobs", [("auto", None), ("3", 3), (2, 2)])
def test_jobs_takes_a_number_or_auto(given, jobs):
    assert cli.Jobs().convert(given, None, None) == jobs  # None: the batch sizes itself from cores and memory


def test_jobs_refuses_zero_and_words(run):
    for bad in ("0", "many"):
        result = run("grade", str(SUBMISSIONS / "empty.py"), "--out", "x", "--jobs", bad)
        assert result.exit_code == 2 and "nor 'auto'" in result.output
