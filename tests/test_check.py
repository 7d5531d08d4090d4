"""jarlib.check: the setup check prints versions and data, and never fails for missing data."""

from jarlib import check


def test_check_runs_with_and_without_data(tmp_path, monkeypatch, capsys):
    assert check.main() == 0
    out = capsys.readouterr().out
    assert "torch" in out and "JPEG library" in out and "sample images" in out
    monkeypatch.setenv("JARLIB_DATA", str(tmp_path))
    assert check.main() == 0
    out = capsys.readouterr().out
    assert "missing" in out and "jarlib data fetch --sets classic5 live1_gray" in out


def test_data_summary_counts(tmp_path, monkeypatch):
    (tmp_path / "Classic5").mkdir()
    (tmp_path / "Classic5" / "a.png").write_bytes(b"")
    monkeypatch.setenv("JARLIB_DATA", str(tmp_path))
    root, counts = check.data_summary()
    assert root == str(tmp_path.resolve()) and counts["classic5"] == 1 and counts["live1_gray"] is None
