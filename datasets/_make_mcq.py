"""Write the demo's learnable multiple-choice skill: training rows and held-out eval questions.

Run from the repository root: `python datasets/_make_mcq.py`. Deterministic: same code,
byte-identical files. All text is written for swiftpipe.

The skill is small enough for the random 2-layer tiny model to pick up in the demo's 200 LoRA
steps on two CPU cores: the question names a category (colour, animal, fruit, tool) and the
option of that category always sits at the same letter (colour A, animal B, fruit C, tool D).
The training rows are formatted exactly as evalscope's `general_mcq` prompts the served model
with the demo's `prompt_template` (TEMPLATE below; options as `A) ...`), and the assistant
answers the way evalscope then parses it (`ANSWER: C`). The eval questions use words that no
training row contains (the category items and the other options are new), so the fine-tuned
model has to read the question's category, not recall a seen question.
"""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
LETTERS = "ABCD"

# evalscope 1.14 MultipleChoiceTemplate.CHINESE_SINGLE_ANSWER_TEMPLATE, the general_mcq default.
# The demo's eval sets this as general_mcq's prompt_template (pipeline.yaml), so the user turn is
# short and ends with the question: a 2-layer model reads its last tokens best.
# With a template of its own, evalscope parses answers as 'ANSWER: <letter>'.
TEMPLATE = "ANSWER with one of {letters}.\n{choices}\n{question}"

# category -> (letter index, training words, held-out words for the eval questions)
CATEGORIES: dict[str, tuple[int, list[str], list[str]]] = {
    "colour": (0, ["red", "blue", "green", "yellow", "purple", "orange", "pink", "brown", "grey", "black",
                   "white", "violet"], ["crimson", "teal", "indigo", "amber", "scarlet"]),
    "animal": (1, ["dog", "cat", "horse", "cow", "sheep", "lion", "tiger", "bear", "wolf", "fox", "rabbit",
                   "mouse"], ["otter", "badger", "camel", "zebra", "moose"]),
    "fruit": (2, ["apple", "pear", "banana", "cherry", "grape", "lemon", "mango", "peach", "plum", "melon",
                  "kiwi", "lime"], ["papaya", "guava", "apricot", "fig", "quince"]),
    "tool": (3, ["hammer", "saw", "drill", "wrench", "chisel", "spanner", "shovel", "rake", "axe", "pliers",
                 "file", "level"], ["trowel", "mallet", "crowbar", "scraper", "awl"]),
}

# Every question names its category twice: the tiny model reads the question as a bag of words
# first, so the category has to stand out from the rest of the prompt.
TRAIN_QUESTIONS = [  # each ends with the category: the last words before the answer
    "Which of these is {a_cat}?",
    "Only one option is {a_cat}. Pick the {cat}.",
    "Find the {cat}. Which word names {a_cat}?",
    "{Cat} question: which one is the {cat}?",
]
EVAL_QUESTIONS = TRAIN_QUESTIONS  # the same phrasings; the words in them are new
# The other three options are plain words of no category, so nothing but the question (and the
# right option itself) speaks of a category. The eval questions use words never trained on.
NEUTRAL = (["table", "river", "cloud", "paper", "window", "stone", "bottle", "chair", "road", "coin", "rope", "door"],
           ["ladder", "bucket", "pillow", "candle", "basket"])


def _ask(question: str, cat: str) -> str:
    article = "an" if cat[0] in "aeiou" else "a"
    return question.format(cat=cat, Cat=cat.capitalize(), a_cat=f"{article} {cat}")


def _options(rng: random.Random, cat: str, word: str, held_out: bool) -> list[str]:
    """Four options: `word` at its category's letter, three neutral words elsewhere."""
    slot = CATEGORIES[cat][0]
    fill = rng.sample(NEUTRAL[1 if held_out else 0], 3)
    return [*fill[:slot], word, *fill[slot:]]


def prompt(question: str, options: list[str]) -> str:
    """The user turn exactly as evalscope's general_mcq renders it."""
    choices = "\n".join(f"{LETTERS[i]}) {o}" for i, o in enumerate(options))
    return TEMPLATE.format(letters=",".join(LETTERS), question=question, choices=choices)


def train_rows() -> list[dict[str, object]]:
    rng = random.Random(7)
    rows: list[dict[str, object]] = []
    for cat, (slot, words, _held) in CATEGORIES.items():
        for word in words:
            # every word in every phrasing, twice with other neighbours: 96 rows per category
            for q in TRAIN_QUESTIONS * 2:
                options = _options(rng, cat, word, held_out=False)
                rows.append({"messages": [
                    {"role": "user", "content": prompt(_ask(q, cat), options)},
                    {"role": "assistant", "content": f"ANSWER: {LETTERS[slot]}"},
                ]})
    rng.shuffle(rows)
    return rows


def eval_rows() -> list[list[str]]:
    rng = random.Random(11)
    rows: list[list[str]] = []
    for cat, (slot, _, held) in CATEGORIES.items():
        for i, word in enumerate(held):
            q = _ask(EVAL_QUESTIONS[i % len(EVAL_QUESTIONS)], cat)
            rows.append([q, *_options(rng, cat, word, held_out=True), LETTERS[slot]])
    rng.shuffle(rows)
    return [[str(n), *r] for n, r in enumerate(rows, start=1)]


def main() -> None:
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in train_rows())
    (HERE / "mcq_skill.messages.jsonl").write_text(lines, encoding="utf-8")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", "question", "A", "B", "C", "D", "answer"])
    writer.writerows(eval_rows())
    (HERE / "eval" / "mcq" / "demo_val.csv").write_text(buf.getvalue(), encoding="utf-8")


if __name__ == "__main__":
    main()
