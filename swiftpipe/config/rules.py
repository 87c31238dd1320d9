"""Checks that types alone cannot express: argument names, secrets, rules across stages.

Rules of one kind live with the kind (`Kind.check`, `Kind.reserved`); this module holds the
rules every kind shares and those that look at several stages at once.
"""

from __future__ import annotations

import re
from typing import Any

from swiftpipe.config import argvalues
from swiftpipe.config.schema import Pipeline
from swiftpipe.config.validate import Problem
from swiftpipe.core.argv import is_secret
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

# A reference that adds no text of its own: ${VAR}, or ${VAR:-} (empty when unset).
_BARE_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::-)?\}")
_URL_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")  # scheme://user:password@host


def check_raw_secrets(raw: Any, path: str = "") -> list[Problem]:
    """Secrets may only arrive as ${VAR} references, never as literals in the file.

    A secret is a key that swiftpipe.core.argv.is_secret marks (the names it masks everywhere), or
    the password of a URL. A literal in a default (`${VAR:-hf_x}`) or beside a reference
    (`hf_x${VAR:-}`) is a literal too: it reaches argv and scripts whenever VAR is unset.
    """
    problems: list[Problem] = []
    if isinstance(raw, dict):
        for key, value in raw.items():
            sub = f"{path}.{key}" if path else str(key)
            if is_secret(str(key)) and _literal(value):
                problems.append(Problem(sub, _secret_message(str(key), value)))
            else:
                problems.extend(check_raw_secrets(value, sub))
    elif isinstance(raw, list):
        for i, value in enumerate(raw):
            problems.extend(check_raw_secrets(value, f"{path}[{i}]"))
    elif isinstance(raw, str) and _URL_PASSWORD.search(_written(raw)):
        problems.append(Problem(path, "a password must not be written in the pipeline file; "
                                "write the URL as https://user:${VAR}@host and export VAR"))
    return problems


def _written(text: str) -> str:
    """The text of a value that is written out, not taken from the environment."""
    return _BARE_REFERENCE.sub("", text)


def _literal(value: Any) -> bool:
    """Text written out (anything but bare ${VAR} references), alone or in a list."""
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, str) and _written(v) for v in values)


def _secret_message(key: str, value: Any) -> str:
    mixed = any(isinstance(v, str) and "${" in v for v in (value if isinstance(value, list) else [value]))
    where = "pipeline file, not even as a default or beside a ${VAR}" if mixed else "pipeline file"
    return (
        f"a secret must not be written in the {where}; "
        f"export it in the environment and write '{key}: ${{VAR}}', or use the stage's *_env option"
    )


def check_pipeline(p: Pipeline, graph: Graph) -> list[Problem]:
    """Rules on an otherwise valid pipeline and its graph."""
    problems = [problem for node in graph if not node.implied for problem in _check_args(node)]
    if p.tracking.backend != "none":
        for node in graph:
            # null drops the flag and `none` is replaced by the tracker (swiftpipe.tracking).
            report_to = getattr(node.config, "args", {}).get("report_to", "none")
            if node.kind in ("pt", "sft") and not yields_to_tracking(report_to):
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
        if node.kind != "deploy":
            continue
        key = (node.config.host, node.config.port)
        if key in seen:
            problems.append(Problem(f"{node.where}.port", f"port {key[1]} is also used by stage {seen[key]}; "
                                    "give each deploy stage its own port"))
        seen.setdefault(key, node.name)
    return problems
