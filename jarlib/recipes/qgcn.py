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
    Recipe("qgcn_paper", (
        Stage("stage1", model="qgcn", preset="paper", overrides={"train_set": "div2k_train"},
              why="64x64 patches, batch 256, QF 1-60 (IJG tables), Adam 1e-4 x0.1 twice (every 20 epochs)"),
        Stage("stage2", model="qgcn", preset="paper", start="@stage1",
              overrides={"train_set": "div2k_train", "patch": 256, "batch": 32, "steps": 20000, "lr": 1e-5,
                         "schedule": "constant", "milestones": []},
              why="easy-hard transfer: 256x256 patches, batch 32, so that the global branch sees context"),
    ), paper=True, paper_row=("qgcn", "Table III", "QGCN"), about="QGCN at Table I's size (19,428,993 parameters), gray (Y)",
           source="§III-D, §IV-A: DIV2K (800 images, cut into 256x256 sub-images; here random crops of the "
                  "images), Pillow JPEG at QF 1-60. Stage 2's length and learning rate are not stated: "
                  "20,000 steps at 1e-5 here. The colour model: --set mode=rgb"),
]
