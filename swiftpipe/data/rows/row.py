"""One row -> its messages, tools and the fields beside them (rejected answer, label, media).

The per-row decisions that depend on what the data is for: `purpose` sft rejects preference
and KTO rows (`preference_data`); rlhf keeps only them (`not_preference`). Then the system
prompt (or `system_template`), the turn order, media (media.py) and placeholders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swiftpipe.data.reading.read import MAX_ROW_BYTES
from swiftpipe.data.reject import Reject, type_name
from swiftpipe.data.rows import placeholders
from swiftpipe.data.rows.formats import normalise_tools
from swiftpipe.data.rows.media import has_media, row_media, take_media
from swiftpipe.data.rows.messages import Message, add_system_line, with_system
from swiftpipe.data.rows.preference import SFT_MESSAGE, is_kto, is_preference, label, split
from swiftpipe.data.rows.systemline import render, template_fields
from swiftpipe.data.rows.text import check_text_turns
from swiftpipe.data.rows.validate import check_turns

PURPOSES = ("sft", "rlhf")
PLACEHOLDER = "_placeholder"  # set in extras, counted and removed before the row is written
NOT_PREFERENCE = (
    "no rejected answer (chosen/rejected, rejected_response) and no KTO label; "
    "rlhf needs one; feed plain conversations to an sft stage"
)


@dataclass(frozen=True)
class Settings:
    """The run-wide options the per-row work needs (sent once to each worker)."""

    system: str | None = None  # the system prompt for rows that have none
    dedupe: bool = False
    val_ratio: float = 0.0
    seed: int = 42  # of the train/validation split (split.py)
    tokenizer: Path | None = None  # a model folder with tokenizer.json: token lengths are counted
    max_length: int | None = None
    # sft: preference rows are rejected; rlhf: only preference (or KTO) rows are kept.
    purpose: str = "sft"
    multimodal: bool = True  # False: rows with images/audios/videos are rejected
    strict: bool = False  # reject rows holding a {{placeholder}} instead of counting them
    system_template: str | None = None  # a system line from row fields (systemline.py)
    # Token lengths from ms-swift's own template (exact.py) instead of the estimate (tokens.py).
    exact: bool = False
    template: str | None = None  # ms-swift --template / --model_type for the exact lengths
    model_type: str | None = None
    media_root: Path | None = None  # media paths must lie in it (None: in the dataset file's folder)
    max_row_bytes: int = MAX_ROW_BYTES  # a longer JSON Lines row is rejected unread (reading/read.py)


class RowConverter:
    """`convert(row, ...)`: the general path's work on one row; holds only run-wide state."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        template = settings.system_template
        self._template_fields = template_fields(template, "--system-template") if template else []
        self._base: Path | None = None

    def convert(
        self, row: object, normalise: Callable[[dict[str, Any]], list[Message]], text: bool, base: Path | None
    ) -> tuple[list[Message], str | None, dict[str, Any]]:
        """The row's messages, tools and the further fields of its output line (`extras`, in
        output order; `PLACEHOLDER` marks a row holding a placeholder); or raise `Reject`.
        `base`: the dataset file's folder, which relative media paths are read from."""
        self._base = base
        if type(row) is not dict:
            raise Reject("not_an_object", f"the row is {type_name(row)}, expected an object")
        preference = is_preference(row)
        if self._settings.purpose == "sft" and (preference or is_kto(row)):
            raise Reject("preference_data", SFT_MESSAGE)
        messages, extras = split(row, normalise) if preference else (normalise(row), {})
        if text:  # pretraining text: no system prompt, tools or turn order (text.py)
            check_text_turns(messages)
            return messages, None, self._finish(row, messages, extras)
        for turns in (messages, extras.get("rejected_messages")):
            if turns is not None:
                self._system(row, turns)
                check_turns(turns)
        if self._settings.purpose == "rlhf":
            if "label" in row:
                extras["label"] = label(row)
            elif not preference:
                raise Reject("not_preference", NOT_PREFERENCE)
        return messages, normalise_tools(row) if "tools" in row else None, self._finish(row, messages, extras)

    def _system(self, row: dict[str, Any], messages: list[Message]) -> None:
        s = self._settings
        if not self._template_fields:
            with_system(messages, row.get("system", s.system), row.get("reasoning_language"))
            return
        with_system(messages, row.get("system", s.system), None)
        assert s.system_template is not None
        line = render(s.system_template, self._template_fields, row)
        if line is not None:
            add_system_line(messages, line)

    def _finish(self, row: dict[str, Any], messages: list[Message], extras: dict[str, Any]) -> dict[str, Any]:
        """`extras` with the row's media and the placeholder mark."""
        parts = take_media(messages)
        rejected = extras.get("rejected_messages")
        if rejected is not None:
            parts += take_media(rejected)  # the prompt's turns are shared: their media are taken once
        if parts or has_media(row):
            s = self._settings
            extras.update(row_media(row, messages, parts, self._base, s.multimodal, s.media_root))
        if placeholders.check(messages + (rejected or []), self._settings.strict):
            extras[PLACEHOLDER] = True
        return extras
