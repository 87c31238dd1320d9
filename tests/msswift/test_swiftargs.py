"""Argument names are checked against the installed ms-swift, read from its source."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from swiftpipe.errors import UserError
from swiftpipe.msswift import swiftargs

SWIFT = str(Path(sys.executable).parent / "swift")


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_field_names_are_annotated_class_attributes(tmp_path: Path) -> None:
    src = tmp_path / "args.py"
    src.write_text("from dataclasses import dataclass\n@dataclass\nclass A:\n    lr: float = 1.0\n"
                   "    steps: int = 2\n    def f(self) -> None:\n        x: int = 1\n")
    assert swiftargs.field_names([src]) == {"lr", "steps"}


def test_the_installed_swift_accepts_the_usual_arguments() -> None:
    args = {"learning_rate": 1e-4, "tuner_type": "lora", "lora_rank": 8, "max_steps": 10, "deepspeed": "zero2",
            "report_to": "none", "swanlab_project": "p", "lmdeploy_session_len": 8192, "merge_lora": True}
    swiftargs.check(SWIFT, args, "pipeline.yaml › stages.sft")


def test_a_prefix_that_swift_would_accept_silently_is_refused() -> None:
    with pytest.raises(UserError) as info:
        swiftargs.check(SWIFT, {"lora_r": 4, "lerning_rate": 1e-3}, "pipeline.yaml › stages.sft")
    version = swiftargs.known_arguments(SWIFT)
    assert version is not None
    assert str(info.value).splitlines() == [
        f"pipeline.yaml › stages.sft.args.lora_r: not an argument of ms-swift {version[0]}; "
        "swift would silently read it as 'lora_rank', write that",
        f"pipeline.yaml › stages.sft.args.lerning_rate: not an argument of ms-swift {version[0]}; "
        "did you mean 'learning_rate'?",
    ]


def test_the_result_is_cached_per_installation(monkeypatch: pytest.MonkeyPatch) -> None:
    first = swiftargs.known_arguments(SWIFT)
    monkeypatch.setattr(swiftargs, "_scan", lambda python: pytest.fail("scanned again"))
    assert swiftargs.known_arguments(SWIFT) == first


def test_a_swift_that_is_not_a_python_script_is_not_checked(tmp_path: Path) -> None:
    fake = tmp_path / "swift"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    assert swiftargs.known_arguments(str(fake)) is None
    swiftargs.check(str(fake), {"anything": 1}, "p")


def test_swift_is_installed_beside_the_tests() -> None:
    assert shutil.which("swift", path=str(Path(sys.executable).parent)) == SWIFT
