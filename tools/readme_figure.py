"""The README's two pictures, from scikit-image's ``astronaut`` (public domain, NASA; bundled with
scikit-image, so no data set is needed), each panel with its PSNR over the whole image:

- ``docs/before_after.png``: the original, Pillow's JPEG at QF 10, and what a zoo model makes of
  the JPEG bytes;
- ``docs/recompressed_qf.png``: when to set ``--qf``. A photo saved at a low quality, then cropped
  and saved again at a high one (what happens to photos passed around the web): the last file's
  tables, and FBCNN's blind estimate, say the high quality, so the blind restoration is mild;
  ``--qf`` set to the first compression's quality cleans the artifacts that are really there.

    python tools/readme_figure.py                  # both pictures
    python tools/readme_figure.py --model qgcn_color --qf 20 --only before_after
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from jarlib import zoo  # noqa: E402
from jarlib.atomic import atomic_path  # noqa: E402
from jarlib.data import sample_images  # noqa: E402
from jarlib.jpeg import decode_bytes, encode_bytes  # noqa: E402
from jarlib.metrics import psnr  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"
BOX = (40, 150, 150, 200)    # top, left, height, width: the face
FIRST_QF, LAST_QF, SHIFT = 15, 85, (3, 5)   # the recompressed photo: QF 15, cropped by SHIFT, saved at QF 85


def save(panels: list[tuple[str, np.ndarray]], out: Path) -> None:
    """The panels' crops side by side, written atomically to ``out``."""
    top, left, h, w = BOX
    fig, axes = plt.subplots(1, len(panels), figsize=(3.5 * len(panels), 4.0))
    for ax, (title, img) in zip(axes, panels):
        ax.imshow(img[top:top + h, left:left + w], interpolation="nearest")
        ax.set_title(title, fontsize=11)
        ax.set_axis_off()
    fig.tight_layout()
    with atomic_path(out, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=80, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {out}: " + "; ".join(t.replace("\n", " ") for t, _ in panels[1:]))


def before_after(model_name: str, qf: int) -> None:
    clean = sample_images("rgb")["astronaut"]
    data = encode_bytes(clean, qf)
    jpeg, restored = decode_bytes(data), zoo.load(model_name).restore(data)
    save([("original", clean), (f"JPEG QF {qf}: {psnr(clean, jpeg):.2f} dB", jpeg),
          (f"{model_name}: {psnr(clean, restored):.2f} dB", restored)], DOCS / "before_after.png")


def recompressed(model_name: str) -> None:
    model = zoo.load(model_name)
    top, left = SHIFT
    clean = sample_images("rgb")["astronaut"][top:, left:]
    first = decode_bytes(encode_bytes(sample_images("rgb")["astronaut"], FIRST_QF))
    data = encode_bytes(first[top:, left:], LAST_QF)
    jpeg, blind, knob = decode_bytes(data), model.restore(data), model.restore(data, qf=FIRST_QF)
    save([("original", clean),
          (f"saved at QF {FIRST_QF}, cropped,\nsaved at QF {LAST_QF}: {psnr(clean, jpeg):.2f} dB", jpeg),
          (f"{model_name}, blind (reads QF {model.predict_qf(data):.0f}):\n{psnr(clean, blind):.2f} dB", blind),
          (f"{model_name} --qf {FIRST_QF}:\n{psnr(clean, knob):.2f} dB", knob)], DOCS / "recompressed_qf.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fbcnn_color")
    parser.add_argument("--qf", type=int, default=10, help="the before/after picture's JPEG quality")
    parser.add_argument("--only", choices=["before_after", "recompressed"])
    args = parser.parse_args()
    if args.only != "recompressed":
        before_after(args.model, args.qf)
    if args.only != "before_after":
        recompressed(args.model)


if __name__ == "__main__":
    main()
