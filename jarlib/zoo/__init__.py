"""The project's own trained models: small fp16 state dicts in ``weights/``, described by ``manifest.json``.

``zoo.load("dncnn_gray")`` is how notebooks, benchmarks and the command line get a trained model;
every zoo model is a :class:`jarlib.models.Restorer`, so ``model.restore(jpeg)`` works for all.
Each manifest entry records the model and its constructor arguments, the recipe that made it
(:mod:`jarlib.recipes`: its name and hash) with the training config, data, QF range, steps and CPU
time, the file's SHA-256, and the measured PSNR / SSIM / PSNR-B on LIVE1 and Classic5 gray at QF
10/20/30/40.

Reading the zoo is :mod:`jarlib.pretrained`; adding to it :mod:`jarlib.zoo.records`; building a
model from its recipe :mod:`jarlib.zoo.build`. All are re-exported here.

Command line::

    python -m jarlib.zoo list
    python -m jarlib.zoo build dcsc_gray --dry-run      # the recipe's stages and their CPU time
    python -m jarlib.zoo build dcsc_gray --replace      # train them, then add the result
    python -m jarlib.zoo evaluate dncnn_gray --sets classic5
    python -m jarlib.zoo add my_model runs/my_run/checkpoint.pt --command "python -m jarlib.train ..."
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Optional, Sequence

from jarlib.checkpoint import CheckpointError
from jarlib.data.registry import DatasetNotFoundError
from jarlib.pretrained import (AUXILIARY, ENV_VAR, ZOO_DIR, ZooError, available, from_checkpoint, info,
                               initial_weights, load, load_any, load_auxiliary, manifest, manifest_path, sha256,
                               zoo_dir)
from jarlib.recipes import PAPER_RECIPES, RECIPES
from jarlib.train import parse_value
from jarlib.zoo.build import build, dry_run, estimate
from jarlib.zoo.records import (CHECK_IMAGES, EVAL_QFS, EVAL_SETS, EVAL_SETS_COLOR, add, add_auxiliary,
                                checkpoint_chain, convention_for, default_sets, earlier_cpu_minutes, earlier_curve,
                                evaluate, frozen_parameters, init_weights, measure_qf_prediction, qf_prediction_set,
                                record_qf_prediction, training_curve)

__all__ = ["AUXILIARY", "CHECK_IMAGES", "ENV_VAR", "EVAL_QFS", "EVAL_SETS", "EVAL_SETS_COLOR", "ZOO_DIR", "ZooError",
           "add", "add_auxiliary", "available", "build", "checkpoint_chain", "convention_for", "default_sets",
           "dry_run", "earlier_cpu_minutes", "earlier_curve", "evaluate", "from_checkpoint", "frozen_parameters",
           "info", "init_weights", "initial_weights", "list_lines", "load", "load_any", "load_auxiliary", "main",
           "manifest", "manifest_path", "measure_qf_prediction", "qf_prediction_set", "record_qf_prediction", "sha256",
           "training_curve", "zoo_dir"]


def _headline(entry: dict[str, Any]) -> str:
    """One model's headline score, in words: LIVE1 QF 10 for a restorer (Y or RGB), what the
    auxiliary networks were measured on for the others."""
    m = entry.get("metrics", {})
    if entry.get("kind", "restorer") == "restorer":
        key = "live1_gray" if entry["in_channels"] == 1 else "live1_color"
        q = m.get(key, {}).get("10")
        if not q:
            return "not measured on LIVE1 at QF 10"
        return (f"LIVE1 QF 10: {q['psnr']:.2f} dB, {q['psnr'] - q['psnr_jpeg']:+.2f} over JPEG "
                f"({'Y' if entry['in_channels'] == 1 else 'RGB'})")
    if "spearman_per_patch" in m:
        return f"orders LIVE1 patches by QF: Spearman {m['spearman_per_patch']:.3f} per patch"
    if "accuracy" in m:
        return f"tells clean from JPEG LIVE1 patches: {m['accuracy']:.1%} right"
    return "no recorded measurement"


def list_lines() -> list[str]:
    """``python -m jarlib.zoo list``: one aligned line per model (name, network, gray or colour,
    parameters, file size, training QF range, headline score), under a header."""
    rows = [("model", "network", "input", "parameters", "file", "trained QF", "measured")]
    for name in available(None):
        e = info(name)
        qf = e.get("training", {}).get("qf_range")
        rows.append((name, e["model"] if e.get("kind", "restorer") == "restorer" else e["kind"],
                     "gray" if e.get("in_channels", 1) == 1 else "colour", f"{e['parameters']:,}",
                     f"{e['bytes'] / 1e6:.2f} MB", f"{qf[0]}-{qf[1]}" if qf else "-", _headline(e)))
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]) - 1)]
    right = {3, 4, 5}
    return ["  ".join([*(c.rjust(w) if k in right else c.ljust(w) for k, (c, w) in enumerate(zip(r, widths))), r[-1]])
            for r in rows]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jarlib.zoo", description="The project's trained models.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="the zoo models and their LIVE1 QF10 PSNR")
    p_add = sub.add_parser("add", help="export a training checkpoint into the zoo and measure it")
    p_add.add_argument("name")
    p_add.add_argument("checkpoint")
    p_add.add_argument("--command", required=True, help="the training command that made the checkpoint")
    p_add.add_argument("--fp32", action="store_true", help="store fp32 weights (default fp16)")
    p_add.add_argument("--sets", nargs="+", default=None, help="data sets to measure on (default: LIVE1 and "
                       "Classic5 gray; LIVE1 colour for a colour model)")
    p_eval = sub.add_parser("evaluate", help="measure a zoo model or a training checkpoint (FBCNN's conventions: "
                            "Y for gray sets, RGB for colour sets; the metrics `add` records)")
    p_eval.add_argument("name", help="a zoo name, or the path of a training checkpoint (runs/<run>/checkpoint.pt)")
    p_eval.add_argument("--sets", nargs="+", default=None)
    p_eval.add_argument("--qfs", nargs="+", type=int, default=list(EVAL_QFS))
    p_eval.add_argument("--flip-ensemble", action="store_true", help="the mean over the image's four flips "
                        "(4x the time; not what `add` records)")
    p_build = sub.add_parser("build", help="make a zoo model from its recipe (jarlib/recipes/): train its stages "
                             "into RUNS/NAME/<stage>/, resuming, then add the result")
    p_build.add_argument("name", metavar="NAME", help=", ".join(sorted(RECIPES)) + "; with --recipe paper also a "
                         "model (fbcnn, ...) or " + ", ".join(sorted(PAPER_RECIPES)))
    p_build.add_argument("--recipe", choices=["zoo", "paper"], default="zoo", help="zoo: how the shipped model was "
                         "made (default); paper: the paper's own size, data and schedule, into the entry <model>_paper")
    p_build.add_argument("--dry-run", action="store_true", help="print the stages, their estimated time (and for a "
                         "paper recipe its data sets and counted GPU hours) and how far RUNS already has them; train nothing")
    p_build.add_argument("--estimate", action="store_true", help="time a few training steps of every stage on "
                         "this machine (GPU if present) and print the hours for the whole recipe; train nothing")
    p_build.add_argument("--estimate-steps", type=int, default=20, metavar="N", help="steps timed per stage on a "
                         "GPU (default 20; 3 on a CPU)")
    p_build.add_argument("--runs", default="runs", help="where the stages train (default: runs)")
    p_build.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="settings for every stage, "
                         "e.g. steps=2 val_images=0 (a quick build: use another --runs)")
    p_build.add_argument("--sets", nargs="+", default=None, help="data sets to measure the result on")
    p_build.add_argument("--qfs", nargs="+", type=int, default=list(EVAL_QFS))
    p_build.add_argument("--replace", action="store_true", help="replace the zoo entry NAME when it exists")
    p_build.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p_qf = sub.add_parser("qf-prediction", help="FBCNN: how well the QF predictor reads LIVE1 at QF 10-90 "
                          "(mean absolute error in QF units)")
    p_qf.add_argument("name", help="a zoo name, or the path of a training checkpoint")
    p_qf.add_argument("--record", action="store_true", help="write it into the zoo model's manifest entry")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "list":
            print("\n".join(list_lines()))
        elif args.cmd == "add":
            add(args.name, args.checkpoint, args.command, sets=args.sets, half=not args.fp32)
            print(json.dumps(info(args.name)["metrics"], indent=1))
        elif args.cmd == "build":
            overrides = {}
            for item in args.set:
                key, eq, value = item.partition("=")
                if not eq:
                    raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
                overrides[key] = parse_value(value)
            if args.quiet:
                os.environ["JARLIB_PROGRESS"] = "0"     # the evaluations' bars too (jarlib.progress)
            if args.dry_run:
                print("\n".join(dry_run(args.name, args.runs, args.recipe)))
            elif args.estimate:
                for line in estimate(args.name, args.recipe, args.estimate_steps, overrides.get("device", "auto")):
                    print(line, flush=True)
            else:
                build(args.name, args.runs, overrides, sets=args.sets, qfs=args.qfs, replace=args.replace,
                      progress=not args.quiet, recipe=args.recipe)
        elif args.cmd == "qf-prediction":
            if args.record:
                measured = record_qf_prediction(args.name)
            else:
                model = load_any(args.name)
                measured = measure_qf_prediction(model, model.in_channels)
            print(json.dumps(measured, indent=1))
        else:
            print(json.dumps(evaluate(load_any(args.name), args.sets, args.qfs, args.flip_ensemble), indent=1))
    except (ZooError, CheckpointError, ValueError, TypeError, DatasetNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
