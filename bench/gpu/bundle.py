"""Build bench/gpu/bundle/: the wheels a bare GPU machine lacks to run the GPU check offline.

The machine brings Python 3.12 and the packages of bench/gpu/preinstalled.txt. What it lacks is
found by pip itself, in two dry runs against throwaway Python 3.12 environments whose
site-packages hold only package records (no code):
  1. torch recorded as installed, the preinstalled list resolved: the machine's whole set, with
     the versions those packages bring (torch is never downloaded);
  2. that set recorded as installed, ms-swift, evalscope and swiftpipe resolved: pip's install
     list is exactly what the machine lacks (plus anything of the set ours needs in another
     version, e.g. an older peft).
That list, less NOT_NEEDED, is downloaded as manylinux wheels for CPython 3.12; the few packages
published only as source are built here into pure-Python wheels (refused if they would be
compiled; DROPPED names data folders left out of them). Older manylinux wheels get the
manylinux_2_28 tag added (see wheels.py). bundle/requirements.txt pins the whole list; run.sh
installs it with --no-deps, so nothing outside the bundle is looked for. Over MAX_MIB, the build
fails.
"""

from __future__ import annotations

import argparse
import glob
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from wheels import TARGET_PLATFORM, add_platform_tag, drop_folder, is_pure, platform_tags

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MAX_MIB = 50
ROOTS = ["ms-swift==4.6.0", "evalscope==1.14.1"]
# The platforms a manylinux_2_28 x86_64 machine runs, newest first (PEP 600: a wheel for an
# older glibc runs on a newer one); pip's --platform takes each literally.
PLATFORMS = [TARGET_PLATFORM, *(f"manylinux_2_{m}_x86_64" for m in range(27, 16, -1)),
             "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
# Required by ms-swift or evalscope but never imported on the check's paths (swift sft with
# report_to none, swift export/deploy, evalscope general_mcq/general_qa); each was left out of
# the rehearsal, which ran those paths. Keyed by normalised name; the reason says why.
_TB = "ms-swift reads tensorboard logs only to plot them (swift/utils/tb_utils.py, inside a function)"
_OSS = "Alibaba Cloud OSS storage (oss2 and what it pulls in); nothing on these paths imports oss2"
_BLEU = "evalscope imports sacrebleu only in its WER normaliser, inside a function; lxml only sacrebleu needs"
NOT_NEEDED: dict[str, str] = {
    "tensorboard": _TB, "tensorboard-data-server": _TB, "grpcio": _TB, "werkzeug": _TB, "protobuf": _TB,
    "oss2": _OSS, "crcmod": _OSS, "aliyun-python-sdk-core": _OSS, "aliyun-python-sdk-kms": _OSS,
    "pycryptodome": _OSS, "jmespath": _OSS,
    "sacrebleu": _BLEU, "lxml": _BLEU, "portalocker": _BLEU,
    "zstandard": "optional in urllib3 and datasets (used when present); no zstd data on these paths",
    "cpm-kernels": "modelscope's GLM-130B kernels only",
    "transformers-stream-generator": "not imported by ms-swift 4.6 at all",
}
# Folders left out of wheels built here from source: (package, folder) -> why.
DROPPED = {
    ("jieba", "jieba/lac_small/model_baseline/"):
        "the model of jieba's paddle mode (11 MB), used only after jieba.enable_paddle(), which needs "
        "paddlepaddle; evalscope's Rouge uses jieba's default dictionary mode",
}


def norm(name: str) -> str:
    """A project name as pip compares them (PEP 503)."""
    return name.lower().replace("_", "-").replace(".", "-")


def read_list(path: Path) -> list[str]:
    """The requirement lines of a requirements file, comments and blanks dropped."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def find_python312() -> str:
    """A Python 3.12 for the throwaway environments: python3.12 on PATH, or pyenv's."""
    candidates = [c for c in (shutil.which("python3.12"),) if c]
    candidates += sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.12*/bin/python3.12")), reverse=True)
    for exe in candidates:
        ok = subprocess.run([exe, "-c", "import sys; assert sys.version_info[:2] == (3, 12)"],
                            capture_output=True).returncode == 0
        if ok:
            return exe
    sys.exit("gpu-bundle: no Python 3.12 found (python3.12 or ~/.pyenv/versions/3.12*): "
             "make gpu-bundle GPU_PYTHON=/path/to/python3.12")


def record_installed(env: Path, python: str, pins: dict[str, str]) -> Path:
    """A Python 3.12 venv whose site-packages records `pins` as installed (metadata only)."""
    subprocess.run([python, "-m", "venv", "--without-pip", str(env)], check=True)
    site = next(env.glob("lib/python3.12/site-packages"))
    for name, version in pins.items():
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        (info / "INSTALLER").write_text("gpu-bundle\n")
        (info / "RECORD").write_text("")
    return env / "bin" / "python"


def pip(*args: str) -> None:
    """This interpreter's pip (>= 22.3 for --python); the user's own pip configuration applies."""
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args], check=True)


def resolve(target: Path, requirements: list[str], report: Path, links: Path) -> dict[str, str]:
    """What `pip install` would install into `target`'s environment: name -> version."""
    pip("--python", str(target), "install", "--dry-run", "--quiet", "--prefer-binary", "--report", str(report),
        "--find-links", str(links), *requirements)
    return {i["metadata"]["name"]: i["metadata"]["version"] for i in json.loads(report.read_text())["install"]}


