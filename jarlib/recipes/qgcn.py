"""QGCN (paper 11): the zoo's qgcn_gray, its two ablations (qcn_gray: no global branch;
qgcn_gray_noqm: no quantization map) and qgcn_color. Each gray model trains in the paper's two
stages ("easy-hard transfer"): small patches, then larger ones for the global branch."""

from typing import Any

from jarlib.recipes.base import Recipe, Stage


def two_stages(name: str, about: str, **model_args: Any) -> Recipe:
    """A gray QGCN: stage 1 (preset ``cpu``), then stage 2 (``cpu_stage2``) from its checkpoint."""
    over = {"model_args": model_args} if model_args else {}
    return Recipe(name, (Stage("stage1", model="qgcn", preset="cpu", overrides=over),
                         Stage("stage2", model="qgcn", preset="cpu_stage2", overrides=over, start="@stage1",
                               why="larger patches, so the global branch sees more of the image")),
                  about=about)


RECIPES = [
    two_stages("qgcn_gray", "QGCN-small, QF 1-60 like the paper"),
    two_stages("qcn_gray", "QGCN-small without the global branch (the paper's QCN ablation)", global_branch=False),
    two_stages("qgcn_gray_noqm", "QGCN-small without the quantization map (ablation)", use_qmap=False),
    Recipe("qgcn_color", (Stage("train", model="qgcn", preset="cpu_color", start="qgcn_gray",
                                why="the gray model on the mean of R, G, B: the steps go into the chroma"),),
           about="QGCN-small on RGB with luma and chroma maps"),
]
