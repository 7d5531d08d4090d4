"""``python -m jarlib.zoo build NAME``: make zoo model NAME from its recipe (:mod:`jarlib.recipes`).

Each stage trains into ``runs/NAME/<stage>/`` (checkpoint.pt, history.json) and resumes from its
checkpoint, so an interrupted build continues where it stopped; a finished stage is not trained
again. A stage that starts from ``"@earlier:stored"`` gets the earlier stage's weights as the zoo
would store them (``stored.pt``, fp16). The last stage's checkpoint is then added to the zoo
(:func:`jarlib.zoo.records.add`: exported, measured) and the entry records the recipe's name and
hash, every stage and the training time of all of them.

``--recipe paper`` builds a paper's recipe instead (:data:`jarlib.recipes.PAPER_RECIPES`: the paper's
size, data and schedule) into the zoo entry ``<model>_paper``. Under ``torchrun`` every process runs
the build: restorer stages train on all of them (:mod:`jarlib.distributed`); auxiliary stages, the
zoo entry and every line printed are rank 0's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Optional, Sequence

import torch

from jarlib import distributed
from jarlib.auxiliary import TRAINERS
from jarlib.checkpoint import export_weights, load_checkpoint
from jarlib.data import available, fetch_command
from jarlib.models.base import resolve_device
from jarlib.pretrained import info, manifest
from jarlib.recipes import Recipe, Stage, cost, describe, get
from jarlib.train import train, write_history
from jarlib.zoo.records import EVAL_QFS, add, write_entry


def stage_dir(runs: str | Path, recipe: Recipe, stage: Stage) -> Path:
    """Where a stage trains: ``runs/<recipe>/<stage>/``."""
    return Path(runs) / recipe.name / stage.name


def start_of(recipe: Recipe, stage: Stage, runs: str | Path) -> Optional[str]:
    """The ``init_from`` of a restorer stage: an earlier stage's checkpoint (or its fp16 export,
    written on first use), another zoo model's name, or ``None``."""
    if not stage.start:
        return None
    if not stage.start.startswith("@"):
        return stage.start
    name, _, how = stage.start[1:].partition(":")
    earlier = recipe.stage(name)
    ckpt = stage_dir(runs, recipe, earlier) / "checkpoint.pt"
    if how != "stored":
        return str(ckpt)
    stored = ckpt.with_name("stored.pt")
    if not stored.exists():
        export_weights(ckpt, stored, half=True)
    return str(stored)


def stage_state(recipe: Recipe, stage: Stage, runs: str | Path) -> str:
    """``"done"``, ``"at step k of n"`` or ``"not started"``: what a build would find."""
    ckpt = stage_dir(runs, recipe, stage) / "checkpoint.pt"
    if not ckpt.exists():
        return "not started"
    state = load_checkpoint(ckpt)
    step, total = int(state["step"]), int(state["config"]["steps"])
    return "done" if step >= total else f"at step {step:,} of {total:,}"


def _restorer_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    """``--set`` settings as :meth:`Stage.config` takes them (``model_args.x`` nested)."""
    out: dict[str, Any] = {}
    for key, value in overrides.items():
        if key.startswith("model_args."):
            out.setdefault("model_args", {})[key.split(".", 1)[1]] = value
        else:
            out[key] = value
    return out


def auxiliary_args(recipe: Recipe, stage: Stage, runs: str | Path) -> dict[str, str]:
    """The stage's ``"@stage"`` auxiliary networks (``model_args``) as the checkpoints those stages wrote."""
    return {k: str(stage_dir(runs, recipe, recipe.stage(name)) / "checkpoint.pt")
            for k, name in stage.auxiliary_stages().items()}


def run_stage(recipe: Recipe, stage: Stage, runs: str | Path, overrides: dict[str, Any], progress: bool,
              ctx: distributed.Context = distributed.Context()) -> dict:
    """Train one stage (resuming its checkpoint); returns the checkpoint's state. Under ``torchrun``
    an auxiliary stage trains on rank 0 while the others wait."""
    out = stage_dir(runs, recipe, stage)
    if stage.auxiliary:
        if ctx.main:
            _, _, trainer, _ = TRAINERS[stage.network]
            trainer(out, stage.preset, overrides.get("steps", stage.steps), resume=True, progress=progress)
        distributed.barrier(ctx)
    else:
        over = _restorer_overrides(overrides)
        over["model_args"] = {**over.get("model_args", {}), **auxiliary_args(recipe, stage, runs)}
        init = start_of(recipe, stage, runs) if ctx.main else None
        init = distributed.broadcast(init, ctx)      # rank 0 writes an earlier stage's fp16 export, once
        result = train(stage.config(**over, init_from=init, out=str(out), progress=progress), resume=True)
        if ctx.main:
            write_history(result)
        distributed.barrier(ctx)
    return load_checkpoint(out / "checkpoint.pt")