def build_swiftpipe(out: Path, scratch: Path) -> Path:
    """A wheel of swiftpipe, built from a copy of the tree (setuptools writes build/ beside it)."""
    src = scratch / "swiftpipe-src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "swiftpipe", src / "swiftpipe", ignore=shutil.ignore_patterns("__pycache__"))
    pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(src))
    return next(out.glob("swiftpipe-*.whl"))


def download(pins: dict[str, str], out: Path) -> None:
    """Binary wheels for CPython 3.12 on manylinux x86_64, exactly these versions, no dependencies."""
    platforms = [f"--platform={p}" for p in PLATFORMS]
    pip("download", "--quiet", "--no-deps", "--only-binary=:all:", "--python-version=3.12", "--implementation=cp",
        *platforms, "--dest", str(out), *(f"{n}=={v}" for n, v in sorted(pins.items())))


def build_pure(pins: dict[str, str], python: str, out: Path) -> None:
    """Wheels of the source-only packages, built with Python 3.12; each must come out pure."""
    for name, version in sorted(pins.items()):
        before = set(out.glob("*.whl"))
        subprocess.run([python, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-binary", name,
                        "--wheel-dir", str(out), f"{name}=={version}"], check=True)
        for whl in set(out.glob("*.whl")) - before:
            if not is_pure(whl):
                sys.exit(f"gpu-bundle: {whl.name} came out compiled for this machine; carry a manylinux wheel instead")
            for (package, folder), why in DROPPED.items():
                if norm(package) == norm(name):
                    print(f"  {whl.name}: left out {folder} ({drop_folder(whl, folder)} files): {why}")


def tag_for_target(bundle: Path) -> list[str]:
    """Add manylinux_2_28 to older manylinux wheels, so pip's literal platform check accepts them."""
    retagged = []
    for whl in sorted(bundle.glob("*.whl")):
        tags = platform_tags(whl)
        if "any" in tags or TARGET_PLATFORM in tags:
            continue
        if not any(t in PLATFORMS for t in tags):
            sys.exit(f"gpu-bundle: {whl.name} is not for manylinux x86_64 (tags {sorted(tags)})")
        retagged.append(add_platform_tag(whl, TARGET_PLATFORM).name)
    return retagged


def machine_set(python: str, scratch: Path) -> dict[str, str]:
    """The GPU machine's packages and versions: preinstalled.txt resolved with torch taken as given."""
    listed = read_list(HERE / "preinstalled.txt")
    torch = next(line for line in listed if norm(line.split("==")[0]) == "torch")
    env = record_installed(scratch / "machine", python, {"torch": torch.split("==")[1]})
    found = resolve(env, [line for line in listed if line != torch], scratch / "machine.json", scratch)
    return {**found, "torch": torch.split("==")[1]}


def missing_set(python: str, machine: dict[str, str], wheel: Path, scratch: Path) -> tuple[dict[str, str], set[str]]:
    """What the check needs and the machine lacks (name -> version), and which of those are source-only."""
    env = record_installed(scratch / "lacking", python, machine)
    report = scratch / "lacking.json"
    needed = resolve(env, [*ROOTS, f"swiftpipe @ {wheel.as_uri()}"], report, wheel.parent)
    source = {i["metadata"]["name"] for i in json.loads(report.read_text())["install"]
              if not i["download_info"]["url"].endswith(".whl")}
    return needed, source


def mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.iterdir() if f.is_file()) / 2**20


def build(bundle: Path, python: str) -> float:
    """Fill `bundle` (emptied first); returns its size in MiB."""
    if bundle.exists():
        shutil.rmtree(bundle)
    bundle.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="gpu-bundle-") as tmp:
        scratch = Path(tmp)
        wheel = build_swiftpipe(bundle, scratch)
        needed, source = missing_set(python, machine_set(python, scratch), wheel, scratch)
    carried = {n: v for n, v in needed.items() if norm(n) not in NOT_NEEDED and norm(n) != "swiftpipe"}
    download({n: v for n, v in carried.items() if n not in source}, bundle)
    build_pure({n: v for n, v in carried.items() if n in source}, python, bundle)
    for name in tag_for_target(bundle):
        print(f"  tagged {TARGET_PLATFORM}: {name}")
    pins = {**carried, "swiftpipe": needed["swiftpipe"]}
    (bundle / "requirements.txt").write_text(
        "# Written by bench/gpu/bundle.py: install with --no-index --no-deps.\n"
        + "".join(f"{n}=={v}\n" for n, v in sorted(pins.items(), key=lambda kv: norm(kv[0]))))
    for name, why in sorted(NOT_NEEDED.items()):
        if any(norm(n) == name for n in needed):
            print(f"  left out {name}: {why}")
    return mib(bundle)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "bundle")
    parser.add_argument("--python", help="a Python 3.12 for the resolver's environments (default: found)")
    opts = parser.parse_args()
    size = build(opts.out, opts.python or find_python312())
    count = len(list(opts.out.glob("*.whl")))
    print(f"gpu-bundle: {opts.out} holds {count} wheels, {size:.1f} MiB (limit {MAX_MIB} MiB)")
    if size > MAX_MIB:
        print(f"gpu-bundle: {size:.1f} MiB is over the {MAX_MIB} MiB limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
