"""Images, audios and videos: kept with the row, checked, or rejected for a text-only model.

ms-swift's standard format carries media as row-level `images` / `audios` / `videos` lists
whose entries match, in order, the `<image>` / `<audio>` / `<video>` tags in the text. A row
brings them as those lists (a path, a list of paths, or objects with `path`/`url`), or as
typed content parts (parts.py), or both. Local paths are made absolute, relative to the
dataset file's folder, and must name an existing file inside that folder (or inside the
data option `media_root`), symlinks resolved: a row naming `/etc/shadow`, `~/.ssh/id_rsa`
or `../../x` must not have that file read into training (`media_outside`). URLs
(`http(s)://`, `data:`) are kept as they are. When the model takes text only (`multimodal: false`), a row that lists
media is rejected, never written with its media dropped and its tags left as literal text.
Tags in a row that lists no media at all are left alone: to a text-only model they are text.
Media listed with no tag at all get their tags before the first user turn's text, where
ms-swift would put them; some tags, but not one per file, is `media_count`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from swiftpipe.data.reject import Reject, type_name
from swiftpipe.data.rows.messages import MEDIA_KEY, Message
from swiftpipe.data.rows.roles import USER

FIELDS = {"image": "images", "audio": "audios", "video": "videos"}
URL_PREFIXES = ("http://", "https://", "data:", "s3://", "oss://")


def has_media(row: dict[str, Any]) -> bool:
    """True when the row has any of the media fields (even an empty one)."""
    return "images" in row or "audios" in row or "videos" in row


def take_media(messages: list[Message]) -> list[tuple[str, str]]:
    """The media that typed content parts left on the turns, in order; removed from the turns."""
    found: list[tuple[str, str]] = []
    for message in messages:
        if MEDIA_KEY in message:
            found.extend(message.pop(MEDIA_KEY))
    return found


def row_media(
    row: dict[str, Any], messages: list[Message], parts: list[tuple[str, str]], base: Path | None, allowed: bool,
    media_root: Path | None = None,
) -> dict[str, list[str]]:
    """The row's media fields as ms-swift reads them, or raise `Reject`.

    `base`: the dataset file's folder; relative paths start there, and every path must lie in
    it, or in `media_root` when that is given."""
    root = _real(media_root if media_root is not None else base if base is not None else Path.cwd())
    out: dict[str, list[str]] = {}
    for kind, name in FIELDS.items():
        listed = _listed(row, name) + [ref for k, ref in parts if k == kind]
        if not listed:
            continue
        if not allowed:
            raise Reject(
                "multimodal_unsupported",
                f"the row lists {len(listed)} file(s) under '{name}', but the model takes text only; "
                "use a multimodal model (or set the data option multimodal: true)",
            )
        tag = f"<{kind}>"
        tags = sum(m["content"].count(tag) for m in messages)
        if tags == 0:
            _tag_first_user_turn(messages, tag * len(listed))
        elif tags != len(listed):
            raise Reject(
                "media_count",
                f"{tags} {tag} tag(s) in the text but {len(listed)} {name} listed; give one {tag} per file",
            )
        out[name] = [_resolve(ref, base, root, name, i) for i, ref in enumerate(listed)]
    return out


def _tag_first_user_turn(messages: list[Message], tags: str) -> None:
    """Untagged media go before the first user turn's text: where ms-swift's templates put them
    (`Template._add_default_tags`), written out so the row says what will be trained."""
    for message in messages:
        if message["role"] == USER:
            message["content"] = tags + message["content"]
            return


def _listed(row: dict[str, Any], name: str) -> list[str]:
    value = row.get(name)
    if value is None or value == "":
        return []
    items = value if type(value) is list else [value]
    refs: list[str] = []
    for i, item in enumerate(items):
        if type(item) is dict:
            item = item.get("path", item.get("url"))
        if type(item) is not str or not item.strip():
            raise Reject("bad_field", f"'{name}' item {i}: is {type_name(item)}, expected a path or URL")
        refs.append(item)
    return refs


def _resolve(ref: str, base: Path | None, root: Path, name: str, index: int) -> str:
    if ref.startswith(URL_PREFIXES):
        return ref
    path = Path(ref).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    path = path.absolute()
    # Confined first, so a row learns nothing about files outside (not even whether they exist).
    if not _real(path).is_relative_to(root):
        raise Reject("media_outside", f"'{name}' item {index}: {ref} lies outside {root}; keep media files "
                                      "under the dataset's folder or set the data option media_root")
    if not path.is_file():
        raise Reject("missing_media", f"'{name}' item {index}: {path}: no such file; check the path")
    return str(path)


def _real(path: Path) -> Path:
    """`path` with every symlink and `..` resolved, as far as it exists."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: compared as written, and then not a file
        return path.absolute()
