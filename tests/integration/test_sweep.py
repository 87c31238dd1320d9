"""examples/sweep.yaml run for real on the tiny model: four LoRA variants trained, merged, served and
evaluated, the base evaluated once, the best picked by general_mcq accuracy and served.

Steps, rows and eval samples are cut to the least that still trains, merges and scores, so the four
variants fit CI's two cores."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from swiftpipe.core import host
from swiftpipe.engine.manifest import Manifest, load_manifest
from swiftpipe.engine.outputs import Selection
from swiftpipe.serving.server import served_models
from tests.integration.tiny import swiftpipe

pytestmark = pytest.mark.integration

REPO = Path(__file__).parent.parent.parent
VARIANTS = ("lr1e-2-r4", "lr1e-2-r8", "lr2e-2-r4", "lr2e-2-r8")
CHEAP = ["stages.sft.args.max_steps=2", "stages.sft.args.save_steps=2", "stages.sft.args.eval_steps=2",
         "stages.sft.args.logging_steps=1", "stages.eval.limit=2",
         "stages.sft.args.gradient_accumulation_steps=1", "stages.eval.generation_config.max_tokens=4"]


def consecutive_ports(count: int) -> int:
    """A port p with p .. p+count-1 all free now (the copies of a deploy stage listen on port + 0, 1, ...)."""
    for _ in range(50):
        base = host.free_port()
        if base + count > 65535:
            continue
        try:
            for port in range(base + 1, base + count):
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise AssertionError(f"no {count} consecutive free ports")


def test_sweep_example_trains_four_variants_selects_the_best_and_serves_it(tmp_path: Path,
                                                                            tiny_model: Path) -> None:
    work = tmp_path / "run"
    sets = [f"workdir={work}", *CHEAP, f"stages.deploy.port={consecutive_ports(4)}",
            f"stages.serve.port={host.free_port()}"]
    args = [a for s in sets for a in ("--set", s)]
    example = str(REPO / "examples" / "sweep.yaml")
    env = {"SWIFTPIPE_MODEL": str(tiny_model)}
    try:
        done = swiftpipe("run", example, *args, "--name", "grid", cwd=tmp_path, env=env, timeout=1500)
        assert done.returncode == 0, done.stderr[-4000:]
        manifest = load_manifest(work)
        assert manifest is not None
        # serve is what the pipeline ends in, so it stays up after the run: the winner, served
        served = manifest.stages["serve"].outputs
        assert served_models(served["api_url"]) == ["sweep-serve"]
        check_the_pick(work, manifest)
        more = swiftpipe("plan", example, *args, "--sweep", "stages.sft.args.learning_rate=1e-2,2e-2,3e-2",
                         cwd=tmp_path, env=env)  # a third learning rate: only its two variants would run
        assert more.returncode == 0, more.stderr
        for variant in VARIANTS:
            assert f"\nsft-{variant}: skip (" in more.stdout and f"\neval-{variant}: skip (" in more.stdout
        for variant in ("lr3e-2-r4", "lr3e-2-r8"):
            assert f"\nsft-{variant}: run (" in more.stdout
        listed = swiftpipe("exps", "list", example, "--json", *args, cwd=tmp_path, env=env)
        assert listed.returncode == 0, listed.stderr
        [row] = json.loads(listed.stdout)
        assert (row["name"], row["metrics"]["best.winner"]) == ("grid", served_by(manifest))
    finally:
        stopped = swiftpipe("stop", example, *args, cwd=tmp_path, env=env)
        assert stopped.returncode == 0, stopped.stderr


def served_by(manifest: Manifest) -> str:
    return str(manifest.stages["best"].outputs["winner"])


def check_the_pick(work: Path, manifest: Manifest) -> None:
    """Every variant ran, the base once; the best accuracy won (the first among equals) and is served."""
    ran = {n for n, r in manifest.stages.items() if str(r.status) == "succeeded"}
    for stage in ("sft", "export", "deploy", "eval"):
        assert {f"{stage}-{v}" for v in VARIANTS} <= ran
    assert {"data", "eval-base", "best", "serve"} <= ran
    assert [n for n in manifest.stages if n.endswith("-base")] == ["eval-base"]
    picked = Selection.from_dict(manifest.stages["best"].outputs)
    values = picked.candidates
    assert list(values) == [f"eval-{v}" for v in VARIANTS]
    best = max(v for v in values.values() if v is not None)
    first = next(n for n, v in values.items() if v == best)
    scores = {n: manifest.stages[n].outputs["scores"]["general_mcq"]["accuracy:mean"] for n in values}
    assert scores == values
    assert (picked.winner, picked.value, picked.metric) == (first, best, "general_mcq.accuracy")
    assert picked.variant == first.removeprefix("eval-")
    assert picked.model_stage == f"export-{picked.variant}"
    assert picked.model_dir == manifest.stages[picked.model_stage].outputs["model_dir"]
    assert manifest.stages["serve"].outputs["model"] == picked.model_dir
    assert json.loads((work / "best" / "selection.json").read_text())["winner"] == picked.winner
