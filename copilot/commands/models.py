"""`copilot models`: build the runtime model's feature table from event logs, and train it."""

from __future__ import annotations

from pathlib import Path

import typer

models_app = typer.Typer(help="Runtime model: build the feature table from your own logs and retrain.",
                         no_args_is_help=True)


@models_app.command("dataset")
def dataset_command(
    log_dirs: list[Path] = typer.Argument(..., help="Folder(s) of event logs (one application per entry)."),
    out: Path = typer.Option(..., "--out", "-o", help="Feature table to write (.parquet, or .csv)."),
    json_output: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Parse every event log in LOG_DIRS into one feature row per run."""
    from models.dataset import dataset_from_logs

    result = dataset_from_logs(log_dirs, out)
    summary = {
        "out": result.out_path,
        "rows": len(result.rows),
        "workloads": len({r.workload for r in result.rows}),
        "skipped": result.skipped,
        "table_sha256": result.table_sha256,
    }
    if json_output:
        import json

        typer.echo(json.dumps(summary, indent=2))
        return
    typer.echo(f"wrote {summary['rows']} runs of {summary['workloads']} workloads to {out}")
    for name, reason in result.skipped.items():
        typer.echo(f"skipped {name}: {reason}")


@models_app.command("train")
def train_command(
    features: Path = typer.Argument(..., help="Feature table from `copilot models dataset`."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory for the model text files and card JSON."),
    seed: int = typer.Option(42, "--seed", help="Random seed (same table + seed = identical model)."),
    evaluate: bool = typer.Option(True, "--evaluate/--no-evaluate", help="Measure held-out accuracy for the card."),
    json_output: bool = typer.Option(False, "--json", help="Print the card as JSON."),
) -> None:
    """Train the runtime ratio model (point + 10%/90% quantiles) and write its card."""
    from models.train import TrainingParams, train_from_table

    card = train_from_table(features, out, TrainingParams(seed=seed), evaluate=evaluate)
    if json_output:
        import json

        typer.echo(json.dumps(card, indent=2))
        return
    typer.echo(f"trained on {card['training_rows']} runs ({card['training_pairs']} pairs); model in {out}")
    for split in card["metrics"].get("splits", []):
        typer.echo(
            f"{split['split']}: median APE model {split['model']['median_ape_pct']:.1f}% | "
            f"simulator {split['simulator']['median_ape_pct']:.1f}% | naive {split['naive']['median_ape_pct']:.1f}%; "
            f"80% interval coverage {split['interval_coverage']:.0%}"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
