"""Source of notebooks/91_explorer.ipynb: run `python tools/notebooks/make_91_explorer.py` from the repo root."""

from nb import code, md, params, write

cells = [
md("""
# 91 · Explorer: any image, any JPEG, any model

One page to look at JPEG artifacts and at what the project's networks do to them. Choose

- an **image**: a bundled sample, a LIVE1 or Classic5 image, or your own file (*upload*: a PNG or
  similar is compressed here; a JPEG is restored as it is, with no original to compare with);
- the **compression**: a single JPEG at a QF, or FBCNN's *non-aligned double JPEG* (a first JPEG,
  a crop that moves the 8x8 grid by `shift` pixels, a second JPEG);
- one or two **models** of the zoo, and for FBCNN the **QF knob** (0 = blind: the model's own
  estimate).

The zoom sliders move the window that all crops and difference maps share; every panel is scored
against the original (PSNR, FBCNN's conventions: RGB for colour images, MATLAB Y for gray).

**As a standalone page:** `pip install voila` then `voila notebooks/91_explorer.ipynb` serves this
notebook as a web app without the code cells. **Run time:** a few seconds per change on 2 CPU cores.
"""),
params("""
SMOKE = False        # tiny run for tests
MODELS = None        # zoo names offered (None: every zoo model)
IMAGE_LIMIT = None   # images per data set in the list (None: all)
"""),
code("""
import matplotlib.pyplot as plt

from jarlib import zoo
from jarlib.explorer import Explorer, Scene, default_images

models = MODELS or zoo.available()
if SMOKE:
    IMAGE_LIMIT = 2
images = default_images(IMAGE_LIMIT)
first = next(m for m in ("fbcnn_color", "fbcnn_gray", *models) if m in models)
ui = Explorer(images, models, scene=Scene(qf=20, models=(first,)))
print(f"{len(images)} images, {len(models)} models: {', '.join(models)}")
ui.widget()
"""),
md("""
## The same, without a live kernel

A static page (or a test run) cannot move sliders; the cells below set the controls from code
(`ui.paused()`: no redraw at each one) and draw the figure into the notebook (`ui.draw()`), so it
stays in a saved copy. First the failure case of FBCNN's Fig. 2: a JPEG at QF 10, the grid moved by
4 pixels, a second JPEG at QF 30.
"""),
code("""
second = next((m for m in ("fbcnn_gray_double", "dcsc_gray") if m in models and m != first), None)
with ui.paused():
    ui.image.value = next(k for k in images if k.startswith("sample: astronaut"))
    ui.double.value = "double JPEG"
    ui.qf1.value, ui.qf.value, ui.shift.value = 10, 30, 4
    ui.row.value, ui.col.value = 0.3, 0.45
    if second:
        ui.model_b.value = second
fig = ui.draw()
print(ui.status.value)
assert fig is not None and "shift (4, 4)" in ui.status.value
plt.show()
"""),
md("""
Then FBCNN's knob: told that the image is worse than it is, FBCNN smooths more.
"""),
code("""
for knob in (5, 60):
    with ui.paused():
        ui.double.value, ui.qf.value, ui.knob.value = "single JPEG", 20, knob
    fig = ui.draw()
    print(ui.status.value)
    assert fig is not None and f"FBCNN told QF {knob}" in ui.status.value
    plt.show()
with ui.paused():
    ui.knob.value = 0
"""),
md("""
## Exercises

1. Find an image and a QF where two models disagree most (difference maps), and explain why from
   what each was trained on.
2. Upload one of your own JPEG photos: which model would you use, and with which FBCNN QF?
3. With double JPEG, slide `shift` from 0 to 7: at which shifts does the blind model fail?
"""),
]

write("notebooks/91_explorer.ipynb", cells)
