"""--only/--from/--until on the stage graph.

`--from X` is X and everything that depends on it; `--until Y` is Y and everything it
depends on; both together, their intersection. The stages swiftpipe adds for a selected
stage (a merge, the base evaluation) and the servers it reads are always selected with it:
a server does not outlive a run, so resuming `--from eval` must be able to start it again.
"""

from __future__ import annotations

from dataclasses import dataclass

from swiftpipe.core.errors import UserError
from swiftpipe.engine.graph import Graph


@dataclass(frozen=True)
class Selection:
    from_stage: str | None = None
    until: str | None = None
    only: str | None = None
    force: bool = False


def select(graph: Graph, sel: Selection) -> list[str]:
    """The selected stage names, in graph order."""
    names = graph.names
    if not names:
        raise UserError("the pipeline has no stage: add one under 'stages:' (or a top-level 'data:')")
    for flag, value in (("--only", sel.only), ("--from", sel.from_stage), ("--until", sel.until)):
        if value is not None and value not in names:
            raise UserError(f"{flag} {value}: not a stage of this pipeline (stages: {', '.join(names)})")
    if sel.only is not None:
        if sel.from_stage or sel.until:
            raise UserError("--only cannot be combined with --from or --until")
        chosen = {sel.only}
    else:
        chosen = set(names)
        if sel.from_stage:
            chosen = {sel.from_stage} | graph.descendants(sel.from_stage)
        if sel.until:
            chosen &= {sel.until} | graph.ancestors(sel.until)
        if not chosen:
            raise UserError(f"--from {sel.from_stage} and --until {sel.until} select no stage: "
                            f"{sel.until} does not depend on {sel.from_stage}")
    return [n for n in names if n in _with_companions(graph, chosen)]


def _with_companions(graph: Graph, chosen: set[str]) -> set[str]:
    found = set(chosen)
    todo = list(chosen)
    while todo:
        for up in graph[todo.pop()].upstream.values():
            node = graph[up]
            if up not in found and (node.implied or graph.kind(up).ephemeral):
                found.add(up)
                todo.append(up)
    return found
