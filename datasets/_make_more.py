# ruff: noqa: E501 (the data text reads best unwrapped)
"""Write the preference and multilingual-thinking stand-ins. Deterministic, our own text.

Run from the repository root: `python datasets/_make_more.py`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# (question, a helpful answer, an unhelpful one) about looking after houseplants.
PLANTS: list[tuple[str, str, str]] = [
    (
        "How often should I water a snake plant?",
        "Water it only when the soil is dry all the way down, usually every two to three weeks; less in winter.",
        "Every day, plants love water.",
    ),
    (
        "Why are the leaves of my basil turning yellow?",
        "Yellow basil leaves usually mean too much water or too little light. Let the pot drain and move it to a sunny sill.",
        "Basil just does that, ignore it.",
    ),
    (
        "Can I put a cactus in a bathroom without windows?",
        "No: a cactus needs several hours of bright light a day. A windowless bathroom suits none but artificial-light setups.",
        "Sure, cacti like steam.",
    ),
    (
        "What does repotting mean?",
        "Repotting is moving a plant into a slightly larger pot with fresh soil, once its roots fill the old one.",
        "It means painting the pot again.",
    ),
    (
        "How do I know my monstera needs a bigger pot?",
        "Roots circling the bottom or poking out of the drainage holes, and water running straight through, are the usual signs.",
        "When it looks sad.",
    ),
    (
        "Is tap water fine for orchids?",
        "Mostly yes, if it has stood overnight and is at room temperature; very hard water is better mixed with rain water.",
        "Orchids only drink mineral water from bottles.",
    ),
    (
        "My fern has brown tips. What is wrong?",
        "Brown tips on a fern mean the air is too dry. Mist it, group it with other plants, or stand it on a tray of wet pebbles.",
        "Cut the whole fern down.",
    ),
    (
        "How much light does a peace lily need?",
        "Bright, indirect light is best; it copes with shade but flowers less. Direct sun scorches its leaves.",
        "Put it in full midday sun all summer.",
    ),
    (
        "Should I fertilise plants in winter?",
        "Usually not: most houseplants rest in winter. Feed them from spring to late summer, about once a month.",
        "Double the fertiliser in winter to keep them warm.",
    ),
    (
        "What is the easiest plant for a beginner?",
        "A pothos: it tolerates low light, tells you when it is thirsty by drooping, and recovers quickly after watering.",
        "A bonsai, they take no care at all.",
    ),
    (
        "How do I get rid of fungus gnats?",
        "Let the top few centimetres of soil dry out between waterings and use yellow sticky traps for the adults.",
        "Pour coffee on the soil every morning.",
    ),
    (
        "Why does my succulent stretch towards the window?",
        "It is reaching for light. Move it to a brighter spot and turn the pot a quarter every week.",
        "It is trying to escape.",
    ),
    (
        "Can I grow herbs on a north-facing windowsill?",
        "Mint, parsley and chives manage on a north sill; basil and rosemary want a sunnier one or a grow light.",
        "No plant grows facing north.",
    ),
    (
        "How do I clean dusty leaves?",
        "Wipe large leaves with a damp soft cloth, or rinse small plants under lukewarm water in the shower.",
        "Polish them with furniture wax.",
    ),
    (
        "When should I prune a rubber plant?",
        "Prune in spring or early summer, just above a leaf node; wear gloves, the milky sap irritates skin.",
        "Never, pruning kills rubber plants.",
    ),
    (
        "What are drainage holes for?",
        "They let extra water leave the pot, so the roots do not sit in water and rot.",
        "They are for air only.",
    ),
]

# (language, question, thinking, answer): the same small reasoning task in five languages.
THINKING: list[tuple[str, str, str, str]] = [
    (
        "English",
        "A shelf holds 3 rows of 8 pots. I sell 5 pots. How many are left?",
        "3 rows of 8 is 24 pots. Selling 5 leaves 24 - 5 = 19.",
        "19 pots are left.",
    ),
    (
        "German",
        "Ein Regal hat 3 Reihen mit je 8 Töpfen. Ich verkaufe 5 Töpfe. Wie viele bleiben?",
        "3 Reihen zu 8 sind 24 Töpfe. Nach dem Verkauf von 5 bleiben 24 - 5 = 19.",
        "Es bleiben 19 Töpfe.",
    ),
    (
        "French",
        "Une étagère a 3 rangées de 8 pots. J'en vends 5. Combien en reste-t-il ?",
        "3 rangées de 8 font 24 pots. Après en avoir vendu 5, il reste 24 - 5 = 19.",
        "Il reste 19 pots.",
    ),
    (
        "Spanish",
        "Una estantería tiene 3 filas de 8 macetas. Vendo 5. ¿Cuántas quedan?",
        "3 filas de 8 son 24 macetas. Al vender 5 quedan 24 - 5 = 19.",
        "Quedan 19 macetas.",
    ),
    (
        "Chinese",
        "一个架子有3排，每排8个花盆。我卖掉5个，还剩几个？",
        "3排每排8个，一共24个。卖掉5个，剩下24 - 5 = 19个。",
        "还剩19个花盆。",
    ),
]
# (rows, pots per row, sold) for the eight variants of the task.
NUMBERS = [(3, 8, 5), (4, 6, 7), (2, 9, 4), (5, 5, 6), (6, 4, 10), (3, 7, 2), (4, 9, 12), (2, 12, 9)]


def preference_rows() -> list[dict[str, Any]]:
    """ShareGPT preference rows: `conversations` (the prompt), `chosen`, `rejected` single turns."""
    rows = []
    for question, good, bad in PLANTS:
        rows.append(
            {
                "conversations": [{"from": "human", "value": question}],
                "chosen": {"from": "gpt", "value": good},
                "rejected": {"from": "gpt", "value": bad},
            }
        )
    return rows


def _variant(text: str, base: tuple[int, int, int], new: tuple[int, int, int]) -> str:
    (r0, p0, s0), (r, p, s) = base, new
    total0, total = r0 * p0, r * p
    pairs = [
        (str(total0 - s0), str(total - s)),
        (str(total0), str(total)),
        (f"{r0} ", f"{r} "),
        (f"{p0} ", f"{p} "),
        (f"{s0} ", f"{s} "),
        (f"{r0}排", f"{r}排"),
        (f"{p0}个", f"{p}个"),
        (f"{s0}个", f"{s}个"),
        (f"- {s0}", f"- {s}"),
        (f"{s0}.", f"{s}."),
    ]
    marks = [f"\x00{i}\x00" for i in range(len(pairs))]
    for (old, _), mark in zip(pairs, marks, strict=True):
        text = text.replace(old, mark)
    for (_, value), mark in zip(pairs, marks, strict=True):
        text = text.replace(mark, value)
    return text


def thinking_rows() -> list[dict[str, Any]]:
    """Multilingual-Thinking shape: `reasoning_language`, `messages` with a separate `thinking`."""
    rows = []
    base = NUMBERS[0]
    for numbers in NUMBERS:
        for language, question, thinking, answer in THINKING:
            rows.append(
                {
                    "reasoning_language": language,
                    "messages": [
                        {"role": "user", "content": _variant(question, base, numbers)},
                        {
                            "role": "assistant",
                            "content": _variant(answer, base, numbers),
                            "thinking": _variant(thinking, base, numbers),
                        },
                    ],
                }
            )
    return rows


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def main() -> None:
    _jsonl(HERE / "preference.dpo.jsonl", preference_rows())
    _jsonl(HERE / "multilingual_thinking.messages.jsonl", thinking_rows())


if __name__ == "__main__":
    main()
