"""Training on several processes (jarlib.distributed, jarlib.train under torchrun), on the CPU with gloo.

The claims tested: each rank trains on its own share of every step's patches; two processes give the
model one process gives with the same global batch (to float tolerance); a run killed under torchrun
resumes from its checkpoint to exactly the model of an uninterrupted one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from jarlib.distributed import Context, rank_items, shard

# One script for every run, so that a single process and torchrun's two train the same thing: a tiny
# DnCNN on synthetic images (no data set needed), 16x16 patches, global batch 4. Without BatchNorm: its
# statistics are over each process's share of the batch (SyncBatchNorm, which makes them global, is CUDA's).
SCRIPT = textwrap.dedent('''
    import os, sys
    import numpy as np
    import jarlib.train as T

    out, steps, stop_after, crash_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (40, 48), dtype=np.uint8) for _ in range(3)]
    if crash_at:   # rank 1 dies while making the batch of step crash_at, as a killed process would
        make = T.get_batch
        def get_batch(dataset, step, batch, ctx):
            if step == crash_at and ctx.rank == 1:
                os._exit(9)
            return make(dataset, step, batch, ctx)
        T.get_batch = get_batch
    cfg = T.TrainConfig(model="dncnn", model_args={"features": 8, "depth": 3, "batch_norm": False}, patch=16, batch=4, steps=steps,
                        lr=1e-3, qf_range=(10, 40), val_images=0, ckpt_every=2, log_every=1, progress=False,
                        threads=1, out=out, workers=int(os.environ.get("WORKERS", "0")))
    result = T.train(cfg, resume=True, stop_after=stop_after or None, images=images)
    if result.rank == 0:
        T.write_history(result)
''')


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ddp") / "train_tiny.py"
    path.write_text(SCRIPT)
    return path


def run(script: Path, out: Path, steps: int, procs: int = 1, stop_after: int = 0, crash_at: int = 0,
        check: bool = True, workers: int = 0) -> subprocess.CompletedProcess:
    env = {**os.environ, "JARLIB_PROGRESS": "0", "OMP_NUM_THREADS": "1", "WORKERS": str(workers)}
    args = [str(script), str(out), str(steps), str(stop_after), str(crash_at)]
    if procs == 1:
        cmd = [sys.executable, *args]
    else:   # torchrun itself, as a user types it (python -m torch.distributed.run is the same program)
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}", *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def state(out: Path) -> dict:
    return torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=True)


def test_each_rank_takes_its_own_share_of_the_global_batch():
    ranks = [list(rank_items(5, 8, Context(rank=r, world=4))) for r in range(4)]
    assert ranks == [[40, 41], [42, 43], [44, 45], [46, 47]]     # together: items 40..47 of step 5
    assert list(rank_items(5, 8, Context())) == list(range(40, 48))
    with pytest.raises(ValueError, match="does not split over 3 processes"):
        shard(8, 3)


@pytest.mark.parametrize("workers", [0, 1], ids=["in-process patches", "a patch worker per process"])
def test_two_gloo_processes_train_the_single_process_model(script, tmp_path, workers):
    """With ``workers=1`` each process makes its patches in a DataLoader worker, as on a GPU."""
    run(script, tmp_path / "one", steps=4)
    run(script, tmp_path / "two", steps=4, procs=2, workers=workers)
    one, two = state(tmp_path / "one"), state(tmp_path / "two")
    assert (one["world"], two["world"], two["step"]) == (1, 2, 4)
    for name, w in one["model"].items():
        torch.testing.assert_close(two["model"][name], w, rtol=1e-4, atol=1e-5, msg=name)
    # the logged loss is the global batch's, the same number a single process logs
    for a, b in zip(one["history"]["train"], two["history"]["train"]):
        assert a["step"] == b["step"] and b["loss"] == pytest.approx(a["loss"], rel=1e-4)
    assert len(two["rng"]["ranks"]) == 2 and (tmp_path / "two" / "history.json").exists()


def test_a_run_killed_under_torchrun_resumes_exactly(script, tmp_path):
    run(script, tmp_path / "whole", steps=6, procs=2)
    crashed = run(script, tmp_path / "cut", steps=6, procs=2, crash_at=3, check=False)
    assert crashed.returncode != 0 and state(tmp_path / "cut")["step"] == 2     # the last checkpoint survived
    run(script, tmp_path / "cut", steps=6, procs=2)                              # the same command, again
    whole, cut = state(tmp_path / "whole"), state(tmp_path / "cut")
    assert cut["step"] == 6
    for name, w in whole["model"].items():
        assert torch.equal(cut["model"][name], w), name
    assert [h["loss"] for h in cut["history"]["train"]] == [h["loss"] for h in whole["history"]["train"]]


def test_resuming_with_another_number_of_processes_warns(script, tmp_path):
    run(script, tmp_path / "run", steps=4, procs=2, stop_after=2)
    proc = run(script, tmp_path / "run", steps=4, procs=1)
    assert "written by 2 process(es), resumed by 1" in proc.stdout and state(tmp_path / "run")["step"] == 4


def test_a_batch_that_does_not_split_is_refused_in_one_line(tmp_path):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=3", "-m", "jarlib.train",
           "--model", "dncnn", "--out", str(tmp_path / "r"), "--set", "batch=4", "val_images=0"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode != 0
    assert "error: the global batch 4 does not split over 3 processes" in proc.stderr
    assert "jarlib/train.py" not in proc.stderr      # our line, not a traceback (torchrun adds its own report)
