"""The backprop-tui command: the app, or a headless run with --iterations, --json or --explain.

Textual is imported only when the app starts, so headless runs start fast.
"""

from __future__ import annotations

import argparse
import sys

import core
from core.bundled import bundled_scenarios, resolve_scenario
from core.errors import ScenarioError
from core.loader import load_scenario
from core.scenario import Scenario

PROGRAM = "backprop-tui"
MAX_ITERATIONS = 100_000_000

EXIT_USAGE = 2  # bad arguments or an unusable scenario
EXIT_DIVERGED = 3  # the loss became inf or NaN
EXIT_OUTPUT = 1  # the results could not be written, for example to a full disk


def _positive_integer(text: str) -> int:
    # int() also takes "5_0" and non-ASCII digits; a count on the command line is plain digits.
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}")
    value = int(text)
    if not 1 <= value <= MAX_ITERATIONS:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_ITERATIONS:,}, found {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    bundled = ", ".join(path.stem for path in bundled_scenarios())
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Step through backpropagation one layer at a time.",
        epilog=(
            f"Bundled scenarios: {bundled}. With no SCENARIO the app opens a picker. "
            "Keys inside the app: space/n next step, b back, f/g/u end of forward/backward/"
            "iteration, t train, r reset, ? help, q quit."
        ),
    )
    parser.add_argument(
        "scenario", nargs="?", metavar="SCENARIO",
        help="a scenario file (path/to/file.toml) or a bundled scenario's name (example3)",
    )
    parser.add_argument(
        "--iterations", type=_positive_integer, metavar="N",
        help="run N whole iterations (1 or more) without the app and print a trace",
    )
    parser.add_argument(
        "--json", action="store_true",
        help="with --iterations: print a JSON document instead of the trace",
    )
    parser.add_argument(
        "--record-every", type=_positive_integer, default=1, metavar="K",
        help="with --iterations: keep every K-th iteration in the output, and always the first and last (default 1)",
    )
    parser.add_argument(
        "--explain", metavar="NAME",
        help="print how NAME (w7, b4, u1, ŷ1 or yhat1, dL/du1, loss) is computed in the first "
        "iteration, or in the last of --iterations N, with every step of it done, and exit",
    )
    parser.add_argument("--version", action="version", version=f"{PROGRAM} {core.__version__}")
    return parser


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"{PROGRAM}: error: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    headless = arguments.iterations is not None or arguments.explain is not None
    if arguments.json and arguments.explain is not None:
        parser.error("--json does not apply to --explain, which prints text")
    if arguments.json and arguments.iterations is None:
        parser.error("--json needs --iterations N")
    if arguments.record_every != 1 and arguments.iterations is None:
        parser.error("--record-every needs --iterations N")
    if headless and arguments.scenario is None:
        parser.error("a headless run needs a SCENARIO")

    scenario = None
    if arguments.scenario is not None:
        try:
            scenario = load_scenario(resolve_scenario(arguments.scenario))
        except ScenarioError as error:
            return _fail(str(error))

    if headless and sys.stdout is None:
        return _fail("standard output is closed, so there is nowhere to print the results")
    try:
        if arguments.explain is not None:
            return _explain(scenario, arguments.explain, arguments.iterations or 1)
        if arguments.iterations is not None:
            return _run_headless(scenario, arguments.iterations, arguments.record_every, arguments.json)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader of our output went away (`| head`); exit quietly.
        sys.stderr.close()
        return 0
    except OSError as error:
        return _fail(f"cannot write the results: {error.strerror}", EXIT_OUTPUT)
    return _run_app(scenario)


def _run_headless(scenario: Scenario, iterations: int, record_every: int, as_json: bool) -> int:
    from core.report import report_json, report_text, train

    report = train(scenario, iterations, record_every)
    print(report_json(report) if as_json else report_text(report))
    sys.stdout.flush()
    if report.diverged_at is not None:
        return _fail_diverged(scenario, report.diverged_at)
    return 0


def _fail_diverged(scenario: Scenario, iteration: int) -> int:
    source = scenario.source or scenario.title
    return _fail(
        f"{source}: the loss became inf or NaN at iteration {iteration}; "
        f"try a learning rate below {scenario.learning_rate:g}",
        EXIT_DIVERGED,
    )


def _explain(scenario: Scenario, name: str, iterations: int) -> int:
    from core.engine import Session
    from core.explain import UnknownQuantityError, explain, format_explanation

    # `iterations` counts iterations run, as without --explain; the last one is explained.
    session = Session(scenario)
    session.run(iterations - 1, stop_on_divergence=True)
    if session.diverged_at is None:
        session.to_end_of_iteration()
    try:
        explanation = explain(session, name)
    except UnknownQuantityError as error:
        return _fail(f"--explain: {error}")
    snapshot = session.current
    print(f"{scenario.title}: iteration {snapshot.iteration}, with every step of it computed")
    print(format_explanation(explanation))
    sys.stdout.flush()
    if session.diverged_at is not None:
        return _fail_diverged(scenario, session.diverged_at)
    return 0


def _run_app(scenario: Scenario | None) -> int:
    from tui.app import BackpropApp

    app = BackpropApp(scenario)
    app.run()
    return app.return_code or 0


def run() -> None:
    """Entry point of the console script."""
    sys.exit(main())


if __name__ == "__main__":
    run()