def build(name: str, runs: str | Path = "runs", overrides: Optional[dict[str, Any]] = None,
          sets: Optional[Sequence[str]] = None, qfs: Sequence[int] = EVAL_QFS, replace: bool = False,
          progress: bool = True, say: Callable[[str], None] = print, recipe: str = "zoo") -> Optional[dict[str, Any]]:
    """Run recipe ``name`` stage by stage and add the result to the zoo; returns the manifest entry
    (``None`` on the ranks other than 0 of a ``torchrun`` build).

    ``overrides``: settings applied to every stage (e.g. ``{"steps": 2}`` for a smoke build; a
    build with overrides trains into the same folders, so use another ``runs``). ``sets`` / ``qfs``:
    what the entry is measured on (default: the recipe's sets, else the zoo's). An entry that
    exists is replaced only with ``replace`` (its weights stay in git history). ``recipe="paper"``:
    the paper recipe of ``name`` (a model, zoo or paper recipe name)."""
    chosen = get(name, recipe)
    name = chosen.name
    overrides = dict(overrides or {})
    if name in manifest() and not replace:
        raise ValueError(f"zoo model {name!r} exists; add --replace to build it again over it")
    for needed in chosen.needs():
        info(needed)          # a clear error now, not after hours of training
    if "train_set" not in overrides:
        missing = [n for n in chosen.train_sets() if not available(n)]
        if missing:
            raise ValueError(f"{name} trains on {', '.join(chosen.train_sets())}; not installed: {', '.join(missing)} "
                             f"(fetch: {fetch_command(*missing)})")
    ctx = distributed.setup(resolve_device(overrides.get("device", "auto")))
    try:
        return _build(chosen, runs, overrides, sets, qfs, progress, say if ctx.main else (lambda line: None), ctx)
    finally:
        distributed.teardown(ctx)


def _build(recipe: Recipe, runs: str | Path, overrides: dict[str, Any], sets: Optional[Sequence[str]],
           qfs: Sequence[int], progress: bool, say: Callable[[str], None], ctx: distributed.Context
           ) -> Optional[dict[str, Any]]:
    name = recipe.name
    seconds = 0.0
    for i, stage in enumerate(recipe.stages, 1):
        say(f"[{i}/{len(recipe.stages)}] {name}/{stage.name}: {stage_state(recipe, stage, runs)}")
        seconds += float(run_stage(recipe, stage, runs, overrides, progress and ctx.main, ctx)["seconds"])
    if not ctx.main:
        distributed.barrier(ctx)          # rank 0 measures and records the model
        return None
    last = stage_dir(runs, recipe, recipe.stages[-1]) / "checkpoint.pt"
    command = (f"python -m jarlib.zoo build {name}" + (" --recipe paper" if recipe.paper else "")
               + "".join(f" --set {k}={json.dumps(v)}" for k, v in overrides.items()))
    entry = add(name, last, command, sets=list(sets or recipe.sets or []) or None, qfs=tuple(qfs))
    entry["recipe"] = {"name": name, "hash": recipe.digest(), "stages": [s.name for s in recipe.stages]}
    starts = [s.start for s in recipe.stages if s.start and not s.start.startswith("@")]
    before = sum(float(info(z)["training"].get("cpu_minutes_total", info(z)["training"]["cpu_minutes"]))
                 for z in dict.fromkeys(starts))
    entry["training"]["cpu_minutes_total"] = round(seconds / 60 + before, 1)
    if starts:
        entry["training"]["init_weights"] = {"from": starts[0], "sha256": info(starts[0])["sha256"]}
    write_entry(name, entry)
    say(f"{name}: added to the zoo ({entry['training']['cpu_minutes_total']} minutes of training in all)")
    distributed.barrier(ctx)
    return entry


def dry_run(name: str, runs: str | Path = "runs", recipe: str = "zoo") -> list[str]:
    """The stages of recipe ``name``, their estimated time and how far ``runs`` already has them."""
    recipe = get(name, recipe)
    name = recipe.name
    lines = describe(recipe, str(runs))
    lines.append("in " + str(Path(runs) / name) + ": " + "; ".join(
        f"{s.name} {stage_state(recipe, s, runs)}" for s in recipe.stages))
    return lines


def estimate(name: str, recipe: str = "zoo", steps: int = 20, device: str = "auto") -> Iterator[str]:
    """``--estimate``: the recipe's stages timed on this machine (:func:`jarlib.recipes.cost.timed_lines`)
    after its counted cost, so the two can be compared."""
    chosen = get(name, recipe)
    yield f"{chosen.name}: {chosen.about}"
    yield from cost.counted_lines(chosen)
    on_gpu = torch.cuda.is_available() and device != "cpu"
    yield (f"timing {steps} steps per stage on {torch.cuda.get_device_name()} ..." if on_gpu
           else "timing 3 steps per stage on the CPU (no GPU here), at 2 patches a step, scaled to the batch ...")
    yield from cost.timed_lines(chosen, steps, device)
