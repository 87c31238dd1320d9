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
from swiftpipe.core.errors import boundary

if TYPE_CHECKING:
    from swiftpipe.engine.select import Selection

PIPELINE = click.argument("pipeline", type=click.Path(path_type=Path), default="pipeline.yaml")
SET = click.option(
    "--set", "overrides", multiple=True, metavar="KEY=VALUE",
    help="Override a pipeline key, e.g. --set stages.sft.args.learning_rate=1e-4 (repeatable).",
)
PROFILE = click.option(
    "--profile", metavar="NAME", help="Overlay this entry of the pipeline's profiles: (before --set).",
)
SWEEP = click.option(
    "--sweep", "sweeps", multiple=True, metavar="KEY=V1,V2",
    help="Sweep a key over these values, each a variant, e.g. --sweep stages.sft.args.lora_rank=8,16 (repeatable).",
)
STAGE = "STAGE"


def _selection(only: str | None, from_: str | None, until: str | None, force: bool) -> Selection:
    from swiftpipe.engine.select import Selection

    return Selection(from_stage=from_, until=until, only=only, force=force)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="swiftpipe")
def main() -> None:
    """Run ms-swift fine-tuning pipelines from one pipeline.yaml.

    Named stages of any kind (data, pt, sft, rlhf, export, deploy, eval, infer) run as a graph,
    with a manifest of everything, resume from the failed stage, and offline defaults.
    """


@main.command()
@PIPELINE
@SET
@PROFILE
@SWEEP
@click.option("--only", metavar=STAGE, help="Run just this stage (and the server it reads).")
@click.option("--from", "from_", metavar=STAGE, help="Run this stage and every stage that depends on it.")
@click.option("--until", metavar=STAGE, help="Run this stage and every stage it depends on.")
@click.option("--force", is_flag=True, help="Run selected stages even if up to date.")
@click.option("--keep-serving", is_flag=True, help="Leave the deploy server running at the end.")
@click.option("--detach", is_flag=True, help="Executors that queue work: return once it is submitted.")
@click.option("--name", metavar="NAME", help="Name this run's experiment (see swiftpipe exps).")
@click.option("--job", metavar="STAGES", hidden=True,
              help="Inside a job an executor started: run these stages (comma-separated).")
def run(pipeline: Path, overrides: tuple[str, ...], profile: str | None, only: str | None, from_: str | None,
        until: str | None, force: bool, keep_serving: bool, detach: bool, job: str | None,
        name: str | None, sweeps: tuple[str, ...]) -> None:
    """Run the pipeline, skipping stages that are up to date."""
    from swiftpipe.commands.run import run as run_cmd
    from swiftpipe.core.process import install_signal_handlers

    install_signal_handlers()
    sel = _selection(only, from_, until, force)
    _exit(lambda: run_cmd(pipeline, overrides=list(overrides), selection=sel,
                          keep_serving=keep_serving, detach=detach, job=job, name=name, sweeps=list(sweeps)),
          profile=profile)


@main.command()
@PIPELINE
@SET
@PROFILE
@SWEEP
@click.option("--only", metavar=STAGE, help="Plan just this stage.")
@click.option("--from", "from_", metavar=STAGE, help="This stage and every stage that depends on it.")
@click.option("--until", metavar=STAGE, help="This stage and every stage it depends on.")
@click.option("--force", is_flag=True, help="Plan as if every stage must run.")
def plan(pipeline: Path, overrides: tuple[str, ...], profile: str | None, only: str | None, from_: str | None,
         until: str | None, force: bool, sweeps: tuple[str, ...]) -> None:
    """Print the stage graph, each stage's exact command and environment, and whether it would run."""
    from swiftpipe.commands.plan import plan as plan_cmd

    sel = _selection(only, from_, until, force)
    _exit(lambda: plan_cmd(pipeline, overrides=list(overrides), selection=sel, sweeps=list(sweeps)), profile=profile)


@main.command()
@PIPELINE
@SET
@PROFILE
def status(pipeline: Path, overrides: tuple[str, ...], profile: str | None) -> None:
    """Show each stage's state, duration and main output."""
    from swiftpipe.commands.status import status as status_cmd

    _exit(lambda: status_cmd(pipeline, overrides=list(overrides)), profile=profile)


