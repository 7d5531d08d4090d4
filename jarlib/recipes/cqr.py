"""CQR (paper 12): the ranker (cqr_ranker), cqr_gray (trained with the ranker-guided losses) and
cqr_gray_mae (the same network with MAE alone: the paper's "w/o CQR" ablation)."""

from jarlib.recipes.base import Recipe, Stage


def four_stages(name: str, mae: bool, about: str) -> Recipe:
    """QF 10-30, then the paper's QF 10/20/30, then grown to two pairs, then a lower second cycle."""
    p = "cpu_mae" if mae else "cpu"
    first = {} if mae else {"model_args": {"feature_loss": "pixel"}}
    return Recipe(name, (
        Stage("stage1", model="cqr", preset=p, overrides=first),
        Stage("qf3", model="cqr", preset=f"{p}_qf3", start="@stage1", why="the paper's QFs 10, 20 and 30"),
        Stage("deep", model="cqr", preset=f"{p}_deep", start="@qf3",
              why="grown to two [non-local, local] pairs (the new pair starts as the identity)"),
        Stage("finish", model="cqr", preset=f"{p}_deep_finish", start="@deep", why="a second, lower lr cycle"),
    ), about=about)


RECIPES = [
    Recipe("cqr_ranker", (Stage("train", network="ranker", preset="cpu"),),
           about="the compression quality ranker (Ranker-small), margin ranking loss"),
    four_stages("cqr_gray", False, "CQR-small at 48 features, L1 + the ranker's L_Q and L_F (needs cqr_ranker)"),
    four_stages("cqr_gray_mae", True, "the same network with MAE alone"),
    Recipe("cqr_paper", (
        Stage("ranker", network="ranker", preset="paper",
              why="the ranker of §3.1 (10 conv layers, 64-512 maps) on pairs from QF 1-30, margin loss"),
        Stage("deblocker", model="cqr", preset="paper",
              overrides={"train_set": "div2k_train", "qf_choices": [10, 20, 30], "model_args": {"ranker": "@ranker"}},
              why="L1 + 0.01 L_Q + 0.9 L_F with the frozen ranker, QF 10, 20, 30 in one model"),
    ), paper=True, paper_row=("cqr", "Table 2", "CQR"), about="CQR with the paper's ranker and a de-blocker in RNAN's CAR layout (64 features)",
           source="§4.1-4.2: DIV2K (800 images), Y channel, Adam 1e-4 halved every 100,000 steps, two Titan "
                  "Xp. The de-blocker's size, patch and batch are not stated (RNAN's CAR layout here, "
                  "jarlib/models/cqr.py)"),
]
