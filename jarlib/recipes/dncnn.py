"""DnCNN (the baseline of notebook 03): the zoo's dncnn_gray."""

from jarlib.recipes.base import Recipe, Stage

RECIPES = [
    Recipe("dncnn_gray", (Stage("train", model="dncnn", preset="cpu"),),
           about="DnCNN 12 x 32 without batch norm, blind over QF 10-60"),
]
