"""What a JPEG file says about itself, read from its markers before anything is decoded.

``jarlib restore`` reads files nobody checked. A 333-byte file can claim 65000 x 65000 pixels and
make libjpeg allocate gigabytes and fill them with grey; a 12-bit or a DNL-sized JPEG cannot be read
by Pillow at all, which then says only that it "cannot identify" the file. :func:`read_header` walks
the markers (ITU-T T.81, Annex B) up to the first scan and :func:`check_header` refuses, in words,
what should not be decoded: a size over a pixel cap, a scan far too short to hold the pixels it
claims, a precision other than 8 bits, no frame at all.
"""

from __future__ import annotations

from dataclasses import dataclass

SOF_PROCESSES = {
    0xC0: "baseline", 0xC1: "extended sequential", 0xC2: "progressive", 0xC3: "lossless",
    0xC5: "differential sequential", 0xC6: "differential progressive", 0xC7: "differential lossless",
    0xC9: "arithmetic sequential", 0xCA: "arithmetic progressive", 0xCB: "arithmetic lossless",
    0xCD: "differential arithmetic sequential", 0xCE: "differential arithmetic progressive",
    0xCF: "differential arithmetic lossless",
}
"""The start-of-frame markers and the coding process each one starts (T.81, Table B.1)."""
EOI = b"\xff\xd9"
DEFAULT_MAX_PIXELS = 100_000_000
"""``jarlib restore``'s default pixel cap (100 megapixels: a 12,000 x 8,000 photo fits)."""


@dataclass(frozen=True)
class JpegHeader:
    """The frame of a JPEG file: size, precision, coding process, its components' sampling factors
    ``(h, v)``, whether it carries a Multi-Picture (MPO) index, and the bytes from the first scan to
    the first end-of-image marker (``scan_bytes``; ``has_eoi`` false when the file stops first)."""

    width: int
    height: int
    precision: int
    process: str
    sampling: tuple[tuple[int, int], ...]
    mpo: bool
    scan_bytes: int
    has_eoi: bool

    @property
    def pixels(self) -> int:
        return self.width * self.height

    def blocks(self) -> int:
        """8x8 blocks the scans must code, over all components (T.81, A.2)."""
        hmax = max(h for h, _ in self.sampling)
        vmax = max(v for _, v in self.sampling)
        total = 0
        for h, v in self.sampling:
            cw, ch = -(-self.width * h // hmax), -(-self.height * v // vmax)
            total += -(-cw // 8) * -(-ch // 8)
        return total


def read_header(data: bytes) -> JpegHeader:
    """Walk the markers of ``data`` up to the first scan. Raises ``ValueError`` with a reason a
    person understands: not a JPEG, no image data, a frame without a size, ..."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG file (it does not start with the marker FF D8)")
    i, n = 2, len(data)
    frame: tuple[int, int, int, str, tuple[tuple[int, int], ...]] | None = None
    mpo = False
    while True:
        while i < n and data[i] != 0xFF:     # garbage between segments: libjpeg skips it too
            i += 1
        while i < n and data[i] == 0xFF:     # fill bytes
            i += 1
        if i >= n:
            raise ValueError("no image data: the file ends before its first scan" if frame
                             else "no image data: the file holds no frame (only markers)")
        marker = data[i]
        i += 1
        if marker == 0xD9:
            raise ValueError("no image data: the file ends (EOI) before any scan")
        if 0xD0 <= marker <= 0xD7 or marker in (0x01, 0xD8):
            continue                          # markers without a length
        if i + 2 > n:
            raise ValueError("no image data: the file ends inside a marker")
        length = int.from_bytes(data[i:i + 2], "big")
        body = data[i + 2:i + length]
        if length < 2 or len(body) < length - 2:
            raise ValueError("no image data: the file ends inside a marker segment")
        if marker in SOF_PROCESSES:
            if len(body) < 6:
                raise ValueError("a corrupt frame header")
            precision, height = body[0], int.from_bytes(body[1:3], "big")
            width, count = int.from_bytes(body[3:5], "big"), body[5]
            comps = body[6:6 + 3 * count]
            if count == 0 or len(comps) < 3 * count:
                raise ValueError("a corrupt frame header (no components)")
            sampling = tuple((comps[3 * k + 1] >> 4 or 1, comps[3 * k + 1] & 15 or 1) for k in range(count))
            frame = (width, height, precision, SOF_PROCESSES[marker], sampling)
        elif marker == 0xE2 and body[:4] == b"MPF\x00":
            mpo = True
        elif marker == 0xDA:
            if frame is None:
                raise ValueError("no image data: a scan comes before any frame header")
            start = i + length
            end = data.find(EOI, start)
            width, height, precision, process, sampling = frame
            return JpegHeader(width, height, precision, process, sampling, mpo,
                              (end if end >= 0 else n) - start, end >= 0)
        i += length


def min_scan_bytes(header: JpegHeader) -> int:
    """Fewest bytes of coded data that can hold the frame: with Huffman coding every 8x8 block costs
    at least one bit for its DC and, sequentially, one for its end of block; arithmetic coding can
    squeeze a flat image to almost nothing (no bound)."""
    if header.process.startswith(("arithmetic", "differential arithmetic")) or "lossless" in header.process:
        return 0
    bits = 1 if "progressive" in header.process else 2
    return header.blocks() * bits // 8


def check_header(header: JpegHeader, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> None:
    """Refuse, with the reason, a frame jarlib cannot or should not decode: raises ``ValueError``."""
    if header.precision != 8:
        raise ValueError(f"{header.precision}-bit JPEG: not supported (8-bit JPEG only)")
    if header.width == 0 or header.height == 0:
        raise ValueError(f"the header gives no image size ({header.width}x{header.height}: a height set later "
                         "by a DNL marker is not supported)")
    if "lossless" in header.process or header.process.startswith("differential"):
        raise ValueError(f"{header.process} JPEG: not supported")
    if max_pixels is not None and header.pixels > max_pixels:
        raise ValueError(f"{header.width}x{header.height} is {header.pixels / 1e6:,.0f} megapixels, over the cap of "
                         f"{max_pixels / 1e6:,.0f} (--max-pixels)")
    need = min_scan_bytes(header)
    if header.scan_bytes < need:
        raise ValueError(f"corrupt: {header.scan_bytes:,} bytes of image data cannot hold the "
                         f"{header.width}x{header.height} pixels its header claims (at least {need:,} needed)")
