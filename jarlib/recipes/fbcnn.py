"""FBCNN (paper 13): fbcnn_gray_small, the flagship fbcnn_gray grown from it, FBCNN-A
(fbcnn_gray_double) and FBCNN-C (fbcnn_color). What each fbcnn_gray stage bought is measured by
``benchmarks/fbcnn_stage2_probes.py`` (benchmarks/results/fbcnn_stage2_probes.csv)."""

from jarlib.data import log_spaced_qualities
from jarlib.recipes.base import Recipe, Stage

WIDE = {"model_args": {"channels": [32, 64, 128, 192]}}
LOG_QF = {"qf_choices": [int(q) for q in log_spaced_qualities(10, 90, 40)], "val_qfs": [10, 30, 70]}
L2 = {**WIDE, **LOG_QF, "loss": "l2 + 0.1*qf_l1"}

RECIPES = [
    Recipe("fbcnn_gray_small", (Stage("train", model="fbcnn", preset="cpu"),),
           about="FBCNN-cpu, channels [24, 48, 96, 128], blind over QF 10-90"),
    Recipe("fbcnn_gray", (
        Stage("wider", model="fbcnn", overrides={**WIDE, "lr": 3e-4, "warmup": 200, "steps": 9000},
              start="fbcnn_gray_small", why="Net2WiderNet to channels [32, 64, 128, 192] (probe wider)"),
        Stage("wider_long", model="fbcnn", overrides={**WIDE, **LOG_QF, "lr": 3e-4, "warmup": 200, "steps": 16000},
              start="@wider", why="the QF drawn log-uniform over 10-90 (probe wider_long)"),
        Stage("l2_finish", model="fbcnn", overrides={**L2, "lr": 1e-4, "warmup": 100, "steps": 8000},
              start="@wider_long:stored", why="an L2 image loss: PSNR is a mean squared error (probe l2_finish)"),
        Stage("l2_cycle", model="fbcnn", overrides={**L2, "lr": 1.5e-4, "warmup": 200, "steps": 12000},
              start="@l2_finish:stored", why="a second cosine cycle (SGDR; probe l2_cycle)"),
        Stage("l2_third", model="fbcnn", overrides={**L2, "lr": 1e-4, "warmup": 200, "steps": 12000},
              start="@l2_cycle:stored", why="a third, lower cycle (probe l2_third)"),
        Stage("aligned", model="fbcnn", overrides={**L2, "lr": 1e-4, "warmup": 200, "steps": 10000, "grid_shift": 0.0},
              start="@l2_third:stored", why="every patch on the JPEG block grid, as in a file (probe aligned)"),
    ), about="FBCNN-cpu at channels [32, 64, 128, 192], grown from fbcnn_gray_small and finished with L2"),
    Recipe("fbcnn_gray_double", (Stage("train", model="fbcnn", preset="cpu_double", start="fbcnn_gray_small"),),
           about="FBCNN-A: fbcnn_gray_small fine-tuned with non-aligned double JPEG in half of the patches"),
    Recipe("fbcnn_color", (Stage("train", model="fbcnn", preset="cpu_color", start="fbcnn_gray_small"),),
           about="FBCNN-C: the same network on RGB, started from fbcnn_gray_small"),
    Recipe("fbcnn_paper", (
        Stage("train", model="fbcnn", preset="paper", overrides={"train_set": "div2k_train+flickr2k"},
              why="128x128 patches, batch 256, QF 10-95, Adam 1e-4 halved every 40,000 steps, L1 + 0.1 QF L1"),),
           paper=True, paper_row=("fbcnn", "Table 1", "FBCNN"), about="FBCNN at the paper's size (71,919,490 parameters, the official code's), gray (Y)",
           source="§4.1: DIV2K + Flickr2K, MATLAB's JPEG encoder (Pillow's here), 8 RTX 2080 Ti for about two "
                  "days. The released code differs in most settings (patch 96, batch 128, lr 2e-5, ...); "
                  "this follows the paper. FBCNN-C: --set mode=rgb"),
]
