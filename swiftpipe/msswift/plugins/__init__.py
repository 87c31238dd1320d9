"""Files swiftpipe hands to ms-swift as `--external_plugins`, and their copies under a stage folder.

swift imports such a file by path in the stage's Python (which may lack swiftpipe), so the plugin
files import nothing of swiftpipe (this module is swiftpipe's side: it plans and writes the
copies). A stage passes a copy under its own folder, in a folder of its own (swift puts a
plugin's folder first on `sys.path`); the run's args.json names that copy and later stages
(export, deploy) import it again from there, so it stays beside the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from swiftpipe.core.fsio import atomic_write_text

FOLDER = Path(__file__).parent
DEEPSPEED_CPU_WORLD = FOLDER / "deepspeed_cpu_world.py"  # DeepSpeed without a GPU: the real world size
EXIT_CLEANLY = FOLDER / "exit_cleanly.py"  # more than one process: destroy the process group at exit


def planned(source: Path, stage_dir: Path) -> dict[str, str]:
    """Where the stage's copy of `source` goes and the source's sha256: fingerprint inputs `write` reads back."""
    from swiftpipe.engine.artifacts import sha256_file

    return {"write_to": str(stage_dir / "swift-plugins" / source.name), "plugin_sha256": sha256_file(source)}


def write(entry: dict[str, Any]) -> None:
    """Copy the plugin a `planned` entry names where it said (atomically); nothing when it names none."""
    target = entry.get("write_to")
    if not target:
        return
    atomic_write_text(Path(target), (FOLDER / Path(target).name).read_text(encoding="utf-8"))