@main.command()
@PIPELINE
@SET
@PROFILE
def stop(pipeline: Path, overrides: tuple[str, ...], profile: str | None) -> None:
    """Stop the server a deploy left running (only ours: checked by process group and command)."""
    from swiftpipe.commands.stop import stop as stop_cmd

    _exit(lambda: stop_cmd(pipeline, overrides=list(overrides)), profile=profile)


@main.command()
@PIPELINE
@SET
@PROFILE
def report(pipeline: Path, overrides: tuple[str, ...], profile: str | None) -> None:
    """Write <workdir>/report/index.html and report.md from the manifest."""
    from swiftpipe.commands.report import report as report_cmd

    _exit(lambda: report_cmd(pipeline, overrides=list(overrides)), profile=profile)


@main.command()
@PIPELINE
@SET
@PROFILE
@click.option("--port", type=click.IntRange(1, 65535), default=8400, show_default=True, help="Port to serve on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; another needs --token-env.")
@click.option("--token-env", metavar="VAR", help="Environment variable holding the token every request must carry.")
def ui(pipeline: Path, overrides: tuple[str, ...], profile: str | None, port: int, host: str,
       token_env: str | None) -> None:
    """Serve a live dashboard of the workdir: stages, logs, loss curves, scores, experiments."""
    from swiftpipe.commands.ui import ui as ui_cmd

    _exit(lambda: ui_cmd(pipeline, overrides=list(overrides), host=host, port=port, token_env=token_env),
          profile=profile)


@main.group(invoke_without_command=True)
@click.pass_context
def exps(ctx: click.Context) -> None:
    """Experiments: one per `swiftpipe run` that ran a stage (bare `exps` is `exps list`)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(exps_list)


@exps.command("list")
@PIPELINE
@SET
@PROFILE
@click.option("--json", "fmt", flag_value="json", help="Print the rows as JSON.")
@click.option("--csv", "fmt", flag_value="csv", help="Print the rows as CSV.")
@click.option("--sort", metavar="METRIC", help="Sort by this metric column, highest first (e.g. eval.general_mcq).")
@click.option("--asc", is_flag=True, help="With --sort: lowest first (for losses).")
def exps_list(pipeline: Path, overrides: tuple[str, ...], profile: str | None, fmt: str | None, sort: str | None,
              asc: bool) -> None:
    """One row per experiment: id, name, when, status, the parameters that differ, the metrics."""
    from swiftpipe.commands.exps import exps_list as list_cmd

    _exit(lambda: list_cmd(pipeline, overrides=list(overrides), fmt=fmt or "table", sort=sort, ascending=asc),
          profile=profile)


@exps.command("show")
@click.argument("exp_id", metavar="ID")
@PIPELINE
@SET
@PROFILE
def exps_show(exp_id: str, pipeline: Path, overrides: tuple[str, ...], profile: str | None) -> None:
    """Everything about experiment ID, with the paths of its files."""
    from swiftpipe.commands.exps import exps_show as show_cmd

    _exit(lambda: show_cmd(exp_id, pipeline, overrides=list(overrides)), profile=profile)


@exps.command("diff")
@click.argument("a")
@click.argument("b")
@PIPELINE
@SET
@PROFILE
def exps_diff(a: str, b: str, pipeline: Path, overrides: tuple[str, ...], profile: str | None) -> None:
    """The parameters that changed from experiment A to B, and each metric's change."""
    from swiftpipe.commands.exps import exps_diff as diff_cmd

    _exit(lambda: diff_cmd(a, b, pipeline, overrides=list(overrides)), profile=profile)


@exps.command("rm")
@click.argument("args", metavar="ID... [PIPELINE]", nargs=-1, required=True)
@SET
@PROFILE
@click.option("--yes", is_flag=True, help="Remove without asking.")
def exps_rm(args: tuple[str, ...], overrides: tuple[str, ...], profile: str | None, yes: bool) -> None:
    """Remove experiments ID... and the files only they use (checkpoints, merged models); says what it frees."""
    from swiftpipe.commands.exps import exps_rm as rm_cmd

    # The last argument is PIPELINE when it names a YAML file or an existing path (IDs are exp-...).
    last = Path(args[-1])
    named = len(args) > 1 and (last.suffix in (".yaml", ".yml") or last.exists())
    ids, pipeline = (args[:-1], last) if named else (args, Path("pipeline.yaml"))
    _exit(lambda: rm_cmd(ids, pipeline, overrides=list(overrides), yes=yes, interactive=sys.stdin.isatty()),
          profile=profile)


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
def checkpoints(directory: Path) -> None:
    """List the checkpoints under an sft output or run folder (or a workdir)."""
    from swiftpipe.commands.checkpoints import checkpoints as checkpoints_cmd

    _exit(lambda: checkpoints_cmd(directory))


