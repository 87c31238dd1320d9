"""Exact token lengths: each row encoded by ms-swift's own template, as `swift sft` encodes it.

`swift sft` builds its template with `get_template(processor, template_type=..., ...)`, puts it
in train mode and keeps a row when `max(len(input_ids), len(labels)) <= max_length` (the
`truncation_strategy 'delete'` default; swift/pipelines/utils.py `_select_dataset`). Hybrid
thinking templates (qwen3) get `loss_scale 'default+ignore_empty_think'`, which splits the
response where it is tokenised, so it is set here too (TemplateArguments._set_loss_scale).
The template is built once per process (a worker builds its own) and kept; its own
max_length is lifted so that a long row is measured rather than raised on.

Most rows are measured without loading the template at all: chatml.py builds the strings the
qwen3 template tokenises and counts them in one batch; the template is loaded (once per
process) only for the first row that it cannot follow.

`choose` decides between these lengths and the estimate (tokens.py): `--exact` insists,
`--no-exact` refuses, and without either they are used when there is a limit to check, ms-swift
is importable and the tokenizer directory is a model (it holds config.json).
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from swiftpipe.core import console
from swiftpipe.core.errors import UserError
from swiftpipe.data.rows.chatml import qwen3_lengths
from swiftpipe.data.rows.messages import Message
from swiftpipe.data.rows.tokens import TokenCounter, count_within

if TYPE_CHECKING:
    from swiftpipe.data.rows.row import Settings

_TEMPLATES: dict[tuple[str, str | None, str | None], Any] = {}


class Counter(Protocol):
    """What the converter asks of a length counter."""

    exact: bool

    def count(self, rows: list[tuple[list[Message], str | None]]) -> list[int]:
        """Token lengths in order; a negative -n: at least n tokens, above max_length, not counted."""
        ...


def length_counter(settings: Settings) -> Counter:
    """The counter `settings` asks for: exact lengths, or the estimate."""
    assert settings.tokenizer is not None
    if settings.exact:
        return ExactCounter(settings.tokenizer, settings.template, settings.model_type, settings.max_length)
    return TokenCounter(settings.tokenizer, settings.max_length)


def is_model_dir(path: Path) -> bool:
    """True for a directory ms-swift can load a processor from (it has config.json)."""
    return (path / "config.json").is_file()


def choose(
    exact: bool | None, tokenizer: Path | None, max_length: int | None, template: str | None, model_type: str | None
) -> bool:
    """Whether lengths are exact: `exact` as given (None: decide), loading the template to be sure
    unless chatml.py follows it (then its files are checked instead)."""
    if exact is False or tokenizer is None:
        return False
    if exact is None:
        if max_length is None or not is_model_dir(tokenizer) or importlib.util.find_spec("swift") is None:
            return False
        if qwen3_lengths(tokenizer, template) is not None:
            return True
        try:
            load_template(tokenizer, template, model_type)
        except UserError as err:
            console.notice(f"token lengths are estimated, not exact: {str(err).removeprefix('--exact: ')}")
            return False
        return True
    if qwen3_lengths(tokenizer, template) is None or not is_model_dir(tokenizer):
        load_template(tokenizer, template, model_type)
    return True


class ExactCounter:
    """Token lengths of (messages, tools) pairs as ms-swift's template counts them.

    Rows chatml.py can follow are counted there, in one batch; the rest by ms-swift's template,
    which is loaded only when the first such row comes (and kept, across the blocks a worker
    converts).
    """

    exact = True

    def __init__(
        self, model: Path, template: str | None, model_type: str | None, max_length: int | None = None
    ) -> None:
        self._model, self._template_name, self._model_type = model, template, model_type
        self._fast = qwen3_lengths(model, template)
        self._template: Any = None if self._fast is not None else load_template(model, template, model_type)
        self._estimate = TokenCounter(model)
        self._limit = max_length

    def count(self, rows: list[tuple[list[Message], str | None]]) -> list[int]:
        """The lengths `swift sft` compares with max_length, in order (see `Counter.count`)."""
        return count_within(rows, self._limit, self._estimate.longest, self._count)

    def _count(self, rows: list[tuple[list[Message], str | None]]) -> list[int]:
        fast = self._fast
        if fast is None:
            return [self._encode(messages, tools) for messages, tools in rows]
        found = fast.count([fast.pieces(messages) if tools is None else None for messages, tools in rows])
        return [self._encode(*row) if n is None else n for row, n in zip(rows, found, strict=True)]

    def _encode(self, messages: list[Message], tools: str | None) -> int:
        if self._template is None:
            self._template = load_template(self._model, self._template_name, self._model_type)
        # Copies: the template may change what it is given.
        row: dict[str, Any] = {"messages": [dict(m) for m in messages]}
        if tools is not None:
            row["tools"] = tools
        try:
            encoded = self._template.encode(row)
        except Exception:  # a row the template cannot encode still gets a (high) length
            return self._estimate.count([(messages, tools)])[0]
        return max(len(encoded["input_ids"]), len(encoded.get("labels") or ()))


def load_template(model: Path, template: str | None, model_type: str | None) -> Any:
    """ms-swift's train-mode template for `model` (built once per process), or a UserError."""
    key = (str(model), template, model_type)
    if key not in _TEMPLATES:
        _TEMPLATES[key] = _build(model, template, model_type)
    return _TEMPLATES[key]


def _build(model: Path, template: str | None, model_type: str | None) -> Any:
    if importlib.util.find_spec("swift") is None:
        raise UserError("--exact: ms-swift is not installed here; install ms-swift, or pass --no-exact to estimate")
    if not is_model_dir(model):
        raise UserError(f"--exact: {model} has no config.json for ms-swift to load; pass the model directory")
    from swift.model import get_processor  # type: ignore[import-untyped]
    from swift.template import get_template, get_template_meta  # type: ignore[import-untyped]

    # Set after the import, which sets swift's level: a load logs a dozen lines per process.
    quiet = [logging.getLogger(name) for name in ("swift", "transformers")]
    levels = [log.level for log in quiet]
    for log in quiet:
        log.setLevel(logging.ERROR)
    try:
        processor = get_processor(str(model), model_type=model_type, download_model=False)
        meta = get_template_meta(processor.model_info, processor.model_meta, template_type=template)
        hybrid = meta.is_thinking and bool(meta.non_thinking_prefix)
        built = get_template(
            processor,
            template_type=meta.template_type,
            loss_scale="default+ignore_empty_think" if hybrid else "default",
        )
    except Exception as exc:  # ms-swift and transformers raise many types here
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0].split(" See documentation")[0]
        raise UserError(
            f"--exact: cannot load ms-swift's template for {model} ({first}); "
            "pass --template NAME and --model-type NAME, or --no-exact to estimate"
        ) from None
    finally:
        for log, level in zip(quiet, levels, strict=True):
            log.setLevel(level)
    built.set_mode("train")
    built.max_length = None  # measure every row; the caller compares with max_length
    return built
