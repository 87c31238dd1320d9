"""An ms-swift `--external_plugins` file: each rank destroys its process group when it exits.

`swift sft|rlhf|pt` end without `torch.distributed.destroy_process_group()` (ms-swift 4.6 calls
it only in its Megatron pipelines). A rank then exits with the group alive: Gloo's C++ worker
threads still run while the interpreter finalizes, and the process can die in `std::terminate`
("terminate called without an active exception", SIGABRT, exit -6) after training finished
and saved, which torchrun reports as a failed launch (seen on a two-process CPU run; PyTorch
pull request 179291, issue 190489). PyTorch asks every program to destroy the group before it
exits, on any backend, so swiftpipe passes this file to every training launch of more than one
process.

The handler only destroys: no barrier first, so a rank that failed never waits on the others,
and it swallows every error, so an exit that was a success stays one. Registered at import
(swift imports plugins in `BaseArguments.__post_init__`, before the trainer starts), it runs
after the handlers registered later (atexit is last in, first out). It imports nothing of
swiftpipe: it runs in the stage's Python, which may not have swiftpipe installed.
"""

from __future__ import annotations

import atexit
import os
import sys


def destroy_group(owner: int) -> bool:
    """Destroy the default process group (and every other) if this process made one; True if it did."""
    if os.getpid() != owner:  # a forked child inherited the handler; the group is its parent's
        return False
    dist = sys.modules.get("torch.distributed")  # not imported: no group to destroy
    try:
        if dist is None or not dist.is_available() or not dist.is_initialized():
            return False
        dist.destroy_process_group()
    except Exception:
        return False
    return True


atexit.register(destroy_group, os.getpid())