@main.command("recipes")
def recipes_() -> None:
    """List the shipped recipes (copy one with `swiftpipe init`)."""
    from swiftpipe.commands.recipes import recipes as recipes_cmd

    _exit(recipes_cmd)


@main.command("init")
@click.argument("recipe")
@click.argument("directory", type=click.Path(path_type=Path), default=".")
def init(recipe: str, directory: Path) -> None:
    """Copy RECIPE into DIRECTORY/pipeline.yaml (default: here) to edit; never overwrites."""
    from swiftpipe.commands.init import init as init_cmd

    _exit(lambda: init_cmd(recipe, directory))


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
@click.option("--max-length", type=int, help="Reject rows longer than this many tokens (as swift sft counts them).")
@click.option("--exact/--no-exact", default=None,
              help="Token lengths from ms-swift's own template (exact) or an estimate that errs high."
                   " Default: exact when --max-length is given, ms-swift is installed and --tokenizer is a model.")
@click.option("--template", metavar="NAME", help="ms-swift --template for exact lengths (default: the model's).")
@click.option("--model-type", metavar="NAME", help="ms-swift --model_type for exact lengths (default: the model's).")
@click.option("--jobs", type=int, help="Worker processes for large JSON Lines files (default: one per CPU).")
@click.option("--purpose", type=click.Choice(["sft", "rlhf"]), default="sft", show_default=True,
              help="sft: reject preference/KTO rows; rlhf: keep only them (messages + rejected_response or label).")
@click.option("--multimodal/--no-multimodal", default=True, show_default=True,
              help="Keep images/audios/videos (paths made absolute and checked); --no-multimodal rejects such rows.")
@click.option("--strict", is_flag=True, help="Reject rows holding a {{placeholder}} (default: count them).")
@click.option("--media-root", type=click.Path(path_type=Path),
              help="Folder that media paths must lie in (default: each input file's own folder).")
@click.option("--system-template", metavar="TEXT",
              help="System line from row fields, e.g. 'reasoning language: {reasoning_language}'.")
@click.option("--max-row-bytes", type=int,
              help="Reject (row_too_large) a JSON Lines row longer than this, without reading it whole."
                   " Default: 64 MiB.")
def convert(inputs: tuple[Path, ...], output: Path, fmt: tuple[str, ...], limit: tuple[str, ...],
            rejects: Path | None, report: Path | None, val_output: Path | None, max_reject_ratio: float,
            dedupe: bool, system: str | None, val_ratio: float, seed: int, tokenizer: Path | None,
            max_length: int | None, exact: bool | None, template: str | None, model_type: str | None,
            jobs: int | None, purpose: str, multimodal: bool, strict: bool, system_template: str | None,
            media_root: Path | None, max_row_bytes: int | None) -> None:
    """Convert datasets to ms-swift JSONL; every dropped row is listed with its reason."""
    from swiftpipe.commands.convert import convert as convert_cmd

    _exit(lambda: convert_cmd(list(inputs), output, fmt=fmt, limit=limit, rejects=rejects, report=report,
                              val_output=val_output, max_reject_ratio=max_reject_ratio, dedupe=dedupe,
                              system=system, val_ratio=val_ratio, seed=seed, tokenizer=tokenizer,
                              max_length=max_length, jobs=jobs, purpose=purpose, multimodal=multimodal,
                              strict=strict, system_template=system_template, exact=exact, template=template,
                              model_type=model_type, media_root=media_root, max_row_bytes=max_row_bytes))


def _exit(func: Callable[[], int], profile: str | None = None) -> NoReturn:
    from swiftpipe.config.profiles import selecting

    # Selected for this command only: an in-process caller (tests, CliRunner) gets it back unset.
    with selecting(profile):
        sys.exit(boundary(func))
