"""Give every notebook its "Open in Colab" link and install cell (``nb.with_colab``), in place.

    python tools/notebooks/colab.py          # after a change of pyproject's [project.urls] Repository

The generated notebooks get them from ``nb.write`` too; this also covers the ones edited by hand.
"""

import json
from pathlib import Path

from nb import with_colab

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
    nb = json.loads(path.read_text())
    path.write_text(json.dumps(with_colab(nb, path.name), indent=1, ensure_ascii=False) + "\n")
    print(f"{path.name}: Colab link and install cell")
