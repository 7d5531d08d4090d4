"""Dual priors (paper 14): the gradient classifier (stage 1) and the unrolled restorer (stage 2)."""

from jarlib.recipes.base import Recipe, Stage

RECIPES = [
    Recipe("dualpriors_classifier", (Stage("train", network="classifier", preset="cpu"),),
           about="the gradient classifier of stage 1 (BCE, clean against JPEG gradients)"),
    Recipe("dualpriors_gray", (Stage("train", model="dualpriors", preset="cpu"),),
           about="DualPriors-small, K = 3, J = 2, with the frozen classifier (needs dualpriors_classifier)"),
    Recipe("dualpriors_paper", (
        Stage("classifier", network="classifier", preset="paper",
              why="stage 1: the gradient classifier alone, BCE (Eq. 12), clean against QF 10-30 gradients"),
        Stage("restorer", model="dualpriors", preset="paper",
              overrides={"train_set": "bsds500_train+bsds500_test", "qf_choices": [10, 20, 30],
                         "model_args": {"classifier": "@classifier"}},
              why="stage 2: K = 5, J = 3, the classifier frozen, MAE, 64x64 patches, batch 10, Adam 1e-4 fixed"),
    ), sets=("classic5", "live1_gray", "bsds500_val"), paper=True, paper_row=("dualpriors", "Table 1", "DUALPRIORS"),
           about="Dual priors at the paper's size (K = 5 stages, J = 3 inner steps)",
           source="§3.4: BSD500 train+test (400 images), MATLAB JPEG at QF 10, 20, 30 (Pillow's here), one "
                  "model, Y channel. The number of iterations is not stated (the preset's 300,000 here)"),
]
