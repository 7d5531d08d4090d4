"""The explorer of notebook 91, driven through its widgets' values and callbacks, headless."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from jarlib import explorer as E
from jarlib import zoo
from jarlib.jpeg import encode_bytes
from jarlib.models import FBCNN


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    tiny = FBCNN(channels=(4, 8, 8, 8), blocks=1, bottleneck_blocks=1, qf_blocks=1, qf_hidden=8,
                 controller_hidden=8, global_residual=True).eval()
    return {"dcsc_gray": zoo.load("dcsc_gray", "cpu"), "tiny_fbcnn": tiny}


@pytest.fixture()
def ui(models):
    images = {"camera": data.camera()[:96, :120], "astronaut": lambda: data.astronaut()[:80, :96]}
    return E.Explorer(images, list(models), loader=models.__getitem__)


def titles(fig):
    return [ax.get_title() for ax in fig.axes]


def test_scene_rejects_bad_settings():
    with pytest.raises(ValueError, match="qf"):
        E.Scene(qf=0)
    with pytest.raises(ValueError, match="shift"):
        E.Scene(shift=(8, 0))
    with pytest.raises(ValueError, match="one or two models"):
        E.Scene(models=("a", "b", "c"))


def test_degrade_single_and_double():
    img = data.camera()[:64, :64]
    blob, ref = E.degrade(img, E.Scene(qf=30))
    assert ref is img and blob[:2] == b"\xff\xd8"
    blob, ref = E.degrade(img, E.Scene(qf=30, double=True, qf1=10, shift=(3, 5)))
    assert ref.shape == (61, 59)


def test_default_view_scores_jpeg_and_model(ui):
    fig = ui.update()
    t = titles(fig)
    assert "JPEG, whole image" in t and any(x.startswith("original") for x in t)
    assert any(x.startswith("JPEG\n") and x.endswith("dB") for x in t)
    assert any(x.startswith("dcsc_gray\n") for x in t)
    assert "|dcsc_gray - original|" in t
    assert ui.status.value.startswith("camera: JPEG QF 20")


def test_double_jpeg_two_models_and_the_fbcnn_knob(ui):
    ui.image.value = "astronaut"           # a lazily loaded colour image
    ui.double.value = "double JPEG"
    ui.qf1.value, ui.qf.value, ui.shift.value = 10, 30, 4
    ui.model_b.value = "tiny_fbcnn"
    ui.knob.value = 15
    fig = ui.update()
    assert ui.scene().models == ("dcsc_gray", "tiny_fbcnn") and ui.scene().fbcnn_qf == 15
    assert "JPEG QF 10, shift (4, 4), JPEG QF 30; FBCNN told QF 15" in ui.status.value
    assert "|tiny_fbcnn - original|" in titles(fig)


def test_uploads(ui):
    buf = io.BytesIO()
    Image.fromarray(np.zeros((40, 48, 4), np.uint8)).save(buf, format="PNG")        # alpha dropped
    key = ui.add_upload("pic.png", buf.getvalue())
    assert ui.image.value == key and ui.figure is not None
    assert ui.clean_image(key).shape == (40, 48, 3)
    key = ui.add_upload("photo.jpg", encode_bytes(data.camera()[:64, :64], 20))   # restored as it is
    fig = ui.figure
    assert ui.image.value == key and "the uploaded JPEG as it is" in ui.status.value
    assert not any(t.startswith("original") for t in titles(fig))
    ui._on_upload({"new": ({"name": "notes.txt", "content": memoryview(b"plain text")},)})
    assert "cannot use notes.txt" in ui.status.value


def test_widget_page_builds(ui):
    page = ui.widget()
    assert page.children[-1] is ui.output


def test_paused_controls_do_not_redraw_and_draw_leaves_the_page_alone(ui):
    """What the notebook's static cells do: no callback redraw while paused, and ``draw`` makes the
    figure without writing into the page's output widget (a headless kernel then has nothing to hang on)."""
    calls = []
    ui.output.clear_output = lambda *a, **k: calls.append("clear")
    with ui.paused():
        ui.qf.value = 30
        ui.knob.value = 12
    assert calls == []
    fig = ui.draw()
    assert fig is not None and calls == [] and ui.figure is fig
    assert "JPEG QF 30" in ui.status.value and "FBCNN told QF 12" in ui.status.value
    ui.qf.value = 40                      # not paused: the callback redraws into the page
    assert calls == ["clear"]


def test_picture_draws_one_scene_without_widgets(models):
    """What notebook 91's static cells (and the course book) show: no widget is created or touched."""
    img = data.camera()[:96, :120]
    fig, caption = E.picture(img, E.Scene(qf=10, double=True, qf1=30, shift=(2, 2), models=("dcsc_gray",)), models)
    assert caption == "JPEG QF 30, shift (2, 2), JPEG QF 10"
    t = titles(fig)
    assert any("JPEG" in x and "dB" in x for x in t) and any(x.startswith("dcsc_gray") for x in t)
    fig2, caption2 = E.picture(img, E.Scene(qf=20, models=("tiny_fbcnn",), fbcnn_qf=60), models)
    assert caption2.endswith("FBCNN told QF 60")
    import matplotlib.pyplot as plt

    plt.close(fig)
    plt.close(fig2)
