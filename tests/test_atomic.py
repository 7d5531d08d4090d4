"""jarlib.atomic: a write either fully happens or leaves the old file untouched."""

import pytest

from jarlib.atomic import atomic_path, write_text_atomic


def test_write_replaces_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "table.csv"
    write_text_atomic(target, "old\n")
    write_text_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in target.parent.iterdir()] == ["table.csv"]


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "weights.pt"
    target.write_bytes(b"good")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"hal")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["weights.pt"]


def test_suffix_ends_the_temporary_name(tmp_path):
    with atomic_path(tmp_path / "fig.png", suffix=".png") as tmp:
        assert tmp.name.endswith(".png") and tmp.parent == tmp_path
        tmp.write_bytes(b"png")
    assert (tmp_path / "fig.png").read_bytes() == b"png"
