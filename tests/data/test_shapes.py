"""Row shapes that carry more than turns: preference pairs, KTO labels, media, typed parts,
CSV, placeholders, system templates; each kept with its meaning or rejected with its reason."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.data.convert import ConvertResult, run
from swiftpipe.data.modality import is_multimodal
from tests.data.conftest import DATASETS, convert_options

Write = Callable[..., Path]
PROMPT = [{"from": "human", "value": "Which pot?"}]


def convert(tmp_path: Path, *inputs: Path, **kw: Any) -> ConvertResult:
    kw.setdefault("max_reject_ratio", 1.0)
    return run(convert_options(inputs, tmp_path / "out.jsonl", **kw))


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def only_reject(tmp_path: Path, write: Write, row: dict[str, Any], **kw: Any) -> tuple[str, str]:
    result = convert(tmp_path, write([row]), **kw)
    assert result.rejected == 1, rows(tmp_path / "out.jsonl") if (tmp_path / "out.jsonl").exists() else None
    reject = rows(tmp_path / "rej.jsonl")[0]
    return reject["reason"], reject["message"]


def only_row(tmp_path: Path, write: Write, row: dict[str, Any], **kw: Any) -> dict[str, Any]:
    result = convert(tmp_path, write([row]), **kw)
    assert result.train == 1, rows(tmp_path / "rej.jsonl")
    return rows(tmp_path / "out.jsonl")[0]


# -- preference rows ------------------------------------------------------------------------

SHAREGPT_DPO = {"conversations": PROMPT, "chosen": {"from": "gpt", "value": "A clay one."},
                "rejected": {"from": "gpt", "value": "Any."}}
WANT_DPO = {"messages": [{"role": "user", "content": "Which pot?"}, {"role": "assistant", "content": "A clay one."}],
            "rejected_response": "Any."}


def test_preference_rows_are_rejected_for_sft_with_a_reason_that_names_them(tmp_path: Path, write_jsonl: Write) -> None:
    for row in (SHAREGPT_DPO, {"messages": WANT_DPO["messages"], "label": False}):
        assert only_reject(tmp_path, write_jsonl, row) == (
            "preference_data", "preference data: not an sft format; feed it to an rlhf stage")


@pytest.mark.parametrize(
    "row",
    [
        SHAREGPT_DPO,
        {"messages": [{"role": "user", "content": "Which pot?"}], "chosen": "A clay one.", "rejected": "Any."},
        {"prompt": "Which pot?", "chosen": [{"role": "assistant", "content": "A clay one."}],
         "rejected": [{"role": "assistant", "content": "Any."}]},
        {"chosen": [{"role": "user", "content": "Which pot?"}, {"role": "assistant", "content": "A clay one."}],
         "rejected": [{"role": "user", "content": "Which pot?"}, {"role": "assistant", "content": "Any."}]},
        WANT_DPO,
    ],
    ids=["sharegpt", "openai", "trl", "whole-conversations", "ms-swift"],
)
def test_preference_shapes_become_messages_and_rejected_response(
    tmp_path: Path, write_jsonl: Write, row: dict[str, Any]
) -> None:
    assert only_row(tmp_path, write_jsonl, row, purpose="rlhf") == WANT_DPO


def test_a_rejected_conversation_that_differs_earlier_becomes_rejected_messages(
    tmp_path: Path, write_jsonl: Write
) -> None:
    row = {"prompt": "Which pot?", "chosen": "A clay one.",
           "rejected": [{"role": "assistant", "content": "Hm?"}, {"role": "user", "content": "Pots!"},
                        {"role": "assistant", "content": "Any."}]}
    out = only_row(tmp_path, write_jsonl, row, purpose="rlhf", system="Be kind.")
    assert out["messages"][0] == {"role": "system", "content": "Be kind."}
    assert [m["content"] for m in out["rejected_messages"]] == ["Be kind.", "Which pot?", "Hm?", "Pots!", "Any."]


@pytest.mark.parametrize(
    ("row", "reason", "message"),
    [
        ({"conversations": PROMPT, "chosen": {"from": "gpt", "value": "A."}}, "missing_field",
         "'chosen' without 'rejected'; a preference row needs both"),
        ({"conversations": PROMPT, "chosen": "Same.", "rejected": "Same."}, "bad_field",
         "'chosen' and 'rejected' are the same answer"),
        ({**WANT_DPO, "rejected_response": "A clay one."}, "bad_field",
         "'rejected_response' is the same as the chosen answer"),
        ({"conversations": PROMPT, "chosen": "A.", "rejected": "  "}, "empty_content",
         "turn 2 (assistant): content is empty"),
        ({"messages": WANT_DPO["messages"]}, "not_preference",
         "no rejected answer (chosen/rejected, rejected_response) and no KTO label; rlhf needs one; "
         "feed plain conversations to an sft stage"),
        ({"messages": WANT_DPO["messages"], "label": "no"}, "bad_field",
         "'label' is string 'no', expected true or false"),
    ],
)
def test_bad_preference_rows_name_what_is_wrong(
    tmp_path: Path, write_jsonl: Write, row: dict[str, Any], reason: str, message: str
) -> None:
    assert only_reject(tmp_path, write_jsonl, row, purpose="rlhf") == (reason, message)


def test_a_label_that_is_not_kto_s_is_no_preference_data(tmp_path: Path, write_jsonl: Write) -> None:
    assert only_row(tmp_path, write_jsonl, {"messages": WANT_DPO["messages"], "label": "gardening"}) == {
        "messages": WANT_DPO["messages"]}


def test_kto_rows_keep_their_label(tmp_path: Path, write_jsonl: Write) -> None:
    kto = [{"messages": WANT_DPO["messages"], "label": False}, {"messages": WANT_DPO["messages"], "label": 1}]
    result = convert(tmp_path, write_jsonl(kto), purpose="rlhf")
    assert result.train == 2
    assert [r["label"] for r in rows(tmp_path / "out.jsonl")] == [False, True]


def test_the_preference_stand_in_converts_whole_for_rlhf(tmp_path: Path) -> None:
    result = convert(tmp_path, DATASETS / "preference.dpo.jsonl", purpose="rlhf", dedupe=True)
    assert (result.rows_in, result.train, result.rejected) == (16, 16, 0)
    assert all(set(r) == {"messages", "rejected_response"} for r in rows(tmp_path / "out.jsonl"))


# -- media ----------------------------------------------------------------------------------

TURNS: list[dict[str, Any]] = [{"role": "user", "content": "<image>What is this?"},
                               {"role": "assistant", "content": "A fern."}]
IMAGE_ROW: dict[str, Any] = {"messages": TURNS, "images": ["img/fern.png"]}


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "img" / "fern.png"
    path.parent.mkdir()
    path.write_bytes(b"\x89PNG")
    return path


def test_media_are_kept_with_paths_made_absolute(tmp_path: Path, write_jsonl: Write, image: Path) -> None:
    row = {**IMAGE_ROW, "audios": "https://example.org/a.wav",
           "messages": [TURNS[0] | {"content": "<image><audio>What is this?"},
                        TURNS[1]]}
    out = only_row(tmp_path, write_jsonl, row)
    assert out["images"] == [str(image)] and out["audios"] == ["https://example.org/a.wav"]
    assert out["messages"][0]["content"] == "<image><audio>What is this?"


@pytest.mark.parametrize(
    ("change", "kw", "reason", "message"),
    [
        ({}, {"multimodal": False}, "multimodal_unsupported",
         "the row lists 1 file(s) under 'images', but the model takes text only; "
         "use a multimodal model (or set the data option multimodal: true)"),
        ({"images": ["img/fern.png", "img/fern.png"]}, {}, "media_count",
         "1 <image> tag(s) in the text but 2 images listed; give one <image> per file"),
        ({"images": ["img/oak.png"]}, {}, "missing_media",
         "'images' item 0: {tmp}/img/oak.png: no such file; check the path"),
        ({"images": [3]}, {}, "bad_field", "'images' item 0: is number, expected a path or URL"),
    ],
)
def test_media_problems_are_rejected_with_their_reason(
    tmp_path: Path, write_jsonl: Write, image: Path, change: dict[str, Any], kw: dict[str, Any], reason: str,
    message: str,
) -> None:
    got = only_reject(tmp_path, write_jsonl, {**IMAGE_ROW, **change}, **kw)
    assert got == (reason, message.format(tmp=tmp_path))


def test_untagged_media_get_their_tags_where_swift_puts_them(tmp_path: Path, write_jsonl: Write, image: Path) -> None:
    row = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Who?"},
                        {"role": "assistant", "content": "A fern."}], "images": ["img/fern.png", str(image)]}
    out = only_row(tmp_path, write_jsonl, row)
    assert out["messages"][1]["content"] == "<image><image>Who?" and out["images"] == [str(image)] * 2


def test_typed_text_parts_are_joined_and_image_parts_become_images(
    tmp_path: Path, write_jsonl: Write, image: Path
) -> None:
    parts = [{"type": "text", "text": "Look: "}, {"type": "image_url", "image_url": {"url": "img/fern.png"}},
             {"type": "text", "text": " what is it?"}]
    row = {"messages": [{"role": "user", "content": parts},
                        {"role": "assistant", "content": [{"type": "text", "text": "A fern."}]}]}
    out = only_row(tmp_path, write_jsonl, row)
    assert out == {"messages": [{"role": "user", "content": "Look: <image> what is it?"},
                                {"role": "assistant", "content": "A fern."}], "images": [str(image)]}
    bad = {"messages": [{"role": "user", "content": [{"type": "file", "file": "x"}]}, TURNS[1]]}
    assert only_reject(tmp_path, write_jsonl, bad) == (
        "bad_field", "turn 1 (user): part 1 has type 'file'; expected text, image_url, image, audio or video")


def test_modality_is_read_from_the_model_folder(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"architectures": ["Qwen2VLForConditionalGeneration"]}')
    assert is_multimodal(tmp_path) is True
    assert is_multimodal(DATASETS.parent / "models" / "tiny-qwen3") is False
    assert is_multimodal(tmp_path / "absent") is None


# -- CSV, placeholders, whole rejects, system template ------------------------------------------


def test_csv_rows_are_read_like_json(tmp_path: Path) -> None:
    text = 'instruction,input,output\nAdd salt?,,"Yes, a pinch."\n"Two\nlines",soup,Stir.\nonly,two,cells,extra\n'
    plain = tmp_path / "alpaca.csv"
    plain.write_text(text, encoding="utf-8")
    packed = tmp_path / "alpaca.csv.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    for path in (plain, packed):
        result = convert(tmp_path, path)
        assert (result.rows_in, result.train, result.rejected) == (3, 2, 1)
        assert rows(tmp_path / "out.jsonl")[1]["messages"][0]["content"] == "Two\nlines\nsoup"
        reject = rows(tmp_path / "rej.jsonl")[0]
        assert (reject["line"], reject["reason"], reject["message"], reject["row"]) == (
            5, "bad_field", "4 cells, but the header has 3 columns", "only,two,cells,extra")


def test_placeholders_are_counted_or_rejected_under_strict(
    tmp_path: Path, write_jsonl: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    identity = write_jsonl([{"instruction": "Who are you?", "output": "I am {{name}}, made by {{author}}."},
                            {"instruction": "Braces?", "output": "Write {x}, {{ }} or ${{ github.sha }} in code."}],
                           "identity.jsonl")
    sharegpt = write_jsonl([{"conversations": [{"from": "human", "value": "hi {{ name }}"},
                                               {"from": "gpt", "value": "hello"}]}], "chat.jsonl")
    result = convert(tmp_path, identity, sharegpt)
    assert (result.train, result.report["warnings"]) == (3, {"placeholder": 2})
    assert "warning: 2 row(s) hold a {{placeholder}} meant to be filled in; fill them in, or convert with strict " \
        "to reject them" in capsys.readouterr().err
    result = convert(tmp_path, identity, sharegpt, strict=True)
    assert (result.train, result.report["warnings"]) == (1, {})
    assert [(r["reason"], r["message"]) for r in rows(tmp_path / "rej.jsonl")] == [
        ("placeholder", "turn 2 (assistant) holds the placeholder {{name}}; fill it in (or convert without strict)"),
        ("placeholder", "turn 1 (user) holds the placeholder {{ name }}; fill it in (or convert without strict)"),
    ]


def test_the_rejects_file_holds_whole_rows(tmp_path: Path, write_jsonl: Write) -> None:
    long = {"messages": [{"role": "user", "content": "x" * 5000}]}
    convert(tmp_path, write_jsonl([long]))
    assert json.loads(rows(tmp_path / "rej.jsonl")[0]["row"]) == long


def test_system_template_builds_the_system_line_from_row_fields(tmp_path: Path, write_jsonl: Write) -> None:
    row = {"reasoning_language": "German", "messages": [
        {"role": "user", "content": "3 x 8?"}, {"role": "assistant", "content": "24", "thinking": "3 mal 8"}]}
    out = only_row(tmp_path, write_jsonl, row, system="Be brief.", system_template="Reasoning: {reasoning_language}")
    assert out["messages"] == [{"role": "system", "content": "Be brief.\n\nReasoning: German"},
                               {"role": "user", "content": "3 x 8?"},
                               {"role": "assistant", "content": "<think>\n3 mal 8\n</think>\n\n24"}]
    missing = {"messages": row["messages"]}
    assert only_reject(tmp_path, write_jsonl, missing, system_template="Reasoning: {reasoning_language}") == (
        "missing_field", "no 'reasoning_language' field (the system_template names it)")
    with pytest.raises(UserError) as err:
        convert(tmp_path, write_jsonl([row]), system_template="no fields")
    assert str(err.value) == (
        "--system-template: 'no fields' names no row field; write fields as {name}, e.g. {reasoning_language}")


def test_the_multilingual_thinking_stand_in_keeps_language_and_reasoning(tmp_path: Path) -> None:
    result = convert(tmp_path, DATASETS / "multilingual_thinking.messages.jsonl", dedupe=True)
    assert (result.rows_in, result.train, result.rejected) == (40, 40, 0)
    first = rows(tmp_path / "out.jsonl")[0]["messages"]
    assert first[0] == {"role": "system", "content": "reasoning language: English"}
    assert first[2]["content"].startswith("<think>\n3 rows of 8 is 24 pots.")


# -- LLaMA-Factory v1 files: `value` parts, reasoning and tool-call parts, loss_weight, pairs ----


def v1(role: str, *parts: tuple[str, str], **extra: Any) -> dict[str, Any]:
    return {"role": role, "content": [{"type": t, "value": v} for t, v in parts], **extra}


def test_v1_parts_keep_reasoning_tool_calls_and_loss_weights(tmp_path: Path, write_jsonl: Write) -> None:
    call = '{"name": "weather", "arguments": {"city": "Oslo"}}'
    row = {"messages": [
        v1("user", ("text", "Weather?"), loss_weight=0.0),
        v1("assistant", ("reasoning", "Ask the tool."), ("tool_call", call), loss_weight=1.0),
        v1("tool", ("text", "rain")),
        v1("assistant", ("text", "Rain."), loss_weight=0.0),
    ]}
    assert only_row(tmp_path, write_jsonl, row)["messages"] == [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": "<think>\nAsk the tool.\n</think>\n\n"},
        {"role": "tool_call", "content": call},
        {"role": "tool_response", "content": "rain"},
        {"role": "assistant", "content": "Rain.", "loss": False},
    ]
    trained_user = {"messages": [v1("user", ("text", "Hi"), loss_weight=1.0), v1("assistant", ("text", "Yo"))]}
    assert only_reject(tmp_path, write_jsonl, trained_user) == (
        "bad_field", "turn 1 (user): 'loss_weight' 1, but only assistant turns are trained")


def test_v1_chosen_and_rejected_messages_become_a_pair(tmp_path: Path, write_jsonl: Write) -> None:
    prompt = [v1("system", ("text", "Be kind.")), v1("user", ("text", "Which pot?"))]
    row = {"chosen_messages": [*prompt, v1("assistant", ("text", "A clay one."))],
           "rejected_messages": [*prompt, v1("assistant", ("text", "Any."))]}
    out = only_row(tmp_path, write_jsonl, row, purpose="rlhf")
    assert out == {"messages": [{"role": "system", "content": "Be kind."}, *WANT_DPO["messages"]],
                   "rejected_response": "Any."}
