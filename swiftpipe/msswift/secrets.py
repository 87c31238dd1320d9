"""Secret ms-swift arguments: the ones that travel in the environment, and scrubbing args.json.

`swift` prints its whole command line, writes its arguments to args.json (in the run folder
and in every checkpoint) and pickles the TrainingArguments into training_args.bin. A secret
that ms-swift can also read from an environment variable is therefore never put on its
command line: `route` moves it into the variables listed in ROUTES (ms-swift 4.6 source:
`hub_token` None makes `HubOperation.try_login` read MODELSCOPE_API_TOKEN (swift/hub/hub.py)
and huggingface_hub read HF_TOKEN; `swanlab_token` None leaves the key to swanlab, whose
settings read SWANLAB_API_KEY; passing it would also make swift call `swanlab.login`,
which stores it in ~/.netrc).

Other secret-named arguments (e.g. `swanlab_secret`, a webhook secret, and
`swanlab_webhook_url`, a URL that is itself the credential) have no variable:
they stay on the command line, swiftpipe masks them in everything it writes and echoes
(swiftpipe.core.argv), and `scrub_args_json` rewrites the args.json files swift wrote with
them. swift itself writes `*_token` values to args.json as null (`check_json_format`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from swiftpipe.core.argv import MASK, render_value
from swiftpipe.core.fsio import atomic_write_text

# ms-swift argument -> the environment variables it is read from when the argument is unset.
ROUTES: dict[str, tuple[str, ...]] = {
    "hub_token": ("HF_TOKEN", "MODELSCOPE_API_TOKEN"),
    "swanlab_token": ("SWANLAB_API_KEY",),
}


def route(args: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(`args` without the secrets ROUTES knows, the environment variables carrying them)."""
    kept: dict[str, Any] = {}
    env: dict[str, str] = {}
    for name, value in args.items():
        if name in ROUTES and value is not None:
            env.update(dict.fromkeys(ROUTES[name], " ".join(render_value(value))))
        else:
            kept[name] = value
    return kept, env


def routed_env(args: Mapping[str, Any]) -> dict[str, str]:
    """The environment variables that carry the routed secrets of `args`."""
    return route(args)[1]


def scrub_args_json(root: Path, secrets: Sequence[str]) -> list[Path]:
    """Rewrite every args.json under `root` that holds one of `secrets`, with *** instead.

    Each file is replaced atomically (a temporary file, fsync, `os.replace`); returns the
    files rewritten.
    """
    if not secrets or not root.is_dir():
        return []
    forms = sorted({f for s in secrets if s for f in (s, json.dumps(s, ensure_ascii=False)[1:-1])},
                   key=len, reverse=True)
    changed = []
    for path in sorted(root.rglob("args.json")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        clean = text
        for form in forms:
            clean = clean.replace(form, MASK)
        if clean != text:
            atomic_write_text(path, clean)
            changed.append(path)
    return changed

