"""The README's before/after picture: a zoomed crop of scikit-image's ``astronaut`` (public domain,
NASA; bundled with scikit-image, so no data set is needed) — the original, Pillow's JPEG at QF 10,
and what a zoo model makes of the JPEG bytes, each with its PSNR over the whole image.

    python tools/readme_figure.py                              # -> docs/before_after.png
    python tools/readme_figure.py --model qgcn_color --qf 20
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from jarlib import zoo  # noqa: E402
from jarlib.atomic import atomic_path  # noqa: E402
from jarlib.data import sample_images  # noqa: E402
from jarlib.jpeg import decode_bytes, encode_bytes  # noqa: E402
from jarlib.metrics import psnr  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "before_after.png"
BOX = (40, 150, 150, 200)    # top, left, height, width: the face


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fbcnn_color")
    parser.add_argument("--qf", type=int, default=10)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    model = zoo.load(args.model)
    clean = sample_images("rgb")["astronaut"]
    data = encode_bytes(clean, args.qf)
    jpeg, restored = decode_bytes(data), model.restore(data)
    top, left, h, w = BOX
    panels = [("original", clean), (f"JPEG QF {args.qf}: {psnr(clean, jpeg):.2f} dB", jpeg),
              (f"{args.model}: {psnr(clean, restored):.2f} dB", restored)]
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 4.0))
    for ax, (title, img) in zip(axes, panels):
        ax.imshow(img[top:top + h, left:left + w], interpolation="nearest")
        ax.set_title(title, fontsize=11)
        ax.set_axis_off()
    fig.tight_layout()
    out = Path(args.out)
    with atomic_path(out, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=80, bbox_inches="tight")
    print(f"wrote {out}: " + "; ".join(t for t, _ in panels[1:]))


if __name__ == "__main__":
    main()
