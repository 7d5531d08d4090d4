"""`python -m jarlib.bench` on a tiny slice: rows, paper references, CSV round trip, summary."""

from __future__ import annotations

import pytest

from jarlib import bench, zoo

needs_data = pytest.mark.needs_data()


def test_paper_reference_finds_the_published_rows():
    r = bench.paper_reference("dcsc", "gray", "live1_gray", 10)
    assert r["paper_psnr"] == 29.34 and r["paper_ssim_window"] == "uniform8"
    assert r["paper_jpeg_psnr"] == 27.77              # from FBCNN's Table 1: the erratum has no JPEG row
    r = bench.paper_reference("fbcnn", "color", "live1_color", 10)
    assert r["paper_method"] == "FBCNN-C" and r["paper_jpeg_psnr"] == 25.69
    assert bench.paper_reference("fbcnn", "gray", "bsds500_val", 10)["paper_psnr"] is None   # FBCNN tests on test
    assert bench.paper_reference("nosuch", "gray", "live1_gray", 10)["paper"] is None


def test_plan_matches_sets_to_the_model_mode():
    assert bench.plan(["dcsc_gray"]) == [("dcsc_gray", s, "gray") for s in bench.GRAY_SETS]
    assert bench.plan(["dcsc_gray"], ["live1_color", "classic5"]) == [("dcsc_gray", "classic5", "gray")]


@needs_data
def test_run_writes_csv_and_summary(tmp_path, capsys):
    out = tmp_path / "b.csv"
    assert bench.main(["--models", "dcsc_gray", "--sets", "live1_gray", "--qfs", "10", "--limit", "1", "-q",
                       "--out", str(out)]) == 0
    rows = bench.read_csv(out)
    assert len(rows) == 1 and rows[0]["model"] == "dcsc_gray" and rows[0]["images"] == 1
    assert rows[0]["psnr"] > rows[0]["psnr_jpeg"] and rows[0]["paper_psnr"] == 29.34 and rows[0]["ms_512"] > 0
    assert rows[0]["cpu"] == bench.cpu_description() and rows[0]["cpu"].strip()   # what the time was measured on
    md = (tmp_path / "b.md").read_text()
    assert "| `dcsc_gray` | live1_gray |" in md and "(29.34)" in md and "| JPEG | live1_gray |" in md


def test_unknown_model_is_a_clear_error(capsys):
    assert bench.main(["--models", "nope", "-q"]) == 2
    assert "no zoo model nope" in capsys.readouterr().err


@needs_data
def test_a_second_run_keeps_matching_rows_and_adds_the_rest(tmp_path, monkeypatch):
    from jarlib import evaluation

    out = tmp_path / "b.csv"
    args = ["--models", "dcsc_gray", "--sets", "live1_gray", "--limit", "1", "-q", "--out", str(out)]
    assert bench.main([*args, "--qfs", "10"]) == 0
    first = bench.read_csv(out)
    assert first[0]["weights_sha256"] == zoo.info("dcsc_gray")["sha256"][:12]
    calls = []
    real = evaluation.evaluate_restorer
    monkeypatch.setattr(evaluation, "evaluate_restorer", lambda *a, **k: calls.append(a[1:3]) or real(*a, **k))
    assert bench.main([*args, "--qfs", "10"]) == 0          # nothing to do: the row is reused
    assert calls == [] and bench.read_csv(out) == first
    assert bench.main([*args, "--qfs", "10", "20"]) == 0    # a QF more: that set is recomputed
    assert calls == [("live1_gray", [10, 20])]
    rows = bench.read_csv(out)
    assert [r["qf"] for r in rows] == [10, 20] and rows[0]["psnr"] == first[0]["psnr"]
    assert bench.main(["--models", "arcnn_gray", "--sets", "classic5", "--qfs", "10", "--limit", "1", "-q",
                       "--out", str(out)]) == 0          # another model joins the table
    assert [(r["model"], r["qf"]) for r in bench.read_csv(out)] == [("dcsc_gray", 10), ("dcsc_gray", 20),
                                                                   ("arcnn_gray", 10)]
    assert bench.main([*args, "--qfs", "10", "--fresh"]) == 0   # starts over
    assert len(bench.read_csv(out)) == 1 and len(calls) == 3


@needs_data
def test_retime_measures_only_the_speed_again(tmp_path, monkeypatch):
    out = tmp_path / "b.csv"
    args = ["--models", "dcsc_gray", "--sets", "live1_gray", "--qfs", "10", "--limit", "1", "-q", "--out", str(out)]
    assert bench.main(args) == 0
    first = bench.read_csv(out)
    monkeypatch.setattr(bench, "restore_ms", lambda model, repeats=5: 123.0)
    monkeypatch.setattr(bench, "cpu_description", lambda: "another CPU")
    assert bench.main(["--retime", "-q", "--out", str(out)]) == 0
    again = bench.read_csv(out)
    assert again[0]["ms_512"] == 123.0 and again[0]["cpu"] == "another CPU"
    assert {**again[0], "ms_512": first[0]["ms_512"], "cpu": first[0]["cpu"]} == first[0]
    assert "| 123 |" in (tmp_path / "b.md").read_text()


