"""The one interface every trained model of the zoo shares: ``model.restore(jpeg)``.

A model's ``forward`` works on float tensors (B, C, H, W) in [0, 1]; :meth:`Restorer.restore` is what
notebooks, the benchmark and the command line call: it takes a decoded JPEG (uint8 array, gray
(H, W) or RGB (H, W, 3), any size) or a JPEG file's bytes, prepares what the model needs (padding
to a multiple of 8, the QF or quantization tables read from the file), runs the network without
gradients and returns the restored uint8 image of the input's shape.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Optional, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from jarlib._checks import as_image_array, check_quality
from jarlib.block import BLOCK
from jarlib.color import rgb_to_ycbcr, ycbcr_to_rgb
from jarlib.jpeg import decode_bytes, estimate_quality, read_quant_tables
from jarlib.jpeg.header import DEFAULT_MAX_PIXELS
from jarlib.progress import bar

JpegInput = Union[np.ndarray, bytes, bytearray, memoryview, "DecodedJpeg"]

FLIPS: tuple[tuple[int, ...], ...] = ((), (-1,), (-2,), (-2, -1))
"""The tensor dimensions each member of the flip ensemble flips: none, left-right, up-down, both."""


@dataclass
class DecodedJpeg:
    """A JPEG ready for a model: the decoded pixels and what the file says about how it was made.

    ``quality`` is the IJG quality whose tables the file carries (``None`` when unknown: a decoded
    array given without ``quality=``); ``tables`` the file's quantization tables (8x8, natural order),
    ``None`` for an array.
    """

    pixels: np.ndarray
    quality: Optional[int] = None
    tables: Optional[list[np.ndarray]] = None
    qf: Optional[float] = None
    """The quality the restorer is told to assume (``restore(qf=...)``), ``None``: what the file
    says (or, for FBCNN, what it predicts)."""


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """``"auto"``: CUDA when present, else the CPU; any other name is checked, so that asking for
    CUDA where there is none says so in words instead of torch's "not compiled with CUDA"."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        build = "a CPU build of torch" if torch.version.cuda is None else "no CUDA device visible"
        raise ValueError(f"device {str(name)!r}: no CUDA device is available here ({build}); use 'cpu'")
    return dev


def with_file_tables(pixels: np.ndarray, data: bytes) -> DecodedJpeg:
    """``pixels`` decoded from the JPEG file ``data``, with the file's quantization tables and the
    quality its luma table says (exact for IJG tables)."""
    tables = read_quant_tables(data)
    return DecodedJpeg(pixels, estimate_quality(tables), tables)


def decode_jpeg(data: bytes, max_pixels: Optional[int] = DEFAULT_MAX_PIXELS) -> DecodedJpeg:
    """A JPEG file's bytes decoded with libjpeg (:func:`jarlib.jpeg.decode_bytes`: ``max_pixels`` is
    its pixel cap, ``None`` none), with the file's tables and quality (:func:`with_file_tables`).
    Raises ``ValueError`` naming the problem (truncated, 12-bit, ...)."""
    return with_file_tables(decode_bytes(data, max_pixels), data)


