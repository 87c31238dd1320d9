"""An ms-swift `--external_plugins` file: DeepSpeed on a machine without a GPU sees its real world size.

The bug (accelerate 1.16, and the same code in earlier releases): under a DeepSpeed launch
`PartialState` asks torch for the machine's accelerator to pick a distributed backend; on a
CPU-only machine there is none, so the backend stays None. deepspeed.comm then initialises the
process group itself (gloo on the CPU), but `PartialState` reads the None backend as "not
distributed" and records `num_processes = 1, process_index = 0` on every rank. transformers'
Trainer takes its world size and main-process test from that state, which gives every symptom
of ZeRO on a CPU with more than one process: `train_batch_size: auto` filled with a world of one,
each rank training on all rows, evaluation's gather failing on gloo (`expected length 2, got 1`)
and every rank saving as the main one, so a ZeRO-3 rank that holds only its partitions can
overwrite the gathered LoRA weights with empty tensors. Smallest reproduction, two processes
(`torchrun --nproc_per_node 2 repro.py` without a GPU; prints 1 on both ranks):

    import os; os.environ["ACCELERATE_USE_DEEPSPEED"] = "true"
    from accelerate import PartialState; print(PartialState().num_processes)

swift imports this file in every rank before the Trainer's arguments build that state (the
plugins are imported in `BaseArguments.__post_init__`); it wraps `PartialState.__init__` so that,
only in that case (DeepSpeed, no backend, a process group of more than one), the state takes the
rank, world size and backend of the process group deepspeed made. It imports nothing of swiftpipe:
it runs in the stage's Python, which may not have swiftpipe installed.
"""

from __future__ import annotations

import functools
import os
from typing import Any


def fix_state(state: Any) -> bool:
    """Give a DeepSpeed `PartialState` without a backend the process group's figures; True if it changed."""
    import torch.distributed as dist
    from accelerate.utils import DistributedType  # type: ignore[import-untyped]

    if state.distributed_type != DistributedType.DEEPSPEED or state.backend is not None:
        return False
    if not dist.is_available() or not dist.is_initialized() or dist.get_world_size() == state.num_processes:
        return False
    state.backend = str(dist.get_backend())
    state.num_processes = dist.get_world_size()
    state.process_index = dist.get_rank()
    state.local_process_index = int(os.environ.get("LOCAL_RANK", "0"))
    return True


def install() -> None:
    """Wrap `PartialState.__init__` once; later inits re-check (the state is shared and can be reset)."""
    from accelerate.state import PartialState  # type: ignore[import-untyped]

    original = PartialState.__init__
    if getattr(original, "_swiftpipe_cpu_world", False):
        return

    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        fix_state(self)

    init._swiftpipe_cpu_world = True  # type: ignore[attr-defined]
    PartialState.__init__ = init


install()
