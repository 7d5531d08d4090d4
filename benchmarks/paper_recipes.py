"""The paper recipes in one table: what each trains on, its counted cost on a few GPU classes, and the
published LIVE1 QF 10 row a reproduction should approach. ``docs/reproduce.md`` links it.

    python benchmarks/paper_recipes.py            # writes benchmarks/results/paper_recipes.md
    python benchmarks/paper_recipes.py --check    # exit 1 if the file is not what the recipes give

The hours are *counted* (jarlib.recipes.cost: the networks' multiply-adds at an assumed share of
each GPU's tensor peak), not measured: ``python -m jarlib.zoo build NAME --recipe paper --estimate``
times a few steps on the machine at hand.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "paper_recipes.md"


def table() -> str:
    from jarlib.papers import paper_rows
    from jarlib.recipes import PAPER_RECIPES
    from jarlib.recipes.cost import GPU_CLASSES, UTILISATION, gpu_hours, step_flops

    gpus = list(GPU_CLASSES)
    lines = [
        "# Paper recipes: data, counted cost, the row to expect",
        "",
        "Written by `python benchmarks/paper_recipes.py` from `jarlib/recipes/` (do not edit by hand).",
        f"Hours are counted, not measured: 6 x multiply-adds per pixel x patch² x batch per step, at {UTILISATION:.0%}",
        "of each GPU's dense fp16/bf16 tensor peak, ideal scaling over eight; the loss's own networks and the",
        "patch making are not counted. Time your own machine: `python -m jarlib.zoo build NAME --recipe paper --estimate`.",
        "The last column is the paper's LIVE1 QF 10 row (PSNR / SSIM / PSNR-B, gray).",
        "",
        "| recipe | stages | steps | trains on | " + " | ".join(f"{g}: 1 / 8 GPUs (h)" for g in gpus)
        + " | paper, LIVE1 QF 10 |",
        "|---" * (5 + len(gpus)) + "|",
    ]
    for name, r in sorted(PAPER_RECIPES.items()):
        flops = sum(step_flops(r, s) * s.train_steps() for s in r.stages)
        steps = " + ".join(f"{s.train_steps():,}" for s in r.stages)
        hours = " | ".join(f"{gpu_hours(flops, 1, GPU_CLASSES[g]):,.1f} / {gpu_hours(flops, 8, GPU_CLASSES[g]):,.1f}"
                           for g in gpus)
        paper, tab, method = r.paper_row
        (row,) = paper_rows(paper, tab, "LIVE1", qf=10, method=method)
        lines.append(f"| `{name}` | {', '.join(s.name for s in r.stages)} | {steps} | {' + '.join(r.train_sets())} | "
                     f"{hours} | {row.psnr:.2f} / {row.ssim:.4g} / {row.psnrb:.2f} ({paper} {tab}, {method}) |")
    return "\n".join(lines) + "\n"


def main() -> int:
    from jarlib.atomic import write_text_atomic

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the file instead of writing it")
    args = parser.parse_args()
    text = table()
    if args.check:
        same = OUT.exists() and OUT.read_text() == text
        print(f"{OUT.relative_to(ROOT)} is {'up to date' if same else 'out of date: run python benchmarks/paper_recipes.py'}")
        return 0 if same else 1
    write_text_atomic(OUT, text)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
