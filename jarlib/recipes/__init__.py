"""How every zoo model is made, declared once: a :class:`Recipe` is the zoo entry's name and a list
of named :class:`Stage` s, each a training run (a model preset and its overrides, or an auxiliary
network) that may start from an earlier stage of the same recipe or from another zoo model.

``python -m jarlib.zoo build NAME`` runs a recipe's stages in order into ``runs/NAME/<stage>/``
(resuming an interrupted build) and adds the result to the zoo (:mod:`jarlib.zoo.build`);
``--dry-run`` prints the stages and their estimated CPU time. The manifest records the recipe's name
and :meth:`Recipe.digest`, so an entry says which declaration made it.

One file per paper holds its recipes (``dcsc.py``, ``fbcnn.py``, ...); :data:`RECIPES` collects them.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from jarlib.auxiliary import TRAINERS
from jarlib.data import available, fetch_command
from jarlib.pretrained import manifest
from jarlib.recipes import arcnn, cost, cqr, dcsc, dncnn, dual_priors, fbcnn, qgcn
from jarlib.recipes.base import Recipe, Stage


def _collect(paper: bool) -> dict[str, Recipe]:
    out: dict[str, Recipe] = {}
    for module in (dcsc, dncnn, arcnn, fbcnn, qgcn, cqr, dual_priors):
        for r in module.RECIPES:
            if r.name in out:
                raise ValueError(f"two recipes named {r.name!r}")
            if r.paper == paper:
                out[r.name] = r
    return out


def get(name: str, recipe: str = "zoo") -> Recipe:
    """The recipe of zoo model ``name`` (``recipe="zoo"``), or with ``recipe="paper"`` the paper
    recipe of the model behind ``name``: ``fbcnn_gray``, ``fbcnn`` and ``fbcnn_paper`` all give
    ``fbcnn_paper``."""
    if recipe not in ("zoo", "paper"):
        raise ValueError(f"recipe must be 'zoo' or 'paper', got {recipe!r}")
    if recipe == "paper" or name in PAPER_RECIPES:
        return paper_recipe(name)
    if name not in RECIPES:
        raise ValueError(f"no recipe {name!r}; known: {', '.join(sorted(RECIPES))} "
                         f"(and with --recipe paper: {', '.join(sorted(PAPER_RECIPES))})")
    return RECIPES[name]


def paper_recipe(name: str) -> Recipe:
    """The paper recipe for ``name``: a paper recipe's own name, a model name (``"dcsc"``) or a zoo
    recipe's name (``"dcsc_gray"``: the model its last stage trains)."""
    if name in PAPER_RECIPES:
        return PAPER_RECIPES[name]
    model = name
    if name in RECIPES:
        model = next((s.model for s in reversed(RECIPES[name].stages) if not s.auxiliary), "")
    found = [r for r in PAPER_RECIPES.values() if any(s.model == model for s in r.stages)]
    if not found:
        raise ValueError(f"no paper recipe for {name!r}; paper recipes: {', '.join(sorted(PAPER_RECIPES))} "
                         f"(or a model: {', '.join(sorted({s.model for r in PAPER_RECIPES.values() for s in r.stages if s.model}))})")
    return found[0]


def minutes_per_step(recipe: Recipe, stage: Stage, entries: Optional[dict[str, Any]] = None) -> Optional[float]:
    """Training CPU-minutes per step of ``stage``, from what the zoo recorded for the same network
    (this recipe's entry for a restorer stage of its model, the auxiliary entry for an auxiliary
    stage), scaled by pixels per step; ``None`` when nothing comparable is recorded. ``entries``:
    the manifest, when the caller has read it already."""
    entries = manifest() if entries is None else entries
    if stage.auxiliary:
        kind = TRAINERS[stage.network][0]
        rec = next((e for e in entries.values() if e.get("kind") == kind), None)
        return rec["training"]["cpu_minutes"] / rec["training"]["steps"] if rec else None
    rec = entries.get(recipe.name)
    if rec is None or rec.get("model") != stage.model:
        return None
    t = rec["training"]
    cfg = stage.config(init_from=None)
    scale = (cfg.patch ** 2 * cfg.batch) / (t["patch"] ** 2 * t["batch"])
    return t["cpu_minutes"] / t["steps"] * scale


def _brief(value: Any) -> str:
    """JSON, with a list of more than eight numbers shown by its ends and length."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_brief(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list) and len(value) > 8:
        return f"[{value[0]}, {value[1]}, ..., {value[-1]}] ({len(value)} values)"
    return json.dumps(value)


def describe(recipe: Recipe, runs: str = "runs") -> list[str]:
    """What ``zoo build NAME --dry-run`` prints: one block per stage, and the total."""
    lines = [f"{recipe.name} ({recipe.kind}): {recipe.about}", f"recipe hash {recipe.digest()}"]
    if recipe.needs():
        lines.append("uses zoo models: " + ", ".join(recipe.needs()))
    if recipe.paper:
        lines.append(f"from the paper: {recipe.source}")
    total, known, entries = 0.0, True, manifest()
    for i, s in enumerate(recipe.stages, 1):
        steps = s.train_steps()
        if recipe.paper:        # no zoo rate to scale: its size here, its cost counted below
            cfg = (TRAINERS[s.network][1][s.preset] if s.auxiliary else s.config(init_from=None).to_dict())
            est = f"patch {cfg['patch']}, batch {cfg['batch']}"
        else:
            rate = minutes_per_step(recipe, s, entries)
            est = f"~{rate * steps:.0f} CPU-min" if rate is not None else "no recorded rate"
            total += rate * steps if rate is not None else 0.0
            known &= rate is not None
        what = (f"auxiliary {s.network}, preset {s.preset}" if s.auxiliary
                else f"{s.model}, preset {s.preset}" + (f", {_brief(s.overrides)}" if s.overrides else ""))
        lines.append(f"  {i}. {s.name}: {what}")
        lines.append(f"     start: {s.start or 'random'}; {steps:,} steps; {est}; into {runs}/{recipe.name}/{s.name}/")
        if s.why:
            lines.append(f"     why: {s.why}")
    if recipe.paper:
        have = {n: available(n) for n in recipe.train_sets()}
        lines.append("training data: " + ", ".join(f"{n} ({'installed' if ok else 'not installed'})" for n, ok in have.items())
                     + ("" if all(have.values()) else f"; fetch: {fetch_command(*[n for n, ok in have.items() if not ok])}"))
        lines += cost.counted_lines(recipe)
        lines.append(f"timed on this machine: python -m jarlib.zoo build {recipe.name} --recipe paper --estimate")
        return lines
    lines.append(f"estimated total: {'~' if known else 'at least ~'}{total:.0f} CPU-minutes "
                 "(from the rates the zoo recorded; another machine differs)")
    return lines


RECIPES: dict[str, Recipe] = _collect(paper=False)
"""Every zoo model's recipe, by the zoo name it builds."""

PAPER_RECIPES: dict[str, Recipe] = _collect(paper=True)
"""The papers' recipes at their own scale and on their own data (one per model: ``dcsc_paper``, ...),
built with ``python -m jarlib.zoo build NAME --recipe paper`` into a zoo entry of that name."""

__all__ = ["PAPER_RECIPES", "RECIPES", "Recipe", "Stage", "describe", "get", "minutes_per_step", "paper_recipe"]
