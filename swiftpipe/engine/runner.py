"""Walk the stage graph: decide each selected stage, run those that must, record everything.

A stage runs when it never succeeded, its last attempt did not succeed, the inputs its
fingerprint covers changed (its own settings, or what a stage it reads produced), or its
outputs are gone. Every selected stage is planned before anything executes (a preflight),
so a missing file or program surfaces in seconds. While running, each stage is decided
again once the stages it reads are done: when they re-ran but produced identical outputs
(same digests), it stays skipped (an early cut-off), and so do the stages after it.

A server (an ephemeral stage) starts only just before the first stage that needs it runs,
and stops once the last of them is done; one with nothing selected after it is the target
of the run (`--until deploy`) and keeps running.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from swiftpipe.core import console
from swiftpipe.core.argv import mask_argv, mask_env
from swiftpipe.core.errors import Crashed, Interrupted, StageFailed, UserError
from swiftpipe.core.fsio import last_error, tail
from swiftpipe.engine.decide import Decision, decide
from swiftpipe.engine.launch import Launcher, LocalLauncher
from swiftpipe.engine.manifest import Attempt, Manifest, now_iso, records_dir, save_manifest, save_record
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.select import Selection
from swiftpipe.engine.stage import RunOptions, Stage, StageContext
from swiftpipe.engine.status import Status


class Runner:
    """One run over one workdir: one stage object per stage, the manifest, what ran so far."""

    def __init__(self, pipeline: LoadedPipeline, manifest: Manifest, options: RunOptions | None = None,
                 launcher: Launcher | None = None, owned: set[str] | None = None,
                 launchers: Mapping[str, Launcher] | None = None) -> None:
        """`owned`: run inside an executor's job for these stages; only their records are written
        (records/<stage>.json, one writer each), never manifest.json."""
        self.pipeline = pipeline
        self.graph = pipeline.graph
        self.manifest = manifest
        self.options = options or RunOptions()
        self.launcher = launcher or LocalLauncher()
        self.owned = owned
        self.launchers = launchers or {}  # per stage, e.g. one process per node of a job
        self.stages: dict[str, Stage] = {n.name: self.graph.kind(n.name).stage() for n in self.graph}
        self.fresh: dict[str, dict[str, Any]] = {}  # outputs of the stages run in this invocation
        self.pending: set[str] = set()  # will run later in this run: recorded outputs are stale
        self.waiting: dict[str, Decision] = {}  # servers not started yet (their promised outputs)
        self.planned: dict[str, Decision] = {}  # preflight decisions of ready plans, reused once
        self.done: set[str] = set()
        self.started: list[str] = []  # ephemeral stages started in this run
        self.closed: set[str] = set()
        self.selected: list[str] = []
        # What each stage's record held before the current attempt reset it.
        self._previous: dict[str, dict[str, Any]] = {}

    # -- what stages see -------------------------------------------------------------------

    def lookup(self, name: str) -> dict[str, Any] | None:
        if name in self.fresh:
            return self.fresh[name]
        if name in self.waiting:
            return self.waiting[name].plan.promised
        if name in self.pending:
            return None
        record = self.manifest.stages.get(name)
        if record is not None and record.status.usable and record.outputs:
            return record.outputs
        return None

    def context(self, name: str) -> StageContext:
        options = self.options
        if self._is_target(name):
            options = replace(options, keep_serving=True)
        return StageContext(self.pipeline, self.graph[name], self.lookup, self.manifest.stages.get(name),
                            options, self.launchers.get(name, self.launcher), self._previous.get(name),
                            lambda key, value: self._persist(name, key, value))

    def _ephemeral(self, name: str) -> bool:
        return self.graph.kind(name).ephemeral

    def _is_target(self, name: str) -> bool:
        return self._ephemeral(name) and not self._selected_dependents(name)

    def _selected_dependents(self, name: str) -> list[str]:
        return [d for d in self.graph.dependents(name) if d in self.selected]

    # -- deciding ----------------------------------------------------------------------------

    def decide(self, name: str, force: bool) -> Decision:
        ctx = self.context(name)
        stage = self.stages[name]
        plan = stage.plan(ctx)
        if not plan.ready:
            return Decision(name, True, self._after(name), plan)
        return decide(name, plan, ctx.record, force, lambda record: stage.stale(ctx, record))

    def _after(self, name: str) -> str:
        ups = [u for u in self.graph[name].upstream.values() if u in self.pending or u in self.waiting]
        record = self.manifest.stages.get(name)
        if ups and record is not None and record.status.usable:
            return f"after {', '.join(ups)}: runs if their outputs change"
        return f"runs after {', '.join(ups)}" if ups else "runs after the stages it reads"

    def preflight(self, names: list[str], sel: Selection) -> list[Decision]:
        """Plan every selected stage in order; stages that will run make their readers wait."""
        self.selected = names
        decisions = []
        for name in names:
            d = self.decide(name, sel.force)
            if not d.plan.ready:
                self._check_reachable(name)
            if d.run and self._ephemeral(name) and self._selected_dependents(name):
                d.waits, d.reason = True, f"{d.reason}; starts when a stage after it needs it"
                self.waiting[name] = d
            elif d.run:
                self.pending.add(name)
            if d.plan.ready and not d.waits:
                self.planned[name] = d
            decisions.append(d)
        return decisions

    def _planned(self, name: str) -> Decision | None:
        """The preflight's decision, while nothing it read has changed since (each stage is planned
        once per run unless a stage it reads ran in this run)."""
        d = self.planned.pop(name, None)
        if d is None or any(up in self.fresh for up in self.graph[name].upstream.values()):
            return None
        return d

    def _check_reachable(self, name: str) -> None:
        for up in self.graph[name].upstream.values():
            if self.lookup(up) is None and up not in self.pending and up not in self.waiting:
                raise UserError(
                    f"stage {name} needs the outputs of {up}, which has not succeeded in "
                    f"{self.pipeline.workdir}; run {up} first (drop --only/--from)"
                )

    # -- running -----------------------------------------------------------------------------

    def execute(self, names: list[str], sel: Selection, resume_hint: str) -> None:
        """Preflight, then walk the selected stages; a failure names the command that resumes."""
        self.preflight(names, sel)
        self.waiting.clear()
        try:
            for i, name in enumerate(names, 1):
                self._visit(f"[{i}/{len(names)}] {name}", name, sel, resume_hint)
                self._stop_unneeded_servers()
        finally:
            self.close()
        for name in names:
            if name in self.waiting:
                self._mark_skipped(name)
                console.step(f"{name}: not started (no stage that reads it had to run)")

    def _visit(self, label: str, name: str, sel: Selection, resume_hint: str) -> None:
        d = self._planned(name) or self.decide(name, sel.force)
        was_pending = name in self.pending
        self.pending.discard(name)
        if not d.run:
            self._mark_skipped(name)
            why = "up to date; what it reads came out the same" if was_pending else d.reason
            console.step(f"{label}: skipped ({why})")
            return
        if self._ephemeral(name) and self._selected_dependents(name):
            self.waiting[name] = d
            console.step(f"{label}: waits ({d.reason}; starts when a stage after it needs it)")
            return
        servers = [up for up in self.graph[name].upstream.values() if up in self.waiting]
        for up in servers:
            console.step(f"  {up}: running (needed by {name}; {self.waiting.pop(up).reason})")
            self._run(up, self.decide(up, force=True), resume_hint)
        if servers:  # it was planned with what they promised; now they have run
            reason = d.reason
            d = self.decide(name, sel.force)  # its inputs now hold what those stages produced
            d.reason = reason
        console.step(f"{label}: running ({d.reason})")
        self._run(name, d, resume_hint)

    def _run(self, name: str, d: Decision, resume_hint: str) -> None:
        ctx = self.context(name)
        started = time.monotonic()
        self._begin(name, d)
        if self._ephemeral(name):
            self.started.append(name)
        try:
            result = self.stages[name].run(self.context(name), d.plan)
        except StageFailed as exc:
            self._end(name, Status.FAILED, started, exc.exit_code, str(exc))
            console.failure(f"{name} failed: {exc}")
            last, error = tail(ctx.log_path()), last_error(ctx.log_path())
            if error and error not in last:
                console.info(f"the error in {ctx.log_path()}: {error}")
            if last:
                console.info(f"last lines of {ctx.log_path()}:\n" + last)
            raise StageFailed(f"stage {name} failed; fix the cause, then resume with:\n  "
                              f"{resume_hint} --from {name}") from None
        except UserError as exc:
            self._end(name, Status.FAILED, started, None, str(exc))
            raise
        except (KeyboardInterrupt, Interrupted) as exc:
            self._end(name, Status.INTERRUPTED, started, None, str(exc) or type(exc).__name__)
            console.failure(f"{name} interrupted; resume with:\n  {resume_hint} --from {name}")
            raise
        except Exception as exc:
            log = ctx.log_path(".crash")
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
            self._end(name, Status.CRASHED, started, None, f"internal error: {type(exc).__name__}: {exc}")
            raise Crashed(name, exc, log) from exc
        outputs = result.outputs.to_dict() if result.outputs is not None else {}
        self.fresh[name] = outputs
        record = self.manifest.stage(name)
        record.outputs, record.artifacts, record.metrics = outputs, result.artifacts, result.metrics
        self._end(name, Status.SUCCEEDED, started, 0, None)
        self.done.add(name)
        console.success(f"{name} succeeded in {record.duration_s:.1f} s")

    def _stop_unneeded_servers(self) -> None:
        """A server stops once every selected stage that reads it is done (unless kept)."""
        if self.options.keep_serving:
            return
        for name in self.started:
            readers = self._selected_dependents(name)
            if name not in self.closed and readers and all(r in self.done for r in readers):
                self._close(name)

    def close(self) -> None:
        """Every stage's close(), once, success or not (servers not kept stop here)."""
        for name in self.graph.names:
            self._close(name)

    def _close(self, name: str) -> None:
        if name not in self.closed:
            self.closed.add(name)
            self.stages[name].close(self.context(name))

    # -- the manifest --------------------------------------------------------------------------

    def _save(self, name: str, final: bool = False) -> None:
        workdir = self.pipeline.workdir
        if final and self.owned is not None and name in self.owned:
            self.manifest.stage(name).job["finished"] = now_iso()  # the submitter reads this, not sacct
        if self.owned is None:
            save_manifest(self.manifest, workdir)
            (records_dir(workdir) / f"{name}.json").unlink(missing_ok=True)  # this record supersedes a job's
        elif name in self.owned:
            save_record(self.manifest, workdir, name)

    def _persist(self, name: str, key: str, value: Any) -> None:
        self.manifest.stage(name).outputs[key] = value
        self._save(name)

    def _begin(self, name: str, d: Decision) -> None:
        record = self.manifest.stage(name)
        node = self.graph[name]
        record.kind, record.upstream = node.kind, dict(node.upstream)
        record.status = Status.RUNNING
        record.attempts.append(Attempt(started=now_iso()))
        record.argv = mask_argv([str(a) for a in d.plan.argv])
        record.env = mask_env(d.plan.env)
        record.fingerprint, record.inputs = d.fingerprint, _masked_inputs(d.plan.inputs)
        record.started, record.ended, record.duration_s = now_iso(), None, None
        self._previous[name] = record.outputs
        record.exit_code, record.message, record.outputs = None, None, {}
        record.log = str(self.pipeline.workdir / "logs" / f"{name}.log")
        self._save(name)

    def _end(self, name: str, status: Status, started: float, code: int | None, msg: str | None) -> None:
        record = self.manifest.stage(name)
        record.status, record.exit_code, record.message = status, code, msg
        record.ended, record.duration_s = now_iso(), round(time.monotonic() - started, 3)
        attempt = record.attempts[-1]
        attempt.ended, attempt.status, attempt.exit_code = record.ended, status, code
        self._save(name, final=True)

    def _mark_skipped(self, name: str) -> None:
        record = self.manifest.stage(name)
        if record.status.usable:
            record.status = Status.SKIPPED
        self.done.add(name)
        self._save(name, final=True)


def _masked_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    masked = dict(inputs)
    if isinstance(masked.get("argv"), list):
        masked["argv"] = mask_argv([str(a) for a in masked["argv"]])
    return masked
