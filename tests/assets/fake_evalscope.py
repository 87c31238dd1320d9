"""A stand-in for `evalscope eval`: asks the server once, then writes schema-2 reports.

The API key is resolved the way evalscope 1.14.1 does it: `--api-key` defaults to
'EMPTY', and only an empty `--api-key ''` falls back to EVALSCOPE_API_KEY. Each
call is appended to $FAKE_EVAL_LOG (argv, and whether EVALSCOPE_API_KEY was set).

  FAKE_EVAL=ok|errored|missing|rc1   (default ok)
  FAKE_EVAL_SCORE=0.5                accuracy written for general_mcq (default 0.25)
  FAKE_EVAL_FAIL=<dataset>:<error>   as evalscope 1.14 does when one dataset raises: the reports
                                     of the datasets before it, a traceback ending in <error> on
                                     stderr, exit 1
Datasets other than general_mcq/general_qa get the general_mcq report under their own name,
with one subset per `subset_list` entry.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import urllib.parse
from pathlib import Path

ASSETS = Path(__file__).parent / "evalscope"


def _arg(argv: list[str], flag: str, default: str | None = None) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv else default


def _ask(api_url: str, model: str, key: str) -> int:
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode()
    parts = urllib.parse.urlsplit(f"{api_url}/chat/completions")
    # Keep-alive and a client-side close, as evalscope's HTTP client does.
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        conn.request("POST", parts.path, body=body, headers={"Authorization": f"Bearer {key}",
                                                             "Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        return int(resp.status)
    finally:
        conn.close()


def _report(dataset: str, model: str, mode: str, args: dict[str, object]) -> dict[str, object]:
    known = dataset in ("general_mcq", "general_qa")
    source = "v2_incomplete.json" if mode == "errored" else f"v2_{dataset if known else 'general_mcq'}.json"
    data = json.loads((ASSETS / source).read_text())
    data["model_name"], data["dataset_name"] = model, dataset
    if mode != "errored" and dataset == "general_mcq":
        data["metrics"][0]["score"] = float(os.environ.get("FAKE_EVAL_SCORE", "0.25"))
    if mode != "errored" and not known:
        subsets = [str(s) for s in args.get("subset_list") or ["default"]]  # type: ignore[attr-defined]
        data["metrics"][0]["categories"][0]["subsets"] = [
            {"name": s, "score": round(0.1 * (i + 1), 4), "num": 2} for i, s in enumerate(subsets)]
    return data  # type: ignore[no-any-return]


def main() -> int:
    argv = sys.argv[1:]
    key = _arg(argv, "--api-key", "EMPTY") or os.environ.get("EVALSCOPE_API_KEY", "")
    log = os.environ.get("FAKE_EVAL_LOG")
    if log:
        with open(log, "a") as fh:
            fh.write(json.dumps({"argv": argv, "env_key": "EVALSCOPE_API_KEY" in os.environ}) + "\n")
    model, api_url = str(_arg(argv, "--model")), str(_arg(argv, "--api-url"))
    status = _ask(api_url, model, key)
    print(f"fake evalscope: server answered {status}", flush=True)
    if status != 200:
        print("openai.BadRequestError: Error code: 400", flush=True)
        return 1
    mode = os.environ.get("FAKE_EVAL", "ok")
    if mode == "rc1":
        return 1
    work = Path(str(_arg(argv, "--work-dir")))
    datasets = argv[argv.index("--datasets") + 1 : argv.index("--dataset-args")]
    args = json.loads(str(_arg(argv, "--dataset-args")))
    failing, _, error = os.environ.get("FAKE_EVAL_FAIL", "").partition(":")
    for i, dataset in enumerate(datasets):
        if dataset == failing:
            print(f'Traceback (most recent call last):\n  File "evalscope/run.py", line 1\n{error}',
                  file=sys.stderr, flush=True)
            return 1
        if mode == "missing" and i == len(datasets) - 1:
            continue
        out = work / "reports" / model / f"{dataset}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(_report(dataset, model, mode, args[dataset])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
