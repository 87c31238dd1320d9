"""Turn an `args:` mapping into command-line flags; find and mask secrets in argv, env and output."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

# A webhook URL is itself the credential (`swanlab_lark_webhook_url`): any name with "webhook" in it.
SECRET_NAME = re.compile(r"(^|_)(token|api_key|key|secret|password)$|webhook", re.IGNORECASE)
MASK = "***"
MIN_REDACT = 4
# Values of secret-named settings that are placeholders, not secrets (evalscope's api key is 'EMPTY').
NOT_SECRETS = frozenset({"none", "null", "true", "false", "empty"})


def render_value(value: Any) -> list[str]:
    """One flag's values: lists give several, mappings are JSON, booleans are true/false."""
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, list):
        return [item for v in value for item in render_value(v)]
    if isinstance(value, dict):
        return [json.dumps(value, ensure_ascii=False, separators=(",", ":"))]
    if isinstance(value, float) and value < 0 and "e" in repr(value):
        # argparse reads '-1e-05' as a flag (only -1 and -0.5 pass as negative numbers): -0.00001.
        return [format(Decimal(repr(value)), "f")]
    return [str(value)]


def flags(args: Mapping[str, Any], *, dash: str = "_") -> list[str]:
    """`{"learning_rate": 1e-4}` -> `["--learning_rate", "0.0001"]`; None drops the flag.

    Full names only: ms-swift accepts argparse prefixes (`--lora_r` silently
    becomes lora_rank), so swiftpipe never abbreviates. evalscope spells flags
    with dashes; pass `dash="-"` for it.
    """
    out: list[str] = []
    for name, value in args.items():
        if value is None:
            continue
        out.append("--" + name.replace("_", dash))
        out.extend(render_value(value))
    return out


def is_secret(name: str) -> bool:
    """True for a flag (`--hub-token`), argument or variable name that marks a secret."""
    return bool(SECRET_NAME.search(name.lstrip("-").replace("-", "_")))


def mask_argv(argv: list[str]) -> list[str]:
    """A copy of argv with every secret value replaced by ***.

    The values after a secret-looking flag (up to the next flag), `--name=value` forms and
    secret keys inside JSON values are masked.
    """
    masked: list[str] = []
    in_secret = False
    for item in argv:
        if item.startswith("--"):
            name, eq, value = item.partition("=")
            in_secret = is_secret(name) and not eq
            if eq:
                item = f"{name}={MASK if is_secret(name) else _mask_json_text(value)}"
            masked.append(item)
        else:
            masked.append(MASK if in_secret else _mask_json_text(item))
    return masked


def mask_env(env: Mapping[str, str | None]) -> dict[str, str]:
    """The environment overlay for display: secrets masked, unset variables shown as ''."""
    return {k: (MASK if is_secret(k) and v else _mask_json_text(v or "")) for k, v in env.items()}


def secret_values(argv: Sequence[str], env: Mapping[str, str | None] | None = None) -> list[str]:
    """Every secret value in `argv` and `env` (what `mask_argv`/`mask_env` hide), longest first.

    These are the strings to search for in a child's output. Values shorter than
    MIN_REDACT characters and placeholders such as 'EMPTY' are left out: masking '0' or
    'none' everywhere would garble the log, and they are no secrets.
    """
    found: list[Any] = []
    in_secret = False
    for item in argv:
        if item.startswith("--"):
            name, eq, value = item.partition("=")
            in_secret = is_secret(name) and not eq
            if eq:
                found += [value] if is_secret(name) else _json_secrets(value)
        else:
            found += [item] if in_secret else _json_secrets(item)
    for key, setting in (env or {}).items():
        if setting:
            found += [setting] if is_secret(key) else _json_secrets(setting)
    values = {str(v) for v in found if v is not None}
    values |= {json.dumps(v, ensure_ascii=False)[1:-1] for v in values}  # as written inside JSON
    keep = [v for v in values if len(v) >= MIN_REDACT and v.lower() not in NOT_SECRETS]
    return sorted(keep, key=lambda v: (-len(v), v))


def _parse_json(text: str) -> Any:
    if text[:1] not in ("{", "["):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _mask_json_text(text: str) -> str:
    """`text` itself unless it is JSON holding a secret; then the JSON with those masked."""
    data = _parse_json(text)
    if data is None:
        return text
    masked = _mask_json(data)
    return text if masked == data else json.dumps(masked, ensure_ascii=False, separators=(",", ":"))


def _mask_json(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: (MASK if is_secret(str(k)) and _scalar(v) else _mask_json(v)) for k, v in data.items()}
    if isinstance(data, list):
        if any(isinstance(v, str) and v.startswith("--") for v in data):
            return mask_argv([str(v) for v in data])  # an argv carried in JSON (RAY_SWIFT_ARGS)
        return [_mask_json(v) for v in data]
    return data


def _json_secrets(text: str) -> list[Any]:
    data = _parse_json(text)
    return [] if data is None else _secrets_in(data)


def _secrets_in(data: Any) -> list[Any]:
    if isinstance(data, dict):
        return [x for k, v in data.items()
                for x in ([v] if is_secret(str(k)) and _scalar(v) else _secrets_in(v))]
    if isinstance(data, list):
        if any(isinstance(v, str) and v.startswith("--") for v in data):
            return secret_values([str(v) for v in data])
        return [x for v in data for x in _secrets_in(v)]
    return []


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def redact(text: str, secrets: Sequence[str]) -> str:
    """`text` with every occurrence of each secret (longest first) replaced by ***."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


def shell_line(argv: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)
