"""The stage graph as indented text: each stage under the stages it reads from."""

from __future__ import annotations

from swiftpipe.report.model import StageRow


def _label(row: StageRow) -> str:
    return row.name if row.kind == row.name else f"{row.name} [{row.kind}]"


def tree_lines(stages: list[StageRow]) -> list[str]:
    """Children indented under the stage they read from (`via <slot>` when they read from several);
    a stage with several upstreams is drawn in full once and marked `(see above)` after that."""
    rows = {s.name: s for s in stages}
    children: dict[str, list[tuple[str, str]]] = {s.name: [] for s in stages}  # parent -> (child, slot)
    for s in stages:
        for slot, parent in s.upstream.items():
            if parent in rows:
                children[parent].append((s.name, slot))
    lines: list[str] = []
    shown: set[str] = set()

    def walk(name: str, depth: int, slot: str | None) -> None:
        via = f" via {slot}" if slot and len(rows[name].upstream) > 1 else ""
        if name in shown:
            lines.append(f"{'  ' * depth}{_label(rows[name])}{via} (see above)")
            return
        shown.add(name)
        lines.append(f"{'  ' * depth}{_label(rows[name])}{via}")
        for child, child_slot in children[name]:
            walk(child, depth + 1, child_slot)

    for s in stages:
        if s.name not in shown and not any(p in rows for p in s.upstream.values()):
            walk(s.name, 0, None)
    for s in stages:  # what a cycle or a broken record left unreachable
        if s.name not in shown:
            walk(s.name, 0, None)
    return lines
