"""The command line: headless traces, JSON, errors and start-up without Textual."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import SCENARIOS
from tui.cli import EXIT_DIVERGED, EXIT_USAGE, main


def run_cli(*arguments: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *arguments],
        capture_output=True, text=True, cwd=cwd, timeout=120,
    )


def test_json_document_of_example3(capsys):
    assert main([str(SCENARIOS / "example3.toml"), "--iterations", "1", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["scenario"] == "Example 3: two layers, one sample"
    first = document["iterations"][0]
    assert first["iteration"] == 0
    assert first["loss"] == 130.0
    assert first["layers"] == [{"values": [[22.0, 3.0, 7.0]]}, {"values": [[12.0, 7.0]]}]
    assert first["parameters"]["w1"] == {"value": 4.0, "gradient": 96.0}
    assert first["parameters"]["b1"] == {"value": 4.0, "gradient": 32.0}
    assert first["parameters"]["w7"] == {"value": 2.0, "gradient": 484.0}
    assert document["final"]["loss"] == pytest.approx(69.345049, abs=1e-6)
    assert document["final"]["parameters"]["w1"] == pytest.approx(3.9904)
    assert document["final"]["parameters"]["b1"] == pytest.approx(3.9968)
    assert list(document["final"]["parameters"]) == [f"w{i}" for i in range(1, 13)] + [f"b{i}" for i in range(1, 6)]


def test_record_every_keeps_first_and_last(capsys):
    assert main(["example2", "--iterations", "10", "--json", "--record-every", "4"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [record["iteration"] for record in document["iterations"]] == [0, 4, 8, 9]
    assert document["iterations_run"] == 10


def test_batch_json_has_every_sample(capsys):
    assert main(["example2", "--iterations", "1", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)["iterations"][0]
    assert record["samples"] == [0, 1, 2]
    assert record["layers"][0]["values"] == [[2.5], [4.5], [3.5]]
    assert record["loss"] == pytest.approx(0.9166667, abs=1e-7)
    assert record["parameters"]["w1"]["gradient"] == pytest.approx(-2)


def test_text_trace(capsys):
    assert main(["example1", "--iterations", "2"]) == 0
    trace = capsys.readouterr().out
    assert "iteration 0: loss 0.01" in trace
    assert "ŷ = 1.6" in trace
    assert "dL/dw3 = 0.4" in trace
    assert "iteration 1: loss 0.007396" in trace


def test_divergence_exits_nonzero(tmp_path, capsys):
    source = (SCENARIOS / "example3.toml").read_text().replace("learning_rate = 0.0001", "learning_rate = 1.0")
    path = tmp_path / "too-fast.toml"
    path.write_text(source)
    assert main([str(path), "--iterations", "1000", "--json"]) == EXIT_DIVERGED
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    diverged_at = document["diverged_at"]
    assert isinstance(diverged_at, int)
    assert document["iterations"][-1]["loss"] in ("inf", "nan")
    assert f"iteration {diverged_at}" in captured.err
    assert str(path) in captured.err
    assert "Traceback" not in captured.err


def test_scenario_error_is_one_line(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("learning_rte = 0.1\n")
    assert main([str(path), "--iterations", "1"]) == EXIT_USAGE
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0
    assert str(path) in error
    assert "learning_rte" in error
    assert "learning_rate" in error


def test_unknown_scenario_name(capsys):
    assert main(["example9", "--iterations", "1"]) == EXIT_USAGE
    error = capsys.readouterr().err
    assert "example9" in error
    assert "example3" in error


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["example1", "--iterations", "0"], "from 1"),
        (["example1", "--iterations", "ten"], "whole number"),
        (["example1", "--json"], "--json needs --iterations"),
        (["example1", "--record-every", "5"], "--record-every needs --iterations"),
        (["--iterations", "3"], "needs a SCENARIO"),
    ],
)
def test_bad_arguments(arguments, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_version_and_help():
    version = run_cli("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("backprop-tui ")
    help_text = run_cli("--help")
    assert help_text.returncode == 0
    assert "--iterations" in help_text.stdout
    assert "example3" in help_text.stdout


def test_bundled_name_works_from_any_folder(tmp_path):
    completed = run_cli("example3", "--iterations", "1", "--json", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["iterations"][0]["loss"] == 130.0


def test_headless_run_never_imports_textual():
    probe = (
        "import sys; from tui.cli import main; "
        "code = main(['example3', '--iterations', '2', '--json']); "
        "assert 'textual' not in sys.modules, 'textual was imported'; sys.exit(code)"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr


def test_core_never_imports_textual():
    probe = (
        "import importlib, pkgutil, sys, core\n"
        "for module in pkgutil.iter_modules(core.__path__):\n"
        "    importlib.import_module('core.' + module.name)\n"
        "assert 'textual' not in sys.modules, 'core imported textual'\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr


def test_explain_names_the_iteration(capsys):
    assert main(["example3", "--explain", "w7"]) == 0
    output = capsys.readouterr().out
    assert "iteration 0" in output.splitlines()[0]
    assert "dL/dw7 = dL/dŷ1 · u1 = 22 · 22 = 484" in output
    assert "w7 ← w7 - η · dL/dw7 = 2 - 0.0001 · 484 = 1.9516" in output


def test_explain_after_divergence_exits_nonzero(tmp_path, capsys):
    path = tmp_path / "too-fast.toml"
    path.write_text((SCENARIOS / "example3.toml").read_text().replace("learning_rate = 0.0001", "learning_rate = 1.0"))
    assert main([str(path), "--iterations", "500", "--explain", "w1"]) == EXIT_DIVERGED
    assert "became inf or NaN" in capsys.readouterr().err


def test_explain_rejects_json(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["example3", "--explain", "w7", "--json"])
    assert exit_info.value.code == EXIT_USAGE
    assert "--json does not apply to --explain" in capsys.readouterr().err


@pytest.mark.parametrize("count", ["5_0", "٥", "+5", "-1"])
def test_iterations_take_plain_digits(count, capsys):
    with pytest.raises(SystemExit):
        main(["example1", "--iterations", count])
    assert "whole number" in capsys.readouterr().err


def test_bundled_file_name_gets_a_hint(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["example3.toml", "--iterations", "1"]) == EXIT_USAGE
    error = capsys.readouterr().err
    assert "file not found" in error
    assert "write example3" in error


def test_full_disk_is_one_line_error(tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "w") as full:
        completed = subprocess.run(
            [sys.executable, "-m", "tui.cli", "example3", "--iterations", "3"],
            stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
        )
    assert completed.returncode == 1
    assert "No space left on device" in completed.stderr
    assert "Traceback" not in completed.stderr
