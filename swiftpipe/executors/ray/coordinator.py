"""`swiftpipe run` with `executor: ray`: plan as always, submit each job once what it reads
succeeded, stream the logs, fold the records, report.

Ray has no job dependencies, so this process keeps them: a job is submitted when the jobs of the
stages it reads have succeeded; independent branches run at once. Each job runs swiftpipe for its
stages and writes their records itself (engine/manifest.py records/). The jobs live in Ray, not
here: when this process dies they go on, and the next run finds a job by its submission id
(plan.py) and reattaches instead of starting the work again. Ctrl-C stops the jobs of this run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from swiftpipe.core import console
from swiftpipe.core.errors import StageFailed
from swiftpipe.core.fsio import atomic_write_text
from swiftpipe.engine.executor import RunRequest
from swiftpipe.engine.manifest import fold_records, save_manifest
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.runner import Runner
from swiftpipe.executors.logs import follow
from swiftpipe.executors.ray import plan
from swiftpipe.executors.ray.client import ACTIVE, RayJobs
from swiftpipe.executors.ray.config import RaySettings
from swiftpipe.executors.ray.plan import Job

POLL_S = 1.0


@dataclass
class Tracked:
    """A planned job and what became of it in this run."""

    job: Job
    sid: str | None = None
    state: str | None = None  # Ray's status once submitted or found
    skipped: bool = False  # up to date once what it reads had run (nothing submitted)


@dataclass
class Coordinator:
    request: RunRequest
    api: RayJobs
    tracked: list[Tracked]
    offsets: dict[Path, int] = field(default_factory=dict)

    @property
    def loaded(self) -> LoadedPipeline:
        return self.request.loaded

    def done(self, t: Tracked) -> bool:
        return t.skipped or (t.state is not None and t.state not in ACTIVE)

    def ready(self, t: Tracked) -> bool:
        """Every planned job holding a stage it reads has succeeded."""
        ups = plan.upstream(self.loaded, t.job)
        return all(self.succeeded(o) for o in self.tracked if o is not t and ups & set(o.job.stages))

    def succeeded(self, t: Tracked) -> bool:
        if t.skipped:
            return True
        records = [self.request.manifest.stages.get(s) for s in t.job.stages]
        return t.state == "SUCCEEDED" and all(r is not None and r.status.usable for r in records)

    def failed(self) -> bool:
        return any(self.done(t) and not self.succeeded(t) for t in self.tracked)

    # -- submitting --------------------------------------------------------------------------

    def submit_ready(self) -> None:
        for t in self.tracked:
            if t.sid is None and not t.skipped and self.ready(t):
                self.submit(t)

    def submit(self, t: Tracked) -> None:
        loaded, manifest, job = self.loaded, self.request.manifest, t.job
        d = Runner(loaded, manifest, self.request.options).decide(job.name, self.request.selection.force)
        if not d.run and not loaded.graph.kind(job.name).ephemeral:
            t.skipped = True
            console.step(f"{job.name}: skipped ({d.reason})")
            return
        attempt = 1
        while True:
            sid = plan.submission_id(loaded, job, d.fingerprint, attempt)
            state = self.api.state(sid)
            if state is None or state in ACTIVE:
                break
            attempt += 1  # that attempt of the same work ended: this is a new one
        t.sid = sid
        settings: RaySettings = loaded.executor
        for stage in job.stages:
            manifest.stage(stage).job = {"id": sid, "executor": "ray", "state": state or "PENDING",
                                         "nodes": job.nodes, "address": settings.address}
        save_manifest(manifest, loaded.workdir)  # before the job starts: it reads its record's job
        if state in ACTIVE:
            t.state = state
            self._follow_from_now(job)
            console.step(f"{', '.join(job.stages)}: reattached to Ray job {sid} ({state}); following its log")
            return
        cpus, gpus, extra = plan.entry_resources(loaded, job)
        self.api.submit(sid, plan.entrypoint(loaded, job), cpus=cpus, gpus=gpus, resources=extra,
                        metadata=plan.metadata(loaded, job, d.fingerprint), runtime_env=settings.runtime_env)
        t.state = "PENDING"
        console.step(f"{', '.join(job.stages)}: submitted as Ray job {sid}")

    def _follow_from_now(self, job: Job) -> None:
        """A job we reattach to: its log so far was shown by the run that submitted it."""
        for stage in job.stages:
            log = self.log(stage)
            self.offsets[log] = log.stat().st_size if log.exists() else 0

    # -- waiting -----------------------------------------------------------------------------

    def log(self, stage: str) -> Path:
        return self.loaded.workdir / "logs" / f"{stage}.log"

    def poll(self) -> None:
        for t in self.tracked:
            if t.sid is None or self.done(t):
                continue
            state = self.api.state(t.sid) or "FAILED"
            for stage in t.job.stages:
                follow(self.log(stage), self.offsets)
            if state != t.state:
                t.state = state
                self.ended(t) if state not in ACTIVE else self._note(t)

    def _note(self, t: Tracked) -> None:
        for stage in t.job.stages:
            self.request.manifest.stage(stage).job["state"] = t.state
        save_manifest(self.request.manifest, self.loaded.workdir)

    def ended(self, t: Tracked) -> None:
        """Fold the job's records, keep Ray's log of it beside the stage logs, record its state."""
        assert t.sid is not None
        workdir, manifest = self.loaded.workdir, self.request.manifest
        atomic_write_text(workdir / "logs" / "ray" / f"{t.sid}.log", self.api.logs(t.sid))
        fold_records(manifest, workdir, list(t.job.stages))
        for stage in t.job.stages:
            manifest.stage(stage).job.update({"id": t.sid, "executor": "ray", "state": t.state})
        save_manifest(manifest, workdir)

    def loop(self) -> None:
        """Until every job ended (after a failure: nothing more is submitted)."""
        while True:
            if not self.failed():
                self.submit_ready()
            self.poll()
            if all(t.sid is None or self.done(t) for t in self.tracked) and (
                    self.failed() or all(self.done(t) for t in self.tracked)):
                return
            time.sleep(POLL_S)

    def interrupted(self) -> None:
        """Ctrl-C or an error while waiting: stop our jobs, fold what they recorded, say how to resume."""
        stopped = self.stop_running()
        if stopped:
            console.failure("stopped the Ray jobs of this run: " + ", ".join(stopped))
        for t in (t for t in self.tracked if t.sid is not None):
            fold_records(self.request.manifest, self.loaded.workdir, list(t.job.stages))
            state = self.api.state(t.sid) if t.sid in stopped else t.state
            for stage in t.job.stages:
                self.request.manifest.stage(stage).job["state"] = state
        save_manifest(self.request.manifest, self.loaded.workdir)
        if stopped:
            console.failure(f"resume with:\n  {self.request.resume_hint}")

    def stop_running(self, wait_s: float = 20) -> list[str]:
        """Stop this run's jobs still going and wait (briefly) for them to end, so that the records
        they write as they stop are folded."""
        stopped = [t.sid for t in self.tracked if t.sid is not None and not self.done(t)]
        for sid in stopped:
            self.api.stop(sid)
        deadline = time.monotonic() + wait_s
        while any(self.api.state(sid) in ACTIVE for sid in stopped) and time.monotonic() < deadline:
            time.sleep(0.5)
        return stopped


def execute(request: RunRequest) -> bool:
    """Submit what must run as its inputs succeed, wait (unless detached), fold, report; True when
    any job was submitted or reattached."""
    loaded = request.loaded
    decisions = Runner(loaded, request.manifest, request.options).preflight(request.names, request.selection)
    for i, d in enumerate(decisions, 1):
        if not d.run:
            console.step(f"[{i}/{len(decisions)}] {d.name}: skipped ({d.reason})")
    planned = plan.group(loaded, decisions)
    if not planned:
        return False
    settings: RaySettings = loaded.executor
    c = Coordinator(request, RayJobs(settings.address), [Tracked(job) for job in planned])
    if request.detach:
        c.submit_ready()
        later = [t.job.name for t in c.tracked if t.sid is None and not t.skipped]
        after = f"; {', '.join(later)} wait for them: the next swiftpipe run submits them" if later else ""
        console.info(f"submitted to Ray{after}; follow with: swiftpipe status {loaded.display_name}")
        return True
    try:
        c.loop()
    except BaseException:
        c.interrupted()
        raise
    _report(c)
    return True


def _report(c: Coordinator) -> None:
    manifest, hint = c.request.manifest, c.request.resume_hint
    failed: list[str] = []
    for t in c.tracked:
        if t.skipped:
            continue
        if t.sid is None:
            failed += [s for s in t.job.stages if s not in failed]
            continue
        for stage in t.job.stages:
            record = manifest.stage(stage)
            if c.succeeded(t) and record.job.get("finished"):
                console.success(f"{stage}: {record.status} in Ray job {t.sid}")
            else:
                failed.append(stage)
    if failed:
        _fail(c, failed, hint)


def _fail(c: Coordinator, failed: list[str], hint: str) -> None:
    manifest = c.request.manifest
    first = failed[0]
    record = manifest.stage(first)
    sid = record.job.get("id")
    why = record.message if record.status.value in ("failed", "crashed") and record.message else (
        f"its Ray job {sid} ended {record.job.get('state', 'without starting')} without finishing it")
    if sid:
        last = (c.loaded.workdir / "logs" / "ray" / f"{sid}.log")
        lines = last.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:] if last.exists() else []
        if lines and record.status.value not in ("failed", "crashed"):
            console.info(f"last lines of {last}:\n" + "\n".join(lines))
    later = f"; not submitted after it: {', '.join(failed[1:])}" if failed[1:] else ""
    raise StageFailed(f"stage {first} {record.status}: {why}{later}; fix the cause, then resume with:\n  "
                      f"{hint} --from {first}")
