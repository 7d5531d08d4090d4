"""AR-CNN (the baseline of notebook 03): the zoo's arcnn_gray."""

from jarlib.recipes.base import Recipe, Stage

RECIPES = [
    Recipe("arcnn_gray", (Stage("train", model="arcnn", preset="cpu"),),
           about="AR-CNN's four layers with a global residual, blind over QF 10-60"),
    Recipe("arcnn_paper", (
        Stage("train", model="arcnn", preset="paper",
              overrides={"train_set": "bsds500_train+bsds500_test", "qf_choices": [10]},
              why="32x32 sub-images, batch 128, SGD at 5e-4, MSE, one model per QF: this is QF 10"),),
           sets=("classic5", "live1_gray", "bsds500_val"), paper=True, paper_row=("fbcnn", "Table 1", "ARCNN"),
           about="AR-CNN at the paper's size (Dong et al., ICCV 2015): 64-32-16 maps, 9-7-1-5 kernels",
           source="AR-CNN trains on BSDS500 train+test (400 images) and tests on its 100 val images; one "
                  "model per QF (10, 20, 30, 40): --set qf_choices=[20] for the next"),
]
