"""DCSC (paper 10): the zoo's dcsc_gray."""

from jarlib.recipes.base import Recipe, Stage

RECIPES = [
    Recipe("dcsc_gray", (
        Stage("l1", model="dcsc", preset="cpu", overrides={"steps": 15000},
              why="the preset's cosine schedule stretched to 15,000 steps: at 4,000 the validation curve was "
                  "still rising when the learning rate reached zero (an L2 finish after it was tried and "
                  "not kept: benchmarks/results/longer_runs.csv, run dcsc_gray/l2)"),
    ),
           sets=("classic5", "live1_gray", "bsds500_val"),
           about="DCSC-small widened (16 filters, 32 features, 10 LISTA iterations), one model for QF 10-40"),
    Recipe("dcsc_paper", (
        Stage("train", model="dcsc", preset="paper",
              overrides={"train_set": "bsds500_train+bsds500_test", "qf_choices": [10, 20, 30]},
              why="80x80 patches, batch 10, Adam at a fixed 1e-4, L1 (Eq. 7), QF 10, 20 and 30 in one model"),),
           sets=("classic5", "live1_gray", "bsds500_val"), paper=True, paper_row=("dcsc", "Errata", "DCSC-original (re-evaluated)"),
           about="DCSC as in the ICCV 2019 paper: 3 x 32 dilated maps, 64 features, R = 40 (93,697 parameters)",
           source="§2.4: BSD500 train+test (400 images), MATLAB JPEG at QF 10, 20, 30 (Pillow's here: the same "
                  "pixels for gray images, notebook 01), 1,000,000 random 80x80 patches. The iterations are not "
                  "stated: 100,000 steps of 10 patches is those patches once. The erratum's larger model: "
                  "--set model_args.filters=48 model_args.features=128 qf_choices=[10,20,30,40]"),
]
