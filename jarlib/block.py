"""The JPEG block size: the side of the square a JPEG transforms and quantizes on its own
(ITU-T T.81 §A.2). The one constant every layer shares: the codec, PSNR-B's block boundaries,
grid-aligned crops and the networks' padding all mean this 8."""

BLOCK = 8
"""Side of a DCT block, in pixels."""
