"""Decide which stages run, run them in order, record everything in the manifest.

A stage is skipped when its last record succeeded with the same fingerprint and
its artifacts are intact. Once one stage runs, every later selected stage runs
too. Every selected stage is planned before anything executes, so a missing
file or program surfaces in seconds, not after hours of training.

An ephemeral stage (the deploy server) is different: that its server is gone
is a reason to start it again only when a later stage will run, or when it is
the last stage selected; and starting the same server again (same fingerprint)
does not make later stages run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from swiftpipe import console
from swiftpipe.argv import mask_argv, mask_env
from swiftpipe.engine.fingerprint import changed_keys, fingerprint
from swiftpipe.engine.manifest import Attempt, now_iso, save_manifest
from swiftpipe.engine.stage import Stage, StageContext, StagePlan
from swiftpipe.errors import StageFailed, UserError
from swiftpipe.kinds import configured, get_stage
from swiftpipe.kinds.common import tail


@dataclass(frozen=True)
class Selection:
    from_stage: str | None = None
    until: str | None = None
    only: str | None = None
    force: bool = False


@dataclass
class Decision:
    name: str
    run: bool
    reason: str
    plan: StagePlan
    fingerprint: str | None = None
    notes: list[str] = field(default_factory=list)
    restart: str | None = None  # ephemeral stages: why its output must be recreated if needed


def select(names: list[str], sel: Selection) -> list[str]:
    """Apply --only/--from/--until to the configured stage names."""
    for flag, value in (("--only", sel.only), ("--from", sel.from_stage), ("--until", sel.until)):
        if value is not None and value not in names:
            raise UserError(f"{flag} {value}: not a stage of this pipeline (stages: {', '.join(names)})")
    if sel.only is not None:
        if sel.from_stage or sel.until:
            raise UserError("--only cannot be combined with --from or --until")
        return [sel.only]
    start = names.index(sel.from_stage) if sel.from_stage else 0
    end = names.index(sel.until) + 1 if sel.until else len(names)
    if start >= end:
        raise UserError(f"--from {sel.from_stage} comes after --until {sel.until}")
    return names[start:end]


def decide_one(ctx: StageContext, stage: Stage, sel: Selection, upstream_runs: bool) -> Decision:
    plan = stage.plan(ctx)
    if not plan.ready:
        return Decision(stage.name, True, "runs after its upstream stage", plan)
    fp = fingerprint(plan.inputs)
    reason = _rerun_reason(ctx, stage, plan, fp, sel.force, upstream_runs)
    if reason is None:
        return Decision(stage.name, False, "up to date", plan, fp)
    record = ctx.record(stage.name)
    if stage.ephemeral and record is not None and reason == stage.stale(ctx, record):
        # Only its server is gone; whether to start it depends on the stages after it.
        return Decision(stage.name, False, "up to date; not needed", plan, fp, restart=reason)
    return Decision(stage.name, True, reason, plan, fp)


def _rerun_reason(
    ctx: StageContext, stage: Stage, plan: StagePlan, fp: str, force: bool, upstream: bool
) -> str | None:
    record = ctx.record(stage.name)
    if force:
        return "forced"
    if upstream:
        return "an upstream stage runs"
    if record is None or record.status == "pending" or record.fingerprint is None:
        return "never ran"
    if record.status not in ("succeeded", "skipped"):
        return f"last attempt {record.status}"
    if record.fingerprint != fp:
        keys = changed_keys(record.inputs, plan.inputs)
        return "inputs changed: " + (", ".join(keys) if keys else "fingerprint")
    return stage.stale(ctx, record)


def decide(ctx: StageContext, names: list[str], sel: Selection) -> list[Decision]:
    """Plan every selected stage in order; upstream outputs that will change become Pending."""
    decisions: list[Decision] = []
    upstream_runs = False
    for name in names:
        decision = decide_one(ctx, get_stage(name), sel, upstream_runs)
        if not decision.plan.ready and not _upstream_selected(ctx, name, names):
            raise UserError(
                f"stage {name} needs outputs of an earlier stage that has not succeeded in "
                f"{ctx.workdir}; run the earlier stages first (drop --only/--from)"
            )
        decisions.append(decision)
        if decision.run:
            upstream_runs = True
            ctx.invalidated.add(name)
    _restart_needed_servers(decisions)
    return decisions


def _restart_needed_servers(decisions: list[Decision]) -> None:
    for i, d in enumerate(decisions):
        later = decisions[i + 1:]
        if d.restart and (any(x.run for x in later) or not later):
            d.run, d.reason = True, d.restart


def _upstream_selected(ctx: StageContext, name: str, names: list[str]) -> bool:
    all_names = configured(ctx.config)
    return any(n in names for n in all_names[: all_names.index(name)])


def execute(ctx: StageContext, names: list[str], sel: Selection, resume_hint: str) -> None:
    """Decide every stage first (a preflight), then run them in order.

    On failure the stage is recorded and StageFailed names the command that resumes.
    """
    decisions = decide(ctx, names, sel)
    ctx.invalidated.clear()
    for i, decision in enumerate(decisions, 1):
        if not decision.run:
            _mark_skipped(ctx, decision.name)
            console.step(f"[{i}/{len(names)}] {decision.name}: skipped ({decision.reason})")
            continue
        console.step(f"[{i}/{len(names)}] {decision.name}: running ({decision.reason})")
        # Plan again: upstream stages of this run have replaced the outputs it reads.
        stage = get_stage(decision.name)
        fresh = decide_one(ctx, stage, sel, upstream_runs=True)
        fresh.reason = decision.reason
        _run_stage(ctx, stage, fresh, resume_hint)


def _run_stage(ctx: StageContext, stage: Stage, d: Decision, resume_hint: str) -> None:
    record = ctx.manifest.stage(d.name)
    started = time.monotonic()
    _begin(ctx, d)
    try:
        result = stage.run(ctx, d.plan)
    except StageFailed as exc:
        _end(ctx, d.name, "failed", started, exc.exit_code, str(exc))
        log = ctx.log_path(d.name)
        console.failure(f"{d.name} failed: {exc}")
        last = tail(log)
        if last:
            console.info(f"last lines of {log}:\n" + last)
        hint = f"{resume_hint} --from {_resume_stage(ctx, d.name)}"
        raise StageFailed(f"stage {d.name} failed; fix the cause, then resume with:\n  {hint}") from None
    except BaseException as exc:
        status = "failed" if isinstance(exc, UserError) else "interrupted"
        _end(ctx, d.name, status, started, None, str(exc) or type(exc).__name__)
        if status == "interrupted":
            hint = f"{resume_hint} --from {_resume_stage(ctx, d.name)}"
            console.failure(f"{d.name} interrupted; resume with:\n  {hint}")
        raise
    ctx.fresh[d.name] = result
    record.outputs, record.artifacts, record.metrics = result.outputs, result.artifacts, result.metrics
    _end(ctx, d.name, "succeeded", started, 0, None)
    console.success(f"{d.name} succeeded in {record.duration_s:.1f} s")


def _resume_stage(ctx: StageContext, failed: str) -> str:
    """Where a resume must start: the failed stage, or an earlier server that will be gone."""
    names = configured(ctx.config)
    if ctx.options.keep_serving:
        return failed
    for name in names[: names.index(failed)]:
        if get_stage(name).ephemeral:
            return name
    return failed


def _begin(ctx: StageContext, d: Decision) -> None:
    record = ctx.manifest.stage(d.name)
    record.status = "running"
    record.attempts.append(Attempt(started=now_iso()))
    record.argv = mask_argv([str(a) for a in d.plan.argv])
    record.env = mask_env(d.plan.env)
    record.fingerprint, record.inputs = d.fingerprint, _masked_inputs(d.plan.inputs)
    record.started, record.ended, record.duration_s = now_iso(), None, None
    ctx.previous[d.name] = record.outputs
    record.exit_code, record.message, record.outputs = None, None, {}
    record.log = str(ctx.log_path(d.name))
    save_manifest(ctx.manifest, ctx.workdir)


def _masked_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    masked = dict(inputs)
    if isinstance(masked.get("argv"), list):
        masked["argv"] = mask_argv([str(a) for a in masked["argv"]])
    return masked


def _end(ctx: StageContext, name: str, status: str, started: float, code: int | None, msg: str | None) -> None:
    record = ctx.manifest.stage(name)
    record.status, record.exit_code, record.message = status, code, msg
    record.ended, record.duration_s = now_iso(), round(time.monotonic() - started, 3)
    attempt = record.attempts[-1]
    attempt.ended, attempt.status, attempt.exit_code = record.ended, status, code
    save_manifest(ctx.manifest, ctx.workdir)


def _mark_skipped(ctx: StageContext, name: str) -> None:
    record = ctx.manifest.stage(name)
    record.status = "skipped"
    save_manifest(ctx.manifest, ctx.workdir)
