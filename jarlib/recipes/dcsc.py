"""DCSC (paper 10): the zoo's dcsc_gray."""

from jarlib.recipes.base import Recipe, Stage

RECIPES = [
    Recipe("dcsc_gray", (Stage("train", model="dcsc", preset="cpu"),),
           sets=("classic5", "live1_gray", "bsds500_val"),
           about="DCSC-small widened (16 filters, 32 features, 10 LISTA iterations), one model for QF 10-40"),
]
