"""jarlib: JPEG compression-artifact removal, taught and reproduced in notebooks.

Modules (import the one you need; nothing runs at import time):

- ``jarlib.color``   colour conversions: JFIF YCbCr, MATLAB ``rgb2ycbcr`` luma ("Y" in the papers)
- ``jarlib.jpeg``    baseline JPEG step by step, and the libjpeg (Pillow) round trip
- ``jarlib.metrics`` PSNR, SSIM (Gaussian 11x11 and uniform 8x8), PSNR-B
- ``jarlib.data``    data-set registry, degradations, patch datasets
- ``jarlib.viz``     plotting helpers used by the notebooks
- ``jarlib.widgets`` ipywidgets explorers (logic testable as plain functions)
"""

__version__ = "0.1.0"
