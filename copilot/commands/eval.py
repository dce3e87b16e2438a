"""`copilot eval`: score detection, retrieval, runtime prediction and reports; gate CI on the scores."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("eval")
    def eval_command(
        suite: list[str] = typer.Option(
            ["all"], "--suite", "-s", help="detection | retrieval | runtime | report | all (repeatable)."
        ),
        llm: bool = typer.Option(False, "--llm", help="Write the reports with the configured LLM and let it judge each one (rubric score)."),
        cases: Path | None = typer.Option(None, "--cases", help="Directory of case files (default: evals/cases)."),
        questions: Path | None = typer.Option(
            None, "--questions", help="Retrieval question file or directory (default: evals/retrieval)."
        ),
        json_output: bool = typer.Option(False, "--json", help="Print the scorecard as JSON."),
        compare: bool = typer.Option(False, "--compare", help="Show the change since the last stored run."),
        gate: bool = typer.Option(False, "--gate", help="Exit 1 when a score crosses a bound in evals/thresholds.toml."),
        thresholds: Path | None = typer.Option(None, "--thresholds", help="Thresholds file for --gate."),
        out: Path | None = typer.Option(None, "--out", help="Directory for the JSON + Markdown scorecard."),
    ) -> None:
        """Score the copilot on labeled cases and question sets; write a scorecard (JSON + Markdown)."""
        import sys

        from rich.console import Console

        from copilot.settings import get_settings
        from evals.harness import EvalOptions, run_eval
        from evals.harness.terminal import print_scorecard

        options = EvalOptions(suites=suite, llm=llm, compare=compare, gate=gate, out_dir=out, progress=sys.stderr.isatty())
        if cases is not None:
            options.cases_dir = cases
        if questions is not None:
            options.questions_path = questions
        if thresholds is not None:
            options.thresholds_path = thresholds
        scorecard = run_eval(options, get_settings())
        if json_output:
            typer.echo(scorecard.model_dump_json(indent=2))
        else:
            print_scorecard(scorecard, Console())
        if scorecard.gate is not None and not scorecard.gate.passed:
            raise typer.Exit(1)
