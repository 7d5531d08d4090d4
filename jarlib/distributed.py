"""Training on several processes with ``torch.distributed`` (the engine the papers' own code used):
one process per GPU (NCCL) or per CPU group (gloo), started by ``torchrun``::

    torchrun --nproc_per_node 8 -m jarlib.train --model fbcnn --preset paper --out runs/fbcnn_paper

:func:`jarlib.train.train` asks :func:`setup` for its :class:`Context`: outside ``torchrun`` it is
the single process it always was. Under ``torchrun`` every rank builds the same model, wraps it in
``DistributedDataParallel`` (which averages the gradients), and draws its own share of the global
batch from the deterministic patch stream (:func:`rank_items`): rank r of W takes items
``step*B + r*B/W ... step*B + (r+1)*B/W - 1``, so no two ranks see the same patch and the W shares
together are exactly the single-process batch of step ``step``. With a loss that is a mean over
the batch, the averaged gradient is the single-process gradient (up to float summation order).
Only rank 0 logs, validates and writes checkpoints.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any, Optional

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Context:
    """Where this process stands: ``rank`` of ``world`` processes (``local_rank`` on its machine),
    and whether it started the process group (and so must end it)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    owns_group: bool = False

    @property
    def main(self) -> bool:
        """Rank 0: the process that logs, validates and checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1


def launched() -> bool:
    """Whether ``torchrun`` (or another launcher setting ``WORLD_SIZE``) started this process as one of
    several."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def setup(device: torch.device, timeout_minutes: int = 60) -> Context:
    """Join the process group ``torchrun`` describes in the environment (``RANK``, ``WORLD_SIZE``,
    ``LOCAL_RANK``, ``MASTER_ADDR``/``PORT``): NCCL for CUDA, gloo for the CPU. A single process
    gets ``Context()``. A group already set up by the caller is used as it is.

    ``timeout_minutes`` is how long a collective waits: rank 0 validates while the others wait at
    the next gradient exchange, so it must outlast one validation."""
    if dist.is_available() and dist.is_initialized():
        return Context(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    if not launched():
        return Context()
    if not dist.is_available():
        raise ValueError("this torch build has no torch.distributed; run one process")
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", "0"))
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend, timeout=dt.timedelta(minutes=timeout_minutes))
    return Context(rank, world, local, owns_group=True)


def teardown(ctx: Context) -> None:
    """End the process group if :func:`setup` started it."""
    if ctx.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def rank_device(device: torch.device, ctx: Context) -> torch.device:
    """This rank's device: ``cuda:<local_rank>`` when training on CUDA (one GPU per process), else
    ``device`` unchanged."""
    if device.type == "cuda" and ctx.distributed:
        if ctx.local_rank >= torch.cuda.device_count():
            raise ValueError(f"local rank {ctx.local_rank} has no GPU ({torch.cuda.device_count()} visible): "
                             "start at most one process per GPU")
        torch.cuda.set_device(ctx.local_rank)
        return torch.device("cuda", ctx.local_rank)
    return device


def shard(batch: int, world: int) -> int:
    """Items per rank of a global batch of ``batch``; ``ValueError`` unless ``world`` divides it."""
    if batch % world:
        raise ValueError(f"the global batch {batch} does not split over {world} processes; "
                         f"use a batch that is a multiple of {world}")
    return batch // world


def rank_items(step: int, batch: int, ctx: Context) -> range:
    """The patch-stream items rank ``ctx.rank`` trains on at optimizer step ``step`` (0-based)
    when the global batch is ``batch``: its contiguous share of ``step*batch ... step*batch+batch-1``."""
    b = shard(batch, ctx.world)
    start = step * batch + ctx.rank * b
    return range(start, start + b)


def wrap(model: torch.nn.Module, ctx: Context, device: torch.device, find_unused: bool) -> torch.nn.Module:
    """``model`` in ``DistributedDataParallel`` for a multi-process run (BatchNorm made synchronous
    on CUDA, so its statistics are over the global batch), else ``model`` itself. The returned module
    is what the loop calls; ``model`` stays the one whose weights are saved."""
    if not ctx.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    if device.type == "cuda":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=find_unused)


def mean(values: list[float], ctx: Context) -> list[float]:
    """The mean of each value over the ranks (for logging the global batch's loss)."""
    if not ctx.distributed:
        return values
    t = torch.tensor(values, dtype=torch.float64)
    if dist.get_backend() == "nccl":
        t = t.cuda()
    dist.all_reduce(t)
    return (t / ctx.world).cpu().tolist()


def gather(obj: Any, ctx: Context) -> list[Any]:
    """``obj`` of every rank, in rank order (each rank gets the list)."""
    if not ctx.distributed:
        return [obj]
    out: list[Optional[Any]] = [None] * ctx.world
    dist.all_gather_object(out, obj)
    return out


def broadcast(obj: Any, ctx: Context) -> Any:
    """Rank 0's ``obj`` on every rank (e.g. whether to stop)."""
    if not ctx.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(ctx: Context) -> None:
    if ctx.distributed:
        dist.barrier()
