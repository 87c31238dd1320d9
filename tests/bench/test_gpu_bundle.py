"""bench/gpu's bundle logic, without the network: wheel tags, the machine's package list, exclusions."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

GPU = Path(__file__).parents[2] / "bench" / "gpu"


def load(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A module of bench/gpu (not a package; its scripts import each other by plain name)."""
    monkeypatch.syspath_prepend(str(GPU))
    spec = importlib.util.spec_from_file_location(name, GPU / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_wheel(folder: Path, filename: str, tags: list[str]) -> Path:
    """A minimal wheel: one module, WHEEL with `tags`, RECORD with real hashes."""
    dist = filename.split("-")[0] + "-" + filename.split("-")[1] + ".dist-info"
    files = {"pkg/__init__.py": b"VALUE = 1\n",
             f"{dist}/WHEEL": ("Wheel-Version: 1.0\nRoot-Is-Purelib: false\n"
                               + "".join(f"Tag: {t}\n" for t in tags)).encode()}
    record = [f"{p},sha256={digest(d)},{len(d)}" for p, d in files.items()] + [f"{dist}/RECORD,,"]
    path = folder / filename
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr(f"{dist}/RECORD", "\n".join(record) + "\n")
    return path


def digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def test_adding_the_target_platform_renames_and_keeps_the_record_true(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tags = load("wheels", monkeypatch)
    old = make_wheel(tmp_path, "pkg-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                     ["cp312-cp312-manylinux_2_17_x86_64", "cp312-cp312-manylinux2014_x86_64"])
    new = tags.add_platform_tag(old, "manylinux_2_28_x86_64")
    assert new.name == "pkg-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.manylinux_2_28_x86_64.whl"
    assert not old.exists()
    with zipfile.ZipFile(new) as zf:
        wheel = zf.read("pkg-1.0.dist-info/WHEEL")
        record = zf.read("pkg-1.0.dist-info/RECORD").decode().splitlines()
        assert zf.read("pkg/__init__.py") == b"VALUE = 1\n"
    assert wheel.decode().splitlines()[-3:] == ["Tag: cp312-cp312-manylinux_2_17_x86_64",
                                                "Tag: cp312-cp312-manylinux2014_x86_64",
                                                "Tag: cp312-cp312-manylinux_2_28_x86_64"]
    assert f"pkg-1.0.dist-info/WHEEL,sha256={digest(wheel)},{len(wheel)}" in record
    assert tags.platform_tags(new) == {"manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux_2_28_x86_64"}


def test_pure_wheels_are_told_from_compiled_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tags = load("wheels", monkeypatch)
    assert tags.is_pure(tmp_path / "jieba-0.42.1-py3-none-any.whl")
    assert not tags.is_pure(tmp_path / "crcmod-1.7-cp312-cp312-linux_x86_64.whl")
    # Pure, though only for one Python version (why the rehearsal on 3.11 fetches its own).
    assert tags.is_pure(tmp_path / "multiprocess-0.70.19-py312-none-any.whl")


def test_only_older_manylinux_wheels_are_tagged_and_others_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = load("bundle", monkeypatch)
    make_wheel(tmp_path, "a-1-py3-none-any.whl", ["py3-none-any"])
    make_wheel(tmp_path, "b-1-cp312-cp312-manylinux_2_28_x86_64.whl", ["cp312-cp312-manylinux_2_28_x86_64"])
    make_wheel(tmp_path, "c-1-cp310-abi3-manylinux2014_x86_64.whl", ["cp310-abi3-manylinux2014_x86_64"])
    assert bundle.tag_for_target(tmp_path) == ["c-1-cp310-abi3-manylinux2014_x86_64.manylinux_2_28_x86_64.whl"]
    assert sorted(p.name for p in tmp_path.iterdir())[:2] == ["a-1-py3-none-any.whl",
                                                             "b-1-cp312-cp312-manylinux_2_28_x86_64.whl"]
    make_wheel(tmp_path, "d-1-cp312-cp312-manylinux_2_34_x86_64.whl", ["cp312-cp312-manylinux_2_34_x86_64"])
    with pytest.raises(SystemExit, match=r"d-1-cp312-cp312-manylinux_2_34_x86_64.whl is not for manylinux x86_64"):
        bundle.tag_for_target(tmp_path)


def test_the_machine_list_pins_its_versions_and_lacks_what_the_bundle_brings(monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = load("bundle", monkeypatch)
    listed = bundle.read_list(GPU / "preinstalled.txt")
    assert {"torch==2.11.0", "transformers==5.17.0", "accelerate==1.15.0", "numpy==2.5.2"} <= set(listed)
    names = {bundle.norm(line.split("=")[0].split("<")[0].split(">")[0]) for line in listed}
    assert names.isdisjoint({"ms-swift", "trl", "datasets", "modelscope", "evalscope", "fastapi", "uvicorn"})


def test_nothing_the_check_imports_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = load("bundle", monkeypatch)
    assert all(name == bundle.norm(name) for name in bundle.NOT_NEEDED)
    core = {"ms-swift", "evalscope", "trl", "datasets", "modelscope", "peft", "swiftpipe", "fastapi", "uvicorn"}
    assert core.isdisjoint(bundle.NOT_NEEDED)


def test_dropping_a_folder_keeps_the_rest_and_the_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheels = load("wheels", monkeypatch)
    whl = make_wheel(tmp_path, "pkg-1.0-py3-none-any.whl", ["py3-none-any"])
    with zipfile.ZipFile(whl, "a") as zf:
        zf.writestr("pkg/model/weights", b"0" * 100)
        zf.writestr("pkg/model.py", b"")
    assert wheels.drop_folder(whl, "pkg/model/") == 1
    with zipfile.ZipFile(whl) as zf:
        assert sorted(zf.namelist()) == ["pkg-1.0.dist-info/RECORD", "pkg-1.0.dist-info/WHEEL",
                                         "pkg/__init__.py", "pkg/model.py"]
        record = zf.read("pkg-1.0.dist-info/RECORD").decode()
    assert "pkg/__init__.py,sha256=" in record
    assert "pkg/model/" not in record
