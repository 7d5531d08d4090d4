"""The two types of a recipe: :class:`Stage` (one training run) and :class:`Recipe` (the stages that
make one zoo model). The recipes themselves are in one file per paper beside this one."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from jarlib.auxiliary import TRAINERS
from jarlib.data import set_names
from jarlib.train import TrainConfig

AUXILIARY_ARGS = ("ranker", "classifier")
"""The model arguments that name a trained auxiliary network: a zoo name, or ``"@stage"`` for the
checkpoint of an earlier (auxiliary) stage of the same recipe."""


@dataclass(frozen=True)
class Stage:
    """One training run of a recipe.

    A restorer stage names ``model`` (a registry name) and its ``preset``; ``overrides`` are
    :class:`~jarlib.train.TrainConfig` settings on top of the preset (``model_args`` merged into the
    preset's). An auxiliary stage names ``network`` (``"ranker"`` or ``"classifier"``,
    :data:`jarlib.auxiliary.TRAINERS`) instead, with its ``preset`` and optional ``steps``.

    ``start`` is where a restorer stage's weights begin (``init_from``): ``None`` (random), an
    earlier stage (``"@name"``: its checkpoint, fp32 as trained; ``"@name:stored"``: its weights as
    the zoo stores them, fp16, which is how the shipped models were chained), or the name of another
    zoo model. A restorer's ``model_args`` may name its auxiliary network (``ranker``, ``classifier``)
    as ``"@stage"``: the checkpoint an earlier auxiliary stage trains (the paper recipes train theirs).
    """

    name: str
    model: Optional[str] = None
    preset: str = "cpu"
    overrides: dict[str, Any] = field(default_factory=dict)
    start: Optional[str] = None
    network: Optional[str] = None
    steps: Optional[int] = None
    why: str = ""

    @property
    def auxiliary(self) -> bool:
        return self.network is not None

    def auxiliary_stages(self) -> dict[str, str]:
        """``{model argument: earlier stage}`` for each auxiliary network named ``"@stage"``."""
        args = self.overrides.get("model_args", {})
        return {k: args[k][1:] for k in AUXILIARY_ARGS if isinstance(args.get(k), str) and args[k].startswith("@")}

    def references(self) -> list[str]:
        """Earlier stages this one uses: its ``start`` and any ``"@stage"`` auxiliary network."""
        return ([self.earlier()] if self.earlier() else []) + list(self.auxiliary_stages().values())

    def train_sets(self) -> list[str]:
        """The registry sets the stage trains on (a ``+``-joined ``train_set`` split)."""
        if self.auxiliary:
            spec = TRAINERS[self.network][1][self.preset].get("train_set", "bsds500_train")
        else:
            spec = self.config(init_from=None).train_set
        return set_names(spec)

    def earlier(self) -> Optional[str]:
        """The earlier stage ``start`` names, if it names one."""
        if self.start and self.start.startswith("@"):
            return self.start[1:].split(":")[0]
        return None

    def config(self, **extra: Any) -> TrainConfig:
        """The restorer stage's config: preset + overrides + ``extra`` (``init_from`` and ``out``
        are the builder's to set; ``extra["model_args"]`` is merged into the stage's own)."""
        if self.auxiliary:
            raise ValueError(f"stage {self.name!r} trains an auxiliary network, not a restorer")
        extra = dict(extra)
        args = {**self.overrides.get("model_args", {}), **extra.pop("model_args", {})}
        over = {k: v for k, v in self.overrides.items() if k != "model_args"}
        return TrainConfig.from_preset(self.model, self.preset, model_args=args, **{**over, **extra})

    def train_steps(self) -> int:
        """How many optimizer steps the stage runs."""
        if self.auxiliary:
            return int(self.steps or TRAINERS[self.network][1][self.preset]["steps"])
        return self.config(init_from=None).steps


@dataclass(frozen=True)
class Recipe:
    """Everything that makes the zoo model ``name``: its stages in order (the last one is stored),
    the data sets ``zoo add`` measures it on (``None``: the default for its channels) and a line on
    what the recipe is. A paper recipe (``paper=True``) follows the paper at its own scale and on
    its own data (``source``: where the paper says so, and what was not stated or not fetchable;
    ``paper_row``: ``(paper, table, method)`` of the published LIVE1 QF 10 row it should approach)."""

    name: str
    stages: tuple[Stage, ...]
    sets: Optional[tuple[str, ...]] = None
    about: str = ""
    paper: bool = False
    source: str = ""
    paper_row: Optional[tuple[str, str, str]] = None

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for s in self.stages:
            if s.name in seen or not s.name.isidentifier():
                raise ValueError(f"recipe {self.name}: stage names must be distinct identifiers ({s.name!r})")
            if (s.model is None) == (s.network is None):
                raise ValueError(f"recipe {self.name}, stage {s.name}: name a model or an auxiliary network")
            if s.start == self.name:
                raise ValueError(f"recipe {self.name}, stage {s.name}: cannot start from the entry it builds")
            for ref in s.references():
                if ref not in seen:
                    raise ValueError(f"recipe {self.name}, stage {s.name}: uses @{ref}, not an earlier stage")
            seen.add(s.name)
        if self.stages[-1].auxiliary != (self.kind != "restorer"):
            raise ValueError(f"recipe {self.name}: the last stage makes the stored network")

    def stage(self, name: str) -> Stage:
        """The stage called ``name``."""
        return next(s for s in self.stages if s.name == name)

    @property
    def kind(self) -> str:
        """What the recipe stores: ``"restorer"`` or an auxiliary kind (``"cqr_ranker"``, ...)."""
        last = self.stages[-1]
        return TRAINERS[last.network][0] if last.auxiliary else "restorer"

    def digest(self) -> str:
        """A short hash of the stages and sets (not the prose): changes when the recipe does."""
        data = [{k: v for k, v in asdict(s).items() if k != "why"} for s in self.stages]
        text = json.dumps({"stages": data, "sets": self.sets}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def needs(self) -> list[str]:
        """Other zoo models the recipe uses: a start, CQR's ranker, Dual priors' classifier."""
        out = []
        for s in self.stages:
            if s.start and not s.start.startswith("@"):
                out.append(s.start)
            if not s.auxiliary:
                args = s.config(init_from=None).model_args
                out += [args[k] for k in AUXILIARY_ARGS if isinstance(args.get(k), str) and not args[k].startswith("@")]
        return list(dict.fromkeys(out))

    def train_sets(self) -> list[str]:
        """Every registry set the stages train on, in order of first use."""
        return list(dict.fromkeys(n for s in self.stages for n in s.train_sets()))