def decode_input(jpeg: JpegInput, quality: Optional[int] = None) -> DecodedJpeg:
    """Turn what :meth:`Restorer.restore` accepts into a :class:`DecodedJpeg`.

    Bytes are decoded by :func:`decode_jpeg`; an array must be uint8 gray (H, W) or RGB (H, W, 3); a
    :class:`DecodedJpeg` is taken as it is. ``quality`` (1..100) overrides the file's.
    """
    if quality is not None:
        quality = check_quality(quality)
    if isinstance(jpeg, (bytes, bytearray, memoryview)):
        jpeg = decode_jpeg(bytes(jpeg))
    if isinstance(jpeg, DecodedJpeg):
        return jpeg if quality is None else DecodedJpeg(jpeg.pixels, quality, jpeg.tables)
    if isinstance(jpeg, (str, os.PathLike)):
        raise TypeError("restore() takes a decoded uint8 array or the JPEG file's bytes; "
                        f"for a path use restore(Path({str(jpeg)!r}).read_bytes())")
    arr = as_image_array(jpeg, "jpeg", allow_float=False)
    if arr.dtype != np.uint8:
        raise TypeError(f"jpeg must be a uint8 image (a decoded JPEG), got dtype {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] != 3:
        raise ValueError(f"jpeg must be gray (H, W) or RGB (H, W, 3), got shape {arr.shape}")
    return DecodedJpeg(arr, quality, None)


class Restorer(nn.Module):
    """Base class of the artifact-removal networks: tensors in ``forward``, images in ``restore``.

    Subclasses set ``in_channels`` (1: gray / Y, 3: RGB) and may override :meth:`extra_inputs`
    to pass more than the image to ``forward`` (a QF, a quantization map) and :meth:`output_image`
    when ``forward`` returns more than the image (e.g. FBCNN's predicted QF).
    """

    in_channels: int = 1
    pad_multiple: int = 8
    side_inputs: frozenset[str] = frozenset()
    """What besides the pixels :meth:`restore` may be told: ``"qf"`` (FBCNN's controller, QGCN's
    tables of that quality), ``"tables"`` (QGCN's quantization map); a blind model takes neither."""
    channels_last_inference: bool = False
    """Whether :meth:`for_inference` puts the weights in channels-last memory layout (the same
    numbers to ~1e-6; faster where oneDNN's channels-last convolutions are, see the subclass)."""

    def for_inference(self) -> "Restorer":
        """This model in eval mode, its weights in channels-last layout when the class asks for it
        (``channels_last_inference``); the zoo loads every model so. Not for a model in training:
        the layout changes the speed of its training steps."""
        self.eval()
        return self.to(memory_format=torch.channels_last) if self.channels_last_inference else self

    def extra_inputs(self, x: torch.Tensor, jpeg: DecodedJpeg) -> dict[str, Any]:
        """Keyword arguments for ``forward`` besides the image; none for a blind model."""
        return {}

    def output_image(self, out: Any) -> torch.Tensor:
        """The restored image in what ``forward`` returned (the tensor itself by default)."""
        return out

    def training_inputs(self, batch: Any) -> dict[str, Any]:
        """Keyword arguments for ``forward`` during training, from the batch (``batch.qf``: QF/100,
        NaN when unknown); none by default. FBCNN uses it for teacher forcing of its controller."""
        return {}

    def auxiliary_needed(self) -> dict[str, tuple[str, str]]:
        """The trained networks this model's training needs and does not hold yet, by slot:
        ``{slot: (kind, source)}`` with ``source`` a zoo name or checkpoint path (CQR's ranker, Dual
        priors' classifier). The training loop loads each (:func:`jarlib.pretrained.load_auxiliary`)
        and hands it over with :meth:`attach_auxiliary`, so a model never reads the zoo itself."""
        return {}

    def attach_auxiliary(self, slot: str, net: nn.Module) -> None:
        """Take the trained network ``net`` for ``slot`` (one of :meth:`auxiliary_needed`'s)."""
        raise ValueError(f"{type(self).__name__} uses no auxiliary network (asked for {slot!r})")

    def weights_from(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Weights of another model of this class to start training from (``init_from``), made
        to fit this one: a gray model's weights for a colour model go through :func:`gray_to_color`;
        weights that already fit are returned as they are."""
        return gray_to_color(state, self.state_dict())

    @torch.no_grad()
    def restore_tensor(self, x: torch.Tensor, jpeg: DecodedJpeg, flip_ensemble: bool = False) -> torch.Tensor:
        """(1, C, H, W) float in [0, 1] -> same shape, padded to ``pad_multiple`` at the bottom/right
        (edge replicate, so the 8x8 grid stays where the JPEG put it) and cropped back.

        ``flip_ensemble``: the mean of the restorations of the image and of its three flips, each
        flipped back (:data:`FLIPS`; 4x the time). Flipping the padded image (a multiple of 8 on
        each side) maps 8x8 blocks onto 8x8 blocks, and a flipped block's DCT coefficients change
        sign, not size, so the flips are JPEGs of the same quality; a transpose would quantize
        coefficient (u, v) with the table's (v, u) entry, which differs (the tables are not
        symmetric), so the eight-fold ensemble of super-resolution (Timofte et al., CVPR 2016) is
        left at four here."""
        h, w = x.shape[-2:]
        m = self.pad_multiple
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        if flip_ensemble and (x.shape[-2] % BLOCK or x.shape[-1] % BLOCK):
            raise ValueError(f"flip_ensemble needs a pad_multiple that is a multiple of 8, got {m}")
        out = torch.zeros_like(x)
        extra = self.extra_inputs(x, jpeg)   # depends on the size only, which the flips keep
        flips = FLIPS if flip_ensemble else FLIPS[:1]
        for dims in flips:
            xf = x.flip(dims) if dims else x
            y = self.output_image(self(xf, **extra))
            out += y.flip(dims) if dims else y
        return (out / len(flips))[..., :h, :w].clamp(0.0, 1.0)

    @torch.no_grad()
    def restore_tiled(self, x: torch.Tensor, jpeg: DecodedJpeg, tile: int, overlap: int = 32,
                      flip_ensemble: bool = False) -> torch.Tensor:
        """:meth:`restore_tensor` in ``tile`` x ``tile`` pieces overlapping by ``overlap`` pixels, so
        memory stays bounded on large photos. Tiles start on the 8x8 grid, and each keeps only
        its part away from the borders it shares with a neighbour (no seams from padding)."""
        if tile % BLOCK or overlap % BLOCK or not 0 <= overlap < tile:
            raise ValueError(f"tile and overlap must be multiples of 8 with 0 <= overlap < tile, got {tile}, {overlap}")
        h, w = x.shape[-2:]
        out = torch.empty_like(x)
        rows, cols = _tile_starts(h, tile, overlap), _tile_starts(w, tile, overlap)
        # a large photo on a CPU takes minutes: say how far it is (gone when done; off with JARLIB_PROGRESS=0)
        tiles = bar(total=len(rows) * len(cols), desc="tiles", unit="tile", leave=False,
                    progress=None if len(rows) * len(cols) > 4 else False)
        for a, top in enumerate(rows):
            bottom = h if a == len(rows) - 1 else top + tile
            for b, left in enumerate(cols):
                right = w if b == len(cols) - 1 else left + tile
                piece = self.restore_tensor(x[..., top:bottom, left:right], jpeg, flip_ensemble)
                dt = overlap // 2 if a else 0
                dl = overlap // 2 if b else 0
                out[..., top + dt:bottom, left + dl:right] = piece[..., dt:, dl:]
                tiles.update()
        tiles.close()
        return out

    def prepare(self, src: DecodedJpeg) -> torch.Tensor:
        """The network input for a decoded JPEG: (1, C, H, W) float32 in [0, 1] on the model's
        device — the luma (JFIF Y) for a gray model given colour, R=G=B for a colour model given gray."""
        device = next(self.parameters()).device
        pixels = src.pixels
        if self.in_channels == 1 and pixels.ndim == 3:
            return _to_tensor(rgb_to_ycbcr(pixels)[..., 0] / 255.0, device)
        img = pixels.astype(np.float64) / 255.0
        if self.in_channels == 3 and img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        return _to_tensor(img, device)

    def told(self, src: DecodedJpeg, qf: Optional[float] = None, tables: Optional[Sequence[Any]] = None
             ) -> DecodedJpeg:
        """``src`` with what :meth:`restore` was told: ``qf`` (a quality in (0, 100]) or ``tables``
        (8x8 arrays, luma first, entries 1..255), each only for a model that takes it
        (:attr:`side_inputs`). Raises ``ValueError`` naming the problem."""
        name = type(self).__name__
        if qf is not None and tables is not None:
            raise ValueError("give restore() a qf or tables, not both")
        if qf is not None:
            if "qf" not in self.side_inputs:
                raise ValueError(f"{name} takes no QF (it restores blind); FBCNN and QGCN take one")
            if isinstance(qf, bool) or not 0 < float(qf) <= 100:
                raise ValueError(f"qf must be a quality in (0, 100], got {qf}")
            return replace(src, qf=float(qf))
        if tables is not None:
            if "tables" not in self.side_inputs:
                raise ValueError(f"{name} takes no quantization tables; QGCN does")
            listed = tables if isinstance(tables, (list, tuple)) else [tables]
            given = [np.asarray(t, dtype=np.float64) for t in listed]
            if not given or any(t.shape != (8, 8) or t.min() < 1 or t.max() > 255 for t in given):
                raise ValueError("tables must be 8x8 arrays with entries in 1..255")
            return replace(src, tables=given, quality=None)
        return src

    def ready_to_restore(self, src: DecodedJpeg, tile: int) -> DecodedJpeg:
        """The last look at the input before the network runs (e.g. FBCNN predicts one QF for the
        whole image when it will restore it in tiles); unchanged by default."""
        return src

    @torch.no_grad()
    def restore(self, jpeg: JpegInput, *, qf: Optional[float] = None, tables: Optional[Sequence[Any]] = None,
                tile: int = 0, overlap: int = 32, flip_ensemble: bool = False) -> np.ndarray:
        """Restore a decoded JPEG (uint8 (H, W) or (H, W, 3)) or a JPEG file's bytes -> uint8, same shape.

        A gray model given a colour image restores its luma (JFIF Y) and keeps the chroma; a
        colour model given a gray image sees it repeated in R, G and B and returns their mean.
        ``qf`` / ``tables``: what the model is told instead of what the file says (:meth:`told`;
        only for the models whose :attr:`side_inputs` name them). ``tile`` > 0 (a multiple of 8)
        restores in overlapping tiles of that size: memory then depends on the tile, not on the
        photo (see :meth:`restore_tiled`). ``flip_ensemble`` averages the restorations of the image
        and its three flips (4x the time; see :meth:`restore_tensor`).
        """
        src = self.ready_to_restore(self.told(decode_input(jpeg), qf, tables), tile)
        pixels = src.pixels
        was_training = self.training
        self.eval()
        try:
            x = self.prepare(src)
            h, w = x.shape[-2:]
            if tile and (h > tile or w > tile):
                y = self.restore_tiled(x, src, tile, overlap, flip_ensemble)
            else:
                y = self.restore_tensor(x, src, flip_ensemble)
            out = y[0].double().cpu().numpy()
            if self.in_channels == 1 and pixels.ndim == 3:
                ycc = rgb_to_ycbcr(pixels)
                ycc[..., 0] = out[0] * 255.0
                return np.clip(np.round(ycbcr_to_rgb(ycc)), 0, 255).astype(np.uint8)
            out = out.mean(axis=0) if pixels.ndim == 2 else out.transpose(1, 2, 0)
            return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)
        finally:
            self.train(was_training)

    def num_parameters(self) -> int:
        """Number of trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def macs_per_pixel(self, size: int = 64) -> float:
        """Multiply-accumulates of all convolutions and linear layers per input pixel, counted with
        forward hooks on a ``size`` x ``size`` input (so a layer applied R times counts R times) —
        the cost that decides speed on a CPU, which parameter counts hide."""
        device = next(self.parameters()).device
        x = torch.zeros(1, self.in_channels, size, size, device=device)
        extra = self.extra_inputs(x, DecodedJpeg(np.zeros((size, size), np.uint8), 50))
        return conv_macs(self, x, **extra) / size ** 2


def conv_macs(net: nn.Module, *inputs: Any, **kwargs: Any) -> int:
    """Multiply-accumulates of the convolutions and linear layers of ``net(*inputs, **kwargs)``, one
    sample (forward hooks, in eval mode and without gradients; ``net``'s mode is restored)."""
    total = 0

    def hook(mod: nn.Module, inp: Any, out: torch.Tensor) -> None:
        nonlocal total
        if isinstance(mod, nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels // mod.groups
            total += out[0].numel() * k
        else:
            total += out[0].numel() * mod.in_features

    hooks = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = net.training
    try:
        net.eval()
        with torch.no_grad():
            net(*inputs, **kwargs)
    finally:
        for h in hooks:
            h.remove()
        net.train(was_training)
    return total


def gray_to_color(state: dict[str, torch.Tensor], target: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Adapt a gray model's weights to the colour model ``target`` (the same network with 3 input
    and output channels): a convolution that read 1 channel reads R, G, B with a third of the weight
    each (their mean), one that wrote 1 channel writes the same to all three. The colour model then
    starts as the gray one applied to the mean of R, G, B, its correction added to each channel,
    and training only has to learn colour. Tensors that already fit are returned as they are."""
    out = {}
    for k, v in state.items():
        want = target.get(k)
        if want is None or want.shape == v.shape:
            out[k] = v
        elif v.dim() == 4 and v.shape[1] == 1 and want.shape[1] == 3 and v.shape[0] == want.shape[0]:
            out[k] = v.repeat(1, 3, 1, 1) / 3.0
        elif v.dim() >= 1 and v.shape[0] == 1 and want.shape[0] == 3 and v.shape[1:] == want.shape[1:]:
            out[k] = v.repeat(3, *([1] * (v.dim() - 1)))
        else:
            out[k] = v   # load_state_dict names the mismatch
    return out


def block_count(state: dict[str, torch.Tensor], prefix: str) -> int:
    """How many blocks ``<prefix>.<i>.`` (an ``nn.Sequential`` or ``nn.ModuleList`` named ``prefix``)
    the weights ``state`` hold; 0 when none."""
    found = {int(k.split(".")[prefix.count(".") + 1]) for k in state if k.startswith(prefix + ".")}
    return max(found) + 1 if found else 0


def deepened_state(state: dict[str, torch.Tensor], model: nn.Module,
                   zero: dict[str, range], hint: str = "deepening keeps the widths") -> dict[str, torch.Tensor]:
    """Net2DeeperNet (Chen, Goodfellow, Shlens, ICLR 2016) for residual blocks: ``model``'s own
    (randomly initialised) weights with every tensor of the shallower ``state`` put in its place,
    and, for each ``{"<prefix>.{i}.<last conv>": range of new blocks}`` in ``zero``, that block's
    last convolution (weight and bias) zeroed. A new block then adds nothing (``x + 0``), so the
    grown model computes the trained one's function, while the block's other convolutions keep
    their random values, so that the zeroed one gets a gradient at the first step. Raises
    ``ValueError`` naming the tensor whose shape differs, with ``hint`` (deepening keeps the widths)."""
    out = {k: v.detach().clone() for k, v in model.state_dict().items()}
    for k, v in state.items():
        if k in out and out[k].shape != v.shape:
            raise ValueError(f"{k} is {tuple(v.shape)} in these weights but {tuple(out[k].shape)} in the model "
                             f"({hint})")
        out[k] = v.float() if v.is_floating_point() else v
    for pattern, new_blocks in zero.items():
        for i in new_blocks:
            out[pattern.format(i=i) + ".weight"].zero_()
            out[pattern.format(i=i) + ".bias"].zero_()
    return out


def _tile_starts(size: int, tile: int, overlap: int) -> list[int]:
    """Tile origins along one axis: every ``tile - overlap`` pixels, the last one moved back (to a
    multiple of 8) so that the tiles end at ``size``; the last tile may be up to 7 pixels longer."""
    if size <= tile:
        return [0]
    last = (size - tile) // BLOCK * BLOCK
    starts = list(range(0, last, tile - overlap))
    return starts + [last]


def _to_tensor(img: np.ndarray, device: torch.device) -> torch.Tensor:
    """(H, W) or (H, W, C) float -> (1, C, H, W) float32 on ``device``."""
    t = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32))
    t = t[None] if t.ndim == 2 else t.permute(2, 0, 1)
    return t[None].to(device)
