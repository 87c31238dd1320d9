"""A real two-node SLURM cluster on this machine, for the tests of the SLURM executor.

munged, slurmctld and two slurmd (n1, n2, one CPU each) with the configuration verified in
the reference notes, state under a temporary folder. Needs root and the slurm-wlm and munge
packages; `unavailable()` says in one line why not. Every daemon started is stopped by PID.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo")
CONF = """\
ClusterName=swiftpipetest
SlurmctldHost={host}
SlurmctldPort={ctld_port}
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket={munge_socket}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
StateSaveLocation={root}/ctld
SlurmdSpoolDir={root}/slurmd-%n
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd-%n.log
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd-%n.pid
ReturnToService=2
MpiDefault=none
NodeName=n1 NodeHostname={host} NodeAddr=127.0.0.1 Port={port1} CPUs=1 RealMemory=10000 State=UNKNOWN
NodeName=n2 NodeHostname={host} NodeAddr=127.0.0.1 Port={port2} CPUs=1 RealMemory=10000 State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


def unavailable() -> str | None:
    """Why the cluster cannot be started here, or None."""
    missing = [p for p in PROGRAMS if shutil.which(p) is None]
    if missing:
        return f"SLURM is not installed ({', '.join(missing)} missing; apt-get install slurm-wlm munge)"
    if os.geteuid() != 0:
        return "the SLURM test cluster needs root (slurmd runs jobs as their users)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.pids: list[int] = []
        self.env = {**os.environ, "SLURM_CONF": str(root / "slurm.conf")}

    def start(self) -> None:
        (self.root / "log").mkdir(parents=True)
        for sub in ("ctld", "slurmd-n1", "slurmd-n2", "munge"):
            (self.root / sub).mkdir()
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        socket_path = self.root / "munge" / "munge.socket"
        self._daemon(["munged", "--foreground", "--force", f"--key-file={key}", f"--socket={socket_path}",
                      f"--pid-file={self.root / 'munge' / 'munged.pid'}", f"--seed-file={self.root / 'munge' / 'seed'}",
                      f"--log-file={self.root / 'log' / 'munged.log'}"])
        self._wait(lambda: socket_path.exists(), "munged")
        conf = CONF.format(host=socket.gethostname(), root=self.root, munge_socket=socket_path,
                           ctld_port=_free_port(), port1=_free_port(), port2=_free_port())
        (self.root / "slurm.conf").write_text(conf)
        self._daemon(["slurmctld", "-D", "-i", "-f", str(self.root / "slurm.conf")])
        for node in ("n1", "n2"):
            self._daemon(["slurmd", "-D", "-N", node, "-f", str(self.root / "slurm.conf")])
        self._wait(self._nodes_idle, "two idle slurmd nodes")

    def _daemon(self, argv: list[str]) -> None:
        log = (self.root / "log" / f"{Path(argv[0]).name}-{len(self.pids)}.out").open("wb")
        proc = subprocess.Popen(argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.pids.append(proc.pid)

    def _nodes_idle(self) -> bool:
        out = subprocess.run(["sinfo", "-h", "-o", "%T %D"], env=self.env, capture_output=True, text=True).stdout
        return out.split() == ["idle", "2"]

    def _wait(self, ready: object, what: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not ready():  # type: ignore[operator]
            if time.monotonic() > deadline:
                logs = "\n".join(p.read_text(errors="replace")[-1500:] for p in (self.root / "log").iterdir())
                raise RuntimeError(f"the test cluster did not come up ({what}):\n{logs}")
            time.sleep(0.5)

    def stop(self) -> None:
        for pid in reversed(self.pids):
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + 20
        for pid in self.pids:
            while time.monotonic() < deadline:
                try:
                    os.waitpid(pid, os.WNOHANG)
                    os.killpg(pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    break
                time.sleep(0.2)
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)


@contextmanager
def cluster(root: Path) -> Iterator[Cluster]:
    c = Cluster(root)
    try:
        c.start()
        yield c
    finally:
        c.stop()
