"""Reading a wheel's tags from its file name, and writing a wheel again with a change.

Two changes, each keeping the wheel valid (WHEEL and RECORD agree with the files):
- add a platform tag. pip's --platform is taken literally: `--platform manylinux_2_28_x86_64`
  refuses a wheel tagged only manylinux_2_17_x86_64, although by PEP 600 such a wheel runs on
  every glibc 2.28 machine; adding the newer tag states that (what `wheel tags` does).
- drop files under a folder (data a package ships for a feature the check cannot use).
The code inside is never touched.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Callable
from pathlib import Path

TARGET_PLATFORM = "manylinux_2_28_x86_64"


def split_name(whl: Path) -> tuple[str, str, str, str]:
    """(name-version[-build], python tags, abi tags, platform tags) of a wheel file name."""
    head, py, abi, plat = whl.name[: -len(".whl")].rsplit("-", 3)
    return head, py, abi, plat


def platform_tags(whl: Path) -> set[str]:
    """The platform tags a wheel's file name declares."""
    return set(split_name(whl)[3].split("."))


def is_pure(whl: Path) -> bool:
    """True for a wheel that runs on any platform (no compiled code)."""
    _, _, abi, plat = split_name(whl)
    return abi == "none" and plat == "any"


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def _rewrite(whl: Path, new: Path, edit_wheel: Callable[[str], str], keep: Callable[[str], bool]) -> Path:
    """Copy `whl` to `new` with WHEEL edited and only the files `keep` accepts; RECORD follows."""
    with zipfile.ZipFile(whl) as src, zipfile.ZipFile(new, "w", zipfile.ZIP_DEFLATED) as dst:
        wheel_file = next(n for n in src.namelist() if n.endswith(".dist-info/WHEEL") and n.count("/") == 1)
        record_file = wheel_file[: -len("WHEEL")] + "RECORD"
        wheel_text = edit_wheel(src.read(wheel_file).decode()).encode()
        for info in src.infolist():
            if not keep(info.filename):
                continue
            data = src.read(info)
            if info.filename == wheel_file:
                data = wheel_text
            elif info.filename == record_file:
                lines = []
                for line in data.decode().splitlines():
                    path = line.rsplit(",", 2)[0]
                    if keep(path):
                        lines.append(_record_line(wheel_file, wheel_text) if path == wheel_file else line)
                data = ("\n".join(lines) + "\n").encode()
            dst.writestr(info, data)
    if new != whl:
        whl.unlink()
    return new


def add_platform_tag(whl: Path, platform: str) -> Path:
    """Write `whl` again with `platform` added to its tags; the old file is removed. Returns the new path."""
    head, py, abi, plat = split_name(whl)
    extra = [f"Tag: {p}-{a}-{platform}" for p in py.split(".") for a in abi.split(".")]
    new = whl.with_name(f"{head}-{py}-{abi}-{plat}.{platform}.whl")
    return _rewrite(whl, new, lambda text: text.rstrip("\n") + "\n" + "\n".join(extra) + "\n", lambda _: True)


def drop_folder(whl: Path, folder: str) -> int:
    """Write `whl` again (same name) without the files under `folder`; returns how many were dropped."""
    with zipfile.ZipFile(whl) as zf:
        dropped = sum(1 for n in zf.namelist() if n.startswith(folder))
    tmp = whl.with_name(whl.name + ".tmp")
    _rewrite(whl, tmp, lambda text: text, lambda name: not name.startswith(folder))
    tmp.replace(whl)
    return dropped
