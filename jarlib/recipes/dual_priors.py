"""Dual priors (paper 14): the gradient classifier (stage 1) and the unrolled restorer (stage 2)."""

from jarlib.recipes.base import Recipe, Stage

RECIPES = [
    Recipe("dualpriors_classifier", (Stage("train", network="classifier", preset="cpu"),),
           about="the gradient classifier of stage 1 (BCE, clean against JPEG gradients)"),
    Recipe("dualpriors_gray", (Stage("train", model="dualpriors", preset="cpu"),),
           about="DualPriors-small, K = 3, J = 2, with the frozen classifier (needs dualpriors_classifier)"),
]
