"""Checks on a built graph that types alone cannot express: argument names, rules across stages.

Rules of one kind live with the kind (`Kind.check`, `Kind.reserved`); this module holds the
rules every kind shares and those that look at several stages at once. Secrets written into
the file are refused before (config/rules.py), on the raw YAML.
"""

from __future__ import annotations

import re

from swiftpipe.config import argvalues
from swiftpipe.config.schema import Pipeline
from swiftpipe.config.validate import Problem
from swiftpipe.engine.graph import Graph, Node
from swiftpipe.kinds import get_kind
from swiftpipe.tracking import yields_to_tracking

_ARG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

# ms-swift 3.x names that 4.x rejects or reinterprets (see the reference notes).
RENAMED = {
    "train_type": "renamed to 'tuner_type' in ms-swift 4",
    "custom_register_path": "renamed to 'external_plugins' in ms-swift 4",
    "metric": "renamed to 'eval_metric' in ms-swift 4 ('--metric' is now ambiguous)",
    "ckpt_dir": "removed in ms-swift 3; swiftpipe passes the checkpoint itself",
    "lora_modules": "removed in ms-swift 3; use 'adapters'",
    "config": "ms-swift 4 takes no --config; put the arguments under 'args'",
}

def check_pipeline(p: Pipeline, graph: Graph) -> list[Problem]:
    """Rules on an otherwise valid pipeline and its graph."""
    problems = [problem for node in graph if not node.implied for problem in _check_args(node)]
    if p.tracking.backend != "none":
        for node in graph:
            # null drops the flag and `none` is replaced by the tracker (swiftpipe.tracking).
            report_to = getattr(node.config, "args", {}).get("report_to", "none")
            if get_kind(node.kind).trains and not yields_to_tracking(report_to):
                problems.append(Problem(f"{node.where}.args.report_to", "set by 'tracking'; remove it here"))
    problems += _check_ports(graph)
    return problems


def _check_args(node: Node) -> list[Problem]:
    problems = []
    kind = get_kind(node.kind)
    program = "swift" if kind.swift_args else "evalscope"  # the one kind with other args is eval
    for name, value in getattr(node.config, "args", {}).items():
        problem = _arg_problem(node, name)
        if problem:
            problems.append(Problem(f"{node.where}.args.{name}", problem))
            continue
        for path, message in argvalues.value_problems(name, value, program, kind.reserved):
            problems.append(Problem(f"{node.where}.args.{path}", message))
    return problems


def _arg_problem(node: Node, name: str) -> str | None:
    if not _ARG_NAME.fullmatch(name):
        return "argument names are written without dashes, e.g. learning_rate"
    if name in get_kind(node.kind).reserved:
        return f"set by swiftpipe; {get_kind(node.kind).reserved[name]}"
    target = argvalues.reserved_target(name, get_kind(node.kind).reserved)
    if target is not None:  # argparse reads an unambiguous prefix as the whole name
        return f"would be read as '{target}', which swiftpipe sets; {get_kind(node.kind).reserved[target]}"
    if get_kind(node.kind).swift_args and name in RENAMED:
        return RENAMED[name]
    return None


def _check_ports(graph: Graph) -> list[Problem]:
    """Two servers of one pipeline cannot listen on the same address."""
    seen: dict[tuple[str, int], str] = {}
    problems = []
    for node in graph:
        if not get_kind(node.kind).serves:
            continue
        key = (node.config.host, node.config.port)
        if key in seen:
            problems.append(Problem(f"{node.where}.port", f"port {key[1]} is also used by stage {seen[key]}; "
                                    "give each deploy stage its own port"))
        seen.setdefault(key, node.name)
    return problems
