"""Training patches made on the fly: (JPEG-compressed, clean, QF) triples, as FBCNN trains (§2.2–2.4).

Each item is made from scratch from ``(seed, epoch, index)`` alone, so item ``k`` of epoch ``e`` is
the same whatever order the items are asked for, in whichever process: a run resumes exactly by
asking for the same indices again (e.g. ``Subset(ds, range(start, len(ds)))``), and no global RNG
(numpy, random or torch) is read or changed.

Recipe for one item (draws in this fixed order from ``numpy.random.default_rng([seed, epoch, index])``):

1. an image (uniform), single or double JPEG (``double_fraction``), one of the 8 flips/rotations
   (``augment``), grid shift or not (``grid_shift``);
2. a square crop of P (or P + 8 when a shift or double JPEG needs the margin), flipped/rotated
   *before* compression, so the JPEG block grid starts at the patch's top-left corner;
3. single JPEG at a QF drawn from ``qf_range`` (or ``qf_choices``); with the random grid shift
   (FBCNN code), the P + 8 crop is compressed and the P x P window taken at an offset in 0..7, so
   the blocks are *not* aligned with the patch on purpose; or non-aligned double JPEG (FBCNN Eq. 5)
   on a (P + i) x (P + j) crop: QF1, drop i rows and j columns, QF2, with i, j in 0..7. Double JPEG
   items have QF label NaN (there is no single true QF): mask them out of a QF loss per sample.

Taught in ``notebooks/02_degradations_and_data.ipynb``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple, Optional, Union

import numpy as np
import torch
from torch.utils.data import Dataset

from jarlib._checks import as_image_array, check_quality
from jarlib.color import to_gray_y
from jarlib.data.degrade import MAX_SHIFT, QualitySpec, check_quality_spec, double_jpeg, draw_quality, draw_shift
from jarlib.data.registry import load_dataset
from jarlib.jpeg import compress

ImageSource = Union[str, Mapping[str, np.ndarray], Sequence[np.ndarray], Sequence[tuple[str, np.ndarray]]]
"""A registry set name (``"bsds500_train"``), a ``{name: image}`` dict, a list of images, or a list
of ``(name, image)`` pairs (what :func:`jarlib.data.load_dataset` returns)."""

MARGIN = MAX_SHIFT + 1
"""Extra crop size a grid shift or double JPEG needs: P + 8 pixels per side."""


class PatchSample(NamedTuple):
    """One item before conversion to tensors: uint8 (P, P) or (P, P, 3) patches and how they were made."""

    compressed: np.ndarray
    clean: np.ndarray
    quality: Optional[int]  # None for double JPEG
    quality1: Optional[int]  # double JPEG only
    quality2: Optional[int]  # double JPEG only
    shift: tuple[int, int]  # grid offset of the (last-but-one) JPEG relative to the patch; (0, 0) aligned
    image: str  # name of the source image
    box: tuple[int, int, int]  # (top, left, size) of the crop in the source image, before flips
    dihedral: int  # 0..7: k = d % 4 quarter turns, then a left-right flip if d >= 4


def dihedral(img: np.ndarray, d: int) -> np.ndarray:
    """One of the 8 flips/rotations of the square: ``d % 4`` quarter turns (``np.rot90``), then a
    left-right flip if ``d >= 4``. (H, W[, C]) -> (W or H, ...), a new contiguous array."""
    if not 0 <= d <= 7:
        raise ValueError(f"dihedral index must be in 0..7, got {d}")
    out = np.rot90(img, k=d % 4, axes=(0, 1))
    if d >= 4:
        out = out[:, ::-1]
    return np.ascontiguousarray(out)


def to_tensor(img: np.ndarray) -> torch.Tensor:
    """uint8 (H, W) -> float32 (1, H, W); (H, W, 3) -> (3, H, W); values / 255, in [0, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(img)).to(torch.float32).div_(255.0)
    return t.unsqueeze(0) if t.ndim == 2 else t.permute(2, 0, 1).contiguous()


