"""Solutions to the exercises of ``notebooks/02_degradations_and_data.ipynb`` (degradations and data).

Run from the repository root:

    python solutions/02_degradations_and_data.py           # the notebook's sizes (about half a minute)
    python solutions/02_degradations_and_data.py --smoke   # fewer patches and QFs; no data set needed

Each function prints what a student should see and asserts it. Without the data sets the images
are the bundled scikit-image samples (``jarlib.data.sample_images``).
"""

from __future__ import annotations

import numpy as np

from jarlib.data import JpegPatchDataset, available, demo_image, double_jpeg, sample_images, single_jpeg
from jarlib.metrics import mse, psnr
from jarlib.models.fbcnn import dominant_qf

from _run import run  # solutions/_run.py: the command line they share


def boundary_energy(img: np.ndarray) -> np.ndarray:
    """Mean |horizontal difference| for each column position c mod 8 (the jump c -> c + 1), as in section 4."""
    d = np.abs(np.diff(img.astype(np.float64), axis=1)).mean(axis=0)
    return np.array([d[k::8].mean() for k in range(8)])


def _image(smoke: bool) -> np.ndarray:
    """Section 3's picture: LIVE1 monarch (gray), else scikit-image's camera; a crop in smoke mode."""
    _, x, _ = demo_image("monarch")
    return x[:256, :256] if smoke else x


def exercise_1(smoke: bool) -> None:
    """Swap QF₁ and QF₂ in section 3 (``double_jpeg(x, 50, 10, (4, 4))``). Which grid dominates the bar
    chart now, and how close is the PSNR to single QF 10?"""
    x = _image(smoke)
    ref = x[4:, 4:]
    swapped = double_jpeg(x, 50, 10, (4, 4))
    single10 = single_jpeg(ref, 10)
    e = boundary_energy(swapped)
    print(f"double (50 -> 10), shift (4, 4): PSNR {psnr(ref, swapped):.2f} dB, single QF 10 {psnr(ref, single10):.2f} dB")
    print("boundary energy by c mod 8:", np.round(e, 2).tolist())
    # the last, strong compression dominates: its grid (position 7) peaks, the mild first grid
    # (position 3) is quantized away; the PSNR is close to (a little below) a single QF 10
    assert e.argmax() == 7 and e[3] < 1.2 * np.median(e)
    assert abs(psnr(ref, swapped) - psnr(ref, single10)) < 0.5


def exercise_2(smoke: bool) -> None:
    """Try the shifts ``(0, 4)`` and ``(4, 0)`` in section 4 and plot the *vertical* boundary energy too."""
    x = _image(smoke)
    for shift in [(0, 4), (4, 0)]:
        img = double_jpeg(x, 10, 50, shift)
        horizontal, vertical = boundary_energy(img), boundary_energy(img.T)
        print(f"shift {shift}: horizontal jumps {np.round(horizontal, 1).tolist()}, vertical {np.round(vertical, 1).tolist()}")
        two_grids, one_grid = (horizontal, vertical) if shift[1] else (vertical, horizontal)
        # the shifted direction shows the first grid moved by 4 (position 3) as well as the last one (7)
        assert two_grids[3] > np.median(two_grids) and two_grids[7] > np.median(two_grids)
        # the other direction: both compressions share one grid, a single peak at 7
        assert one_grid.argmax() == 7 and one_grid[3] < one_grid[7]


def exercise_3(smoke: bool) -> None:
    """Set ``GRID_SHIFT = 1.0`` and redo the boundary-energy bar chart on a batch of single-JPEG patches.
    Why does the peak disappear?"""
    source = "bsds500_train" if available("bsds500_train") else sample_images("gray")
    n = 64 if smoke else 400
    peaks = {}
    for grid_shift in (0.0, 1.0):
        ds = JpegPatchDataset(source, 64, samples_per_epoch=n, qf_range=(10, 30), double_fraction=0.0,
                              grid_shift=grid_shift, seed=0)
        e = np.mean([boundary_energy(ds.sample(k).compressed) for k in range(n)], axis=0)
        peaks[grid_shift] = e[7] / np.median(e)
        print(f"GRID_SHIFT = {grid_shift}: boundary energy {np.round(e, 2).tolist()}, peak / median {peaks[grid_shift]:.2f}")
    print("With the random grid shift each patch is cut at a random offset from a larger JPEG, so its\n"
          "block boundaries sit at a different c mod 8 in every patch: averaged, no position stands out.")
    assert peaks[0.0] > 1.3 and peaks[1.0] < 0.5 * peaks[0.0] + 0.5


def mse_curves(img: np.ndarray, qualities: list[int], shifts: int = 8) -> np.ndarray:
    """MSE between ``img[i:, j:]`` and its JPEG at every QF: (shifts * shifts, len(qualities))."""
    curves = np.empty((shifts * shifts, len(qualities)))
    for k, (i, j) in enumerate((i, j) for i in range(shifts) for j in range(shifts)):
        part = img[i:, j:]
        curves[k] = [mse(part, single_jpeg(part, q)) for q in qualities]
    return curves


def first_minimum(curve: np.ndarray) -> int:
    """Index of the first interior local minimum of a curve (recompressing at the file's own QF
    changes almost nothing, so the MSE dips there before falling again towards QF 100)."""
    return next(k for k in range(1, len(curve) - 1) if curve[k] <= curve[k - 1] and curve[k] < curve[k + 1])


def exercise_4(smoke: bool) -> None:
    """Implement FBCNN-D's dominant-QF search (FBCNN §3.3) on the shifted image of section 3: recompress
    at every QF and shift and find the first minimum."""
    x = _image(smoke)
    h, w = x.shape
    x = x[h // 2 - 128:h // 2 + 128, w // 2 - 128:w // 2 + 128]   # a central 256x256: enough, and fast
    img = double_jpeg(x, 10, 50, (4, 4))
    qualities = list(range(5, 100, 5))                    # the paper searches every QF; steps of 5 suffice here
    curves = mse_curves(img, qualities)
    last = qualities[first_minimum(curves[0])]            # unshifted: the file's own grid, the last QF
    shifted = curves[1:]                                   # every other grid
    below = [k for k, q in enumerate(qualities) if q < last]
    ratio = shifted[:, below] / np.median(shifted[:, below], axis=0)   # the earlier grid dips below the rest
    s, k = np.unravel_index(np.argmin(ratio), ratio.shape)
    found = qualities[below[k]]
    shift = tuple(int(v) for v in divmod(int(s) + 1, 8))
    library = dominant_qf(img)
    print(f"unshifted curve: minimum at QF {last} (the last compression); deepest dip of a shifted curve: "
          f"shift {shift}, QF {found} (ratio {ratio[s, k]:.2f}); jarlib.models.fbcnn.dominant_qf: {library}")
    assert abs(last - 50) <= 5, "the file's own grid reads the last QF"
    assert abs(found - 10) <= 5 and shift == (4, 4), "the first compression: QF 10 on the grid shifted by 4"
    assert library is not None and abs(library - found) <= 5


if __name__ == "__main__":
    run(__doc__, [exercise_1, exercise_2, exercise_3, exercise_4], "small sizes (tests)")
