"""jarlib: JPEG compression-artifact removal, taught and reproduced in notebooks.

Modules (import the one you need; nothing runs at import time):

- ``jarlib.color``   colour conversions: JFIF YCbCr, MATLAB ``rgb2ycbcr`` luma ("Y" in the papers)
- ``jarlib.jpeg``    baseline JPEG step by step, and the libjpeg (Pillow) round trip
- ``jarlib.metrics`` PSNR, SSIM (Gaussian 11x11 and uniform 8x8), PSNR-B
- ``jarlib.data``    data-set registry, degradations, patch datasets
- ``jarlib.papers``  the papers' tables (``data/paper_tables.csv``) as rows to compare against
- ``jarlib.jpeg_rows`` re-computes the papers' "JPEG (no restoration)" rows
- ``jarlib.viz``     plotting helpers used by the notebooks
- ``jarlib.widgets`` ipywidgets explorers (logic testable as plain functions)
- ``jarlib.check``   ``python -m jarlib.check``: what this machine has and which data sets it finds
"""

__version__ = "0.1.0"
