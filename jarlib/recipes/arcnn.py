"""AR-CNN (the baseline of notebook 03): the zoo's arcnn_gray."""

from jarlib.recipes.base import Recipe, Stage

RECIPES = [
    Recipe("arcnn_gray", (Stage("train", model="arcnn", preset="cpu"),),
           about="AR-CNN's four layers with a global residual, blind over QF 10-60"),
]