def test_sets_the_zoo_measured_are_taken_from_its_manifest(tmp_path, monkeypatch):
    from jarlib import evaluation

    monkeypatch.setattr(evaluation, "evaluate_restorer",
                        lambda *a, **k: pytest.fail("computed a set the manifest has"))
    monkeypatch.setattr(bench, "restore_ms", lambda model, repeats=3: 1.0)
    out = tmp_path / "b.csv"
    assert bench.main(["--models", "dcsc_gray", "--sets", "classic5", "-q", "--out", str(out)]) == 0
    measured = zoo.info("dcsc_gray")["metrics"]["classic5"]
    rows = bench.read_csv(out)
    assert [r["qf"] for r in rows] == list(bench.QFS) and {r["images"] for r in rows} == {5}
    assert all(r[k] == measured[str(r["qf"])][k] for r in rows for k in bench.SCORE_KEYS)
    assert bench.manifest_scores({"metrics": {}}, "classic5", bench.QFS) is None            # not measured
    assert bench.manifest_scores({"metrics": {"classic5": measured}}, "classic5", [10, 50]) is None   # nor QF 50
    part = {"metrics": {"classic5": {**measured, "images": 3}}}
    assert bench.manifest_scores(part, "classic5", [10]) is None                            # nor on 3 images
    assert bench.manifest_scores({"metrics": {"classic5": measured}}, "classic5", [10], "fbcnn_color") is None


def test_the_manifest_scores_are_the_benchmark_s_own():
    """What `zoo add` measured equals what the benchmark computes for the same weights, set and QF:
    the committed rows computed before the benchmark took them from the manifest agree to the last digit."""
    compared = 0
    for r in bench.read_csv(bench.OUT_DIR / "benchmark.csv"):
        entry = zoo.info(r["model"])
        scores = bench.manifest_scores(entry, r["set"], [r["qf"]], bench.convention(r["mode"]))
        if scores is not None and r["weights_sha256"] == entry["sha256"][:12]:
            assert {k: r[k] for k in bench.SCORE_KEYS} == scores[str(r["qf"])], (r["model"], r["set"], r["qf"])
            compared += 1
    assert compared >= 40


def test_retime_without_a_table_is_a_clear_error(tmp_path, capsys):
    assert bench.main(["--retime", "-q", "--out", str(tmp_path / "none.csv")]) == 2
    assert "needs a benchmark table" in capsys.readouterr().err


def test_ablations_have_no_paper_row_but_keep_the_jpeg_row():
    full = bench.paper_reference("qgcn", "gray", "live1_gray", 10, {"global_branch": True, "use_qmap": True})
    qcn = bench.paper_reference("qgcn", "gray", "live1_gray", 10, {"global_branch": False, "use_qmap": True})
    assert full["paper_method"] == "QGCN" and full["paper_psnr"] is not None
    assert qcn["paper_method"] is None and qcn["paper_psnr"] is None
    assert qcn["paper_jpeg_psnr"] == full["paper_jpeg_psnr"] is not None
    assert bench.paper_reference("cqr", "gray", "live1_gray", 10, {"ranker": None})["paper_psnr"] is None
    assert bench.paper_reference("cqr", "gray", "live1_gray", 10, {"ranker": "cqr_ranker"})["paper_method"] == "CQR"
    dp = bench.paper_reference("dualpriors", "gray", "bsds500_val", 10)
    assert dp["paper_psnr"] == 29.48 and dp["paper_ssim_window"] == "uniform8"


def test_committed_tables_are_of_the_zoo_weights_as_they_are_now():
    """The README's tables come from benchmarks/results: every row there must be of a zoo model's
    current weights (re-run the benchmark after ``zoo add`` replaces a model), and every restorer
    in the zoo must have its rows in the benchmark on all the sets of its mode at all its QFs."""
    for name in ("benchmark.csv", "qf_sweep.csv"):
        for row in bench.read_csv(bench.OUT_DIR / name):
            assert row["model"] in zoo.available(), f"{name}: {row['model']} is not in the zoo"
            assert row["weights_sha256"] == zoo.info(row["model"])["sha256"][:12], \
                f"{name}: the {row['model']} rows are of older weights; re-run python -m jarlib.bench --models {row['model']}"
            assert row.get("cpu"), f"{name}: {row['model']} has no cpu for its ms_512; re-run with --retime"
    rows = {(r["model"], r["set"], r["qf"]) for r in bench.read_csv(bench.OUT_DIR / "benchmark.csv")}
    for name, dataset, _ in bench.plan(zoo.available()):
        assert all((name, dataset, q) in rows for q in bench.QFS), f"benchmark.csv lacks {name} on {dataset}"
