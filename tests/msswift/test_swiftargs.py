"""Argument names and values are checked against the installed ms-swift, read from its source."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.msswift import swiftargs

SWIFT = str(Path(sys.executable).parent / "swift")
MAKE_SCRIPT = ("import sys\nfrom pip._vendor.distlib.scripts import ScriptMaker\n"
               "ScriptMaker(None, sys.argv[1]).make('swift = swift.cli.main:cli_main')")
TRAMPOLINE = "#!/bin/sh\n'''exec' "  # how pip's script starts when #!<python> cannot be used


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_the_installed_swift_accepts_the_usual_arguments() -> None:
    args = {"learning_rate": 1e-4, "tuner_type": "lora", "lora_rank": 8, "max_steps": 10, "deepspeed": "zero2",
            "report_to": "none", "swanlab_project": "p", "lmdeploy_session_len": 8192, "merge_lora": True,
            "eval_strategy": "no", "target_modules": "all-linear", "torch_dtype": "float32", "quant_bits": 4,
            "lr_scheduler_kwargs": {"min_lr": 0}, "warmup_ratio": "0.05", "gradient_checkpointing": "true"}
    swiftargs.check(SWIFT, args, "pipeline.yaml › stages.sft")


def test_a_prefix_that_swift_would_accept_silently_is_refused() -> None:
    with pytest.raises(UserError) as info:
        swiftargs.check(SWIFT, {"lora_r": 4, "lerning_rate": 1e-3}, "pipeline.yaml › stages.sft")
    known = swiftargs.known_arguments(SWIFT)
    assert known is not None
    assert str(info.value).splitlines() == [
        f"pipeline.yaml › stages.sft.args.lora_r: not an argument of ms-swift {known.version}; "
        "swift would silently read it as 'lora_rank', write that",
        f"pipeline.yaml › stages.sft.args.lerning_rate: not an argument of ms-swift {known.version}; "
        "did you mean 'learning_rate'?",
    ]


def test_values_are_checked_against_the_installed_types_and_choices() -> None:
    args = {"eval_strategy": False, "save_strategy": "steps", "torch_dtype": "fp32", "max_steps": "ten",
            "max_length": 1024.0, "lora_rank": [4, 8], "bf16": "maybe", "seed": True, "padding_side": True,
            "quant_bits": 4, "report_to": ["none"], "run_name": False}
    with pytest.raises(UserError) as info:
        swiftargs.check(SWIFT, args, "pipeline.yaml › stages.sft")
    assert str(info.value).splitlines() == [
        "pipeline.yaml › stages.sft.args.eval_strategy: YAML reads no as false, but swift wants one of no, steps, "
        "epoch; quote it: eval_strategy: 'no'",
        "pipeline.yaml › stages.sft.args.torch_dtype: 'fp32' is not one of swift's choices: "
        "bfloat16, float16, float32, None",
        "pipeline.yaml › stages.sft.args.max_steps: swift wants an integer, got 'ten'",
        "pipeline.yaml › stages.sft.args.max_length: swift wants an integer; write 1024",
        "pipeline.yaml › stages.sft.args.lora_rank: swift takes one value here, got a list of 2",
        "pipeline.yaml › stages.sft.args.bf16: swift wants true or false, got 'maybe'",
        "pipeline.yaml › stages.sft.args.seed: swift wants an integer, got true",
        "pipeline.yaml › stages.sft.args.padding_side: YAML reads this as true, but swift wants one of left, right",
        "pipeline.yaml › stages.sft.args.run_name: YAML reads an unquoted yes/no/on/off/true/false as a boolean "
        "(false), but swift wants text here; quote the value",
    ]


def test_the_result_is_cached_per_installation(monkeypatch: pytest.MonkeyPatch) -> None:
    swiftargs.forget()  # as a new run starts: read the sources (and write the cache file) once
    first = swiftargs.known_arguments(SWIFT)
    monkeypatch.setattr(swiftargs, "_read", lambda roots, files: pytest.fail("read again"))
    assert swiftargs.known_arguments(SWIFT) is first  # in this run, remembered
    swiftargs.forget()
    assert swiftargs.known_arguments(SWIFT) == first  # a later run reads the cache file, not the sources


def fake_packages(site: Path, field: str) -> None:
    """swift and transformers packages whose one argument dataclass declares just `field`."""
    for package in ("swift/arguments", "transformers"):
        (site / package).mkdir(parents=True, exist_ok=True)
    for init in ("swift/__init__.py", "swift/arguments/__init__.py", "transformers/__init__.py"):
        (site / init).write_text("")
    (site / "swift" / "version.py").write_text("__version__ = '9.9.9'\n")
    (site / "swift" / "arguments" / "args.py").write_text(f"class A:\n    {field}: float = 1.0\n")


def test_a_changed_installation_behind_the_same_paths_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    fake_packages(site, "lr")
    monkeypatch.setenv("PYTHONPATH", str(site))  # the fake packages come before the installed ones
    program = tmp_path / "swift"
    program.write_text(f"#!{sys.executable}\nimport sys\n")
    program.chmod(0o755)
    known = swiftargs.known_arguments(str(program))
    assert known is not None and known.names == {"lr"}
    args_file = site / "swift" / "arguments" / "args.py"
    before = args_file.stat()
    fake_packages(site, "wd")  # same paths, same size, same script; the mtime is put back too
    os.utime(args_file, ns=(before.st_atime_ns, before.st_mtime_ns))
    swiftargs.forget()  # a later run: within one run an installation is read once
    known = swiftargs.known_arguments(str(program))
    assert known is not None and (known.version, known.names) == ("9.9.9", {"wd"})
    with pytest.raises(UserError) as info:
        swiftargs.check(str(program), {"lr": 1}, "p")
    assert str(info.value) == "p.args.lr: not an argument of ms-swift 9.9.9"


@pytest.mark.parametrize("folder", ["venv with space", "v" * 130])
def test_names_are_checked_when_pip_wrote_its_sh_trampoline(tmp_path: Path, folder: str) -> None:
    """pip writes #!/bin/sh and an exec line for a venv whose path has a space or passes 127 bytes."""
    pytest.importorskip("pip._vendor.distlib.scripts")
    venv_dir = tmp_path / folder
    venv.create(venv_dir, with_pip=False, symlinks=True)
    site = next((venv_dir / "lib").glob("python*/site-packages"))
    (site / "installed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # this venv's ms-swift
    # pip's own script writer, run by the new venv's Python as `pip install` would run it there.
    subprocess.run([venv_dir / "bin" / "python", "-c", MAKE_SCRIPT, venv_dir / "bin"], check=True)
    program = venv_dir / "bin" / "swift"
    assert program.read_text().startswith(TRAMPOLINE)
    with pytest.raises(UserError) as info:
        swiftargs.check(str(program), {"hos": "0.0.0.0"}, "p")
    known = swiftargs.known_arguments(str(program))
    assert known is not None
    assert str(info.value) == (f"p.args.hos: not an argument of ms-swift {known.version}; "
                               "swift would silently read it as 'host', write that")


def test_a_swift_that_is_not_a_python_script_is_not_checked(tmp_path: Path) -> None:
    fake = tmp_path / "swift"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    assert swiftargs.known_arguments(str(fake)) is None
    swiftargs.check(str(fake), {"anything": 1}, "p")


def test_swift_is_installed_beside_the_tests() -> None:
    assert shutil.which("swift", path=str(Path(sys.executable).parent)) == SWIFT
