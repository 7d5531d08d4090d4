"""DnCNN (the baseline of notebook 03): the zoo's dncnn_gray."""

from jarlib.recipes.base import Recipe, Stage

RECIPES = [
    Recipe("dncnn_gray", (
        Stage("long", model="dncnn", preset="cpu", overrides={"steps": 15000},
              why="the preset's cosine schedule stretched from 5,000 to 15,000 steps: at this scale length "
                  "beats width (benchmarks/results/preset_history.md), and the 5,000-step model stopped "
                  "at +0.83 dB on LIVE1 at QF 10 (benchmarks/results/longer_runs.csv)"),
        Stage("l2_finish", model="dncnn", overrides={"loss": "l2", "lr": 1e-4, "warmup": 100, "steps": 4000},
              start="@long", why="an L2 image loss at FBCNN's finishing rate: PSNR is a mean squared error"),
    ),
           about="DnCNN 12 x 32 without batch norm, blind over QF 10-60"),
    Recipe("dncnn_paper", (
        Stage("train", model="dncnn", preset="paper",
              why="20 layers of 64 maps with BatchNorm, 50x50 patches, batch 128, QF 5-99 blind, L2 (residual learning)"),),
           paper=True, paper_row=("fbcnn", "Table 1", "DnCNN"), about="DnCNN-3's deblocking setting at the paper's size (Zhang et al., TIP 2017)",
           source="The paper trains DnCNN-3 on 291 images (the 91 of Yang et al. and BSDS500's 200 training "
                  "images); the 91 are not in the registry, so this trains on BSDS500 train alone. Optimizer "
                  "and schedule: the preset's (jarlib/models/dncnn.py)."),
]
