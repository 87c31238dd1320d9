"""Command-line entry point. Only parses arguments and dispatches to swiftpipe.commands.

Nothing heavy is imported here: `swiftpipe --help` must answer in well under a second.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from swiftpipe import __version__
from swiftpipe.errors import boundary

if TYPE_CHECKING:
    from swiftpipe.engine.select import Selection

PIPELINE = click.argument("pipeline", type=click.Path(path_type=Path), default="pipeline.yaml")
SET = click.option(
    "--set", "overrides", multiple=True, metavar="KEY=VALUE",
    help="Override a pipeline key, e.g. --set stages.sft.args.learning_rate=1e-4 (repeatable).",
)
STAGE = "STAGE"


def _selection(only: str | None, from_: str | None, until: str | None, force: bool) -> Selection:
    from swiftpipe.engine.select import Selection

    return Selection(from_stage=from_, until=until, only=only, force=force)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="swiftpipe")
def main() -> None:
    """Run ms-swift fine-tuning pipelines from one pipeline.yaml.

    Named stages of any kind (data, pt, sft, export, deploy, eval, infer) run as a graph,
    with a manifest of everything, resume from the failed stage, and offline defaults.
    """


@main.command()
@PIPELINE
@SET
@click.option("--only", metavar=STAGE, help="Run just this stage (and the server it reads).")
@click.option("--from", "from_", metavar=STAGE, help="Run this stage and every stage that depends on it.")
@click.option("--until", metavar=STAGE, help="Run this stage and every stage it depends on.")
@click.option("--force", is_flag=True, help="Run selected stages even if up to date.")
@click.option("--keep-serving", is_flag=True, help="Leave the deploy server running at the end.")
def run(pipeline: Path, overrides: tuple[str, ...], only: str | None, from_: str | None,
        until: str | None, force: bool, keep_serving: bool) -> None:
    """Run the pipeline, skipping stages that are up to date."""
    from swiftpipe.commands.run import run as run_cmd
    from swiftpipe.process import install_signal_handlers

    install_signal_handlers()
    sel = _selection(only, from_, until, force)
    _exit(lambda: run_cmd(pipeline, overrides=list(overrides), selection=sel,
                          keep_serving=keep_serving))


@main.command()
@PIPELINE
@SET
@click.option("--only", metavar=STAGE, help="Plan just this stage.")
@click.option("--from", "from_", metavar=STAGE, help="This stage and every stage that depends on it.")
@click.option("--until", metavar=STAGE, help="This stage and every stage it depends on.")
@click.option("--force", is_flag=True, help="Plan as if every stage must run.")
def plan(pipeline: Path, overrides: tuple[str, ...], only: str | None, from_: str | None,
         until: str | None, force: bool) -> None:
    """Print the stage graph, each stage's exact command and environment, and whether it would run."""
    from swiftpipe.commands.plan import plan as plan_cmd

    sel = _selection(only, from_, until, force)
    _exit(lambda: plan_cmd(pipeline, overrides=list(overrides), selection=sel))


@main.command()
@PIPELINE
@SET
def status(pipeline: Path, overrides: tuple[str, ...]) -> None:
    """Show each stage's state, duration and main output."""
    from swiftpipe.commands.status import status as status_cmd

    _exit(lambda: status_cmd(pipeline, overrides=list(overrides)))


@main.command()
@PIPELINE
@SET
def stop(pipeline: Path, overrides: tuple[str, ...]) -> None:
    """Stop the server a deploy left running (only ours: checked by process group and command)."""
    from swiftpipe.commands.stop import stop as stop_cmd

    _exit(lambda: stop_cmd(pipeline, overrides=list(overrides)))


@main.command()
@PIPELINE
@SET
def report(pipeline: Path, overrides: tuple[str, ...]) -> None:
    """Write <workdir>/report/index.html and report.md from the manifest."""
    from swiftpipe.commands.report import report as report_cmd

    _exit(lambda: report_cmd(pipeline, overrides=list(overrides)))


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
def checkpoints(directory: Path) -> None:
    """List the checkpoints under an sft output or run folder (or a workdir)."""
    from swiftpipe.commands.checkpoints import checkpoints as checkpoints_cmd

    _exit(lambda: checkpoints_cmd(directory))


@main.command("tiny-model")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Rebuild even if it exists.")
def tiny_model(directory: Path, force: bool) -> None:
    """Build the tiny deterministic Qwen3 model used by the demo and tests."""
    from swiftpipe.commands.tiny_model import tiny_model as tiny_model_cmd

    _exit(lambda: tiny_model_cmd(directory, force=force))


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="Train rows, ms-swift JSONL (must end in .jsonl).")
@click.option("--format", "fmt", multiple=True, default=("auto",), show_default=True,
              help="auto|sharegpt|alpaca|messages|dolly|query-response|text (auto: per file; text: for swift pt)."
                   " Once for all inputs, or once per input in order.")
@click.option("--limit", multiple=True, default=("all",), show_default=True, metavar="N|all",
              help="Read only the first N rows of a file. Once for all inputs, or once per input in order.")
@click.option("--rejects", type=click.Path(path_type=Path), help="Default: OUT.rejects.jsonl.")
@click.option("--report", type=click.Path(path_type=Path), help="Default: OUT.report.json.")
@click.option("--val-output", type=click.Path(path_type=Path),
              help="Validation rows (with --val-ratio above 0). Default: OUT.val.jsonl.")
@click.option("--max-reject-ratio", type=float, default=0.05, show_default=True,
              help="Exit 1 and write no train file when more rows than this are rejected.")
@click.option("--dedupe", is_flag=True, help="Reject repeated conversations (whitespace ignored).")
@click.option("--system", help="System prompt for rows that have none.")
@click.option("--val-ratio", type=float, default=0.0, show_default=True,
              help="Share of rows written to OUT with .val.jsonl instead of .jsonl.")
@click.option("--seed", type=int, default=42, show_default=True, help="Seed of the split.")
@click.option("--tokenizer", type=click.Path(path_type=Path),
              help="Model directory with tokenizer.json, for token lengths.")
@click.option("--max-length", type=int, help="Reject rows longer than this many tokens (estimate).")
@click.option("--jobs", type=int, help="Worker processes for large JSON Lines files (default: one per CPU).")
def convert(inputs: tuple[Path, ...], output: Path, fmt: tuple[str, ...], limit: tuple[str, ...],
            rejects: Path | None, report: Path | None, val_output: Path | None, max_reject_ratio: float,
            dedupe: bool, system: str | None, val_ratio: float, seed: int, tokenizer: Path | None,
            max_length: int | None, jobs: int | None) -> None:
    """Convert datasets to ms-swift JSONL; every dropped row is listed with its reason."""
    from swiftpipe.commands.convert import convert as convert_cmd

    _exit(lambda: convert_cmd(list(inputs), output, fmt=fmt, limit=limit, rejects=rejects, report=report,
                              val_output=val_output, max_reject_ratio=max_reject_ratio, dedupe=dedupe,
                              system=system, val_ratio=val_ratio, seed=seed, tokenizer=tokenizer,
                              max_length=max_length, jobs=jobs))


def _exit(func: Callable[[], int]) -> NoReturn:
    sys.exit(boundary(func))
