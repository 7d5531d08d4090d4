"""The zoo's measured numbers as the Markdown table the README quotes.

Reads ``jarlib/zoo/manifest.json`` (written by ``python -m jarlib.zoo add``, which measures every
model on the full sets) and writes ``benchmarks/results/zoo.md``: per model and set, PSNR (gain over
the JPEG input) at QF 10/20/30/40, FBCNN's conventions (gray: MATLAB Y; colour: RGB), plus size and CPU training time.
It puts the same table into README.md, under the line ``<!-- zoo table: ... -->``.

    python benchmarks/zoo_table.py
"""

from __future__ import annotations

from pathlib import Path

from readme_results import README, with_table

from jarlib import zoo
from jarlib.atomic import write_text_atomic

OUT = Path(__file__).resolve().parent / "results" / "zoo.md"
MARKER = "<!-- zoo table: benchmarks/results/zoo.md -->"
SET_NAMES = {"live1_gray": "LIVE1", "classic5": "Classic5", "bsds500_val": "BSDS500 val",
             "live1_color": "LIVE1 colour (RGB)"}


def table() -> str:
    qfs = [str(q) for q in zoo.EVAL_QFS]
    head = ("| model | parameters | CPU-min | set | " + " | ".join(f"QF{q}" for q in qfs) + " |\n"
            "|---|---|---|---|" + "---|" * len(qfs) + "\n")
    order = list(SET_NAMES)
    ordered = lambda metrics: sorted(metrics.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    lines, jpeg = [], {}
    for name in zoo.available():
        e = zoo.info(name)
        for s, scores in ordered(e["metrics"]):
            cells = [f"{scores[q]['psnr']:.2f} ({scores[q]['psnr'] - scores[q]['psnr_jpeg']:+.2f})" for q in qfs]
            lines.append(f"| `{name}` | {e['parameters']:,} | {e['training'].get('cpu_minutes_total', e['training']['cpu_minutes'])} | "
                         f"{SET_NAMES.get(s, s)} | " + " | ".join(cells) + " |")
            jpeg.setdefault(s, scores)
    for s, scores in ordered(jpeg):
        lines.append(f"| JPEG | | | {SET_NAMES.get(s, s)} | " + " | ".join(f"{scores[q]['psnr_jpeg']:.2f}" for q in qfs) + " |")
    return head + "\n".join(lines) + "\n"


def main() -> None:
    text = table()
    print(text)
    write_text_atomic(OUT, text)
    write_text_atomic(README, with_table(README.read_text(), text, MARKER))
    print(f"wrote {OUT} and the table in {README}")


if __name__ == "__main__":
    main()