def named_images(images: ImageSource, mode: str) -> list[tuple[str, np.ndarray]]:
    """``(name, image)`` pairs from any image source: a registry set name (loaded in ``mode``), a
    dict, ``(name, image)`` pairs (what :func:`jarlib.data.evaluation_source` gives without the
    set) or bare images (named ``image k``, as they are)."""
    if isinstance(images, str):

        return load_dataset(images, mode=mode)
    if isinstance(images, Mapping):
        return list(images.items())
    if isinstance(images, np.ndarray):
        raise TypeError("images must be a list of images (or a dict / set name), not one array")
    named = []
    for k, item in enumerate(images):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            named.append(item)
        else:
            named.append((f"image {k}", item))
    return named


def _convert(name: str, img: np.ndarray, mode: str) -> np.ndarray:
    img = as_image_array(img, name, allow_float=False)
    if mode == "gray":
        return np.ascontiguousarray(to_gray_y(img))  # MATLAB Y; a copy is made below if needed
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"{name} is gray (shape {img.shape}) but mode='rgb' needs (H, W, 3) images")
    return img


class JpegPatchDataset(Dataset):
    """Random (compressed, clean, qf) patch triples, JPEG-compressed on the fly.

    ``ds[k]`` returns ``(compressed, clean, qf)``: float32 tensors (C, P, P) in [0, 1] (C = 1 for
    ``mode="gray"``, 3 for ``"rgb"``, RGB order) and a float32 scalar tensor ``qf = QF / 100``
    (``nan`` for double JPEG). A ``DataLoader(ds, batch_size=B)`` (``num_workers=0`` is enough on
    2 cores, see ``benchmarks/patch_throughput.py``) stacks them to (B, C, P, P) and (B,).

    Args:
        images: an :data:`ImageSource`; all are copied into memory as uint8 once. Gray mode converts
            colour with MATLAB Y; rgb mode rejects gray images.
        patch_size: P, the side of the square patches. A multiple of 8 (of 16 for colour 4:2:0)
            keeps every JPEG block whole.
        samples_per_epoch: ``len(ds)``.
        qf_range: inclusive ``(low, high)`` (or a fixed int) for single JPEG and for QF1 of double JPEG.
        qf_choices: a list of QFs drawn uniformly instead of ``qf_range`` (e.g. ``[10, 20, 30, 40]``).
        double_fraction: probability in [0, 1] that an item is non-aligned double JPEG (FBCNN-A).
        qf2_range: QF2 of double JPEG; defaults to ``qf_range``.
        grid_shift: probability in [0, 1] of FBCNN's random grid shift for single JPEG (code: 0.5).
        augment: random flip/rotation (8 dihedral transforms) before compression.
        subsampling: chroma subsampling for colour ("4:2:0" as in FBCNN).
        seed, epoch: with the index, all that determines an item. Call :meth:`set_epoch` each epoch.

    Raises ``ValueError`` at construction for images smaller than the crop (P, or P + 8 when
    ``grid_shift`` or ``double_fraction`` is non-zero), naming them; no image is silently skipped.
    """

    def __init__(self, images: ImageSource, patch_size: int = 64, *, mode: str = "gray",
                 samples_per_epoch: int = 1000, qf_range: QualitySpec = (10, 95),
                 qf_choices: Sequence[int] | None = None, double_fraction: float = 0.0,
                 qf2_range: QualitySpec | None = None, grid_shift: float = 0.0, augment: bool = True,
                 subsampling: str = "4:2:0", seed: int = 0, epoch: int = 0) -> None:
        if mode not in ("gray", "rgb"):
            raise ValueError(f"mode must be 'gray' or 'rgb', got {mode!r}")
        if isinstance(patch_size, bool) or not isinstance(patch_size, int) or patch_size < 8:
            raise ValueError(f"patch_size must be an integer >= 8, got {patch_size!r}")
        if isinstance(samples_per_epoch, bool) or not isinstance(samples_per_epoch, int) or samples_per_epoch < 1:
            raise ValueError(f"samples_per_epoch must be a positive integer, got {samples_per_epoch!r}")
        for name, p in (("double_fraction", double_fraction), ("grid_shift", grid_shift)):
            if not (isinstance(p, (int, float)) and 0.0 <= p <= 1.0):
                raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")
        for name, v in (("seed", seed), ("epoch", epoch)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
        self.qf_range = check_quality_spec(qf_range, "qf_range")
        self.qf2_range = check_quality_spec(qf2_range if qf2_range is not None else qf_range, "qf2_range")
        if qf_choices is not None:
            if len(qf_choices) == 0:
                raise ValueError("qf_choices must not be empty")
            self.qf_choices: tuple[int, ...] | None = tuple(check_quality(q, "qf_choices") for q in qf_choices)
        else:
            self.qf_choices = None
        self.patch_size = patch_size
        self.mode = mode
        self.samples_per_epoch = samples_per_epoch
        self.double_fraction = float(double_fraction)
        self.grid_shift = float(grid_shift)
        self.augment = bool(augment)
        self.subsampling = subsampling
        self.seed = seed
        self.epoch = epoch

        need = patch_size + (MARGIN if (double_fraction > 0 or grid_shift > 0) else 0)
        named = [(n, _convert(n, img, mode)) for n, img in named_images(images, mode)]
        if not named:
            raise ValueError("no images given")
        small = [f"{n} {img.shape[:2]}" for n, img in named if min(img.shape[:2]) < need]
        if small:
            raise ValueError(
                f"{len(small)} image(s) smaller than the {need}x{need} crop (patch {patch_size}"
                f"{' + 8 margin for shift/double JPEG' if need > patch_size else ''}): "
                f"{', '.join(small[:5])}{' ...' if len(small) > 5 else ''}. Use a smaller patch or drop them.")
        self.names: tuple[str, ...] = tuple(n for n, _ in named)
        self._images: tuple[np.ndarray, ...] = tuple(np.array(img, dtype=np.uint8, copy=True) for _, img in named)

    def __len__(self) -> int:
        return self.samples_per_epoch

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose items ``ds[k]`` returns (each epoch draws new patches)."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative integer, got {epoch!r}")
        self.epoch = epoch

    def _draw_qf(self, rng: np.random.Generator) -> int:
        if self.qf_choices is not None:
            return self.qf_choices[int(rng.integers(len(self.qf_choices)))]
        return draw_quality(rng, self.qf_range)

    def sample(self, index: int) -> PatchSample:
        """Item ``index`` of the current epoch as uint8 arrays with its recipe (see the module docstring)."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index must be an integer, got {index!r}")
        if not 0 <= index < self.samples_per_epoch:
            raise IndexError(f"index {index} out of range for {self.samples_per_epoch} samples per epoch")
        rng = np.random.default_rng([self.seed, self.epoch, int(index)])
        k = int(rng.integers(len(self._images)))
        is_double = bool(rng.random() < self.double_fraction)
        d = int(rng.integers(8)) if self.augment else 0
        is_shift = bool(rng.random() < self.grid_shift) and not is_double
        p = self.patch_size
        size = p + (MARGIN if (is_double or is_shift) else 0)
        img = self._images[k]
        top = int(rng.integers(img.shape[0] - size + 1))
        left = int(rng.integers(img.shape[1] - size + 1))
        region = dihedral(img[top:top + size, left:left + size], d)
        if is_double:
            q1 = self._draw_qf(rng)
            q2 = draw_quality(rng, self.qf2_range)
            i, j = draw_shift(rng)
            part = region[:p + i, :p + j]
            comp = double_jpeg(part, q1, q2, (i, j), self.subsampling)
            return PatchSample(comp, np.ascontiguousarray(part[i:, j:]), None, q1, q2, (i, j),
                               self.names[k], (top, left, size), d)
        q = self._draw_qf(rng)
        comp = compress(region, q, self.subsampling)
        a, b = draw_shift(rng) if is_shift else (0, 0)
        comp = np.ascontiguousarray(comp[a:a + p, b:b + p])
        clean = np.ascontiguousarray(region[a:a + p, b:b + p])
        # the JPEG grid starts (-a) mod 8 pixels into the patch; report it as the offset (a, b)
        return PatchSample(comp, clean, q, None, None, (a, b), self.names[k], (top, left, size), d)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        s = self.sample(index)
        qf = math.nan if s.quality is None else s.quality / 100.0
        return to_tensor(s.compressed), to_tensor(s.clean), torch.tensor(qf, dtype=torch.float32)

    def __repr__(self) -> str:
        qf = f"choices={list(self.qf_choices)}" if self.qf_choices else f"range={self.qf_range}"
        return (f"JpegPatchDataset({len(self._images)} {self.mode} images, patch={self.patch_size}, "
                f"len={self.samples_per_epoch}, qf {qf}, double={self.double_fraction}, "
                f"grid_shift={self.grid_shift}, augment={self.augment}, seed={self.seed}, epoch={self.epoch})")
