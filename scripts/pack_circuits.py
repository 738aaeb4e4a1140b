"""Copy circuit runs into the repository's docs, small: every run's metrics.json, report.md and
curve.png, its circuit in MIB's JSON gzipped with scores at float32 precision (7 significant
digits), and the circuit drawing of the runs named on --drawn only. scores.npy is left out (the
same scores are in circuit.json.gz).

    .venv/bin/python scripts/pack_circuits.py results/circuits docs/circuits --drawn left-right-eap
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np

from duality_bench.circuits import read_mib_json, write_mib_json


def pack(run: Path, dest: Path, drawn: bool) -> int:
    if dest.exists():
        shutil.rmtree(dest)  # nothing of an earlier pack stays
    dest.mkdir(parents=True)
    circuit = read_mib_json(run / "circuit.json")
    scores = np.array([float(f"{s:.7g}") for s in circuit.scores])
    write_mib_json(dest / "circuit.json.gz", circuit.graph, scores, circuit.keep, circuit.cfg)
    report = (run / "report.md").read_text()
    if drawn and (run / "circuit.png").is_file():
        shutil.copyfile(run / "circuit.png", dest / "circuit.png")
    else:
        report = report.replace("\n\n![circuit](circuit.png)", "")
    (dest / "report.md").write_text(report)
    for name in ("curve.png", "metrics.json"):  # metrics.json last: it marks the run complete
        if (run / name).is_file():
            shutil.copyfile(run / name, dest / name)
    return sum(f.stat().st_size for f in dest.iterdir())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source", type=Path, help="folder of <model>/<run> circuit folders")
    p.add_argument("dest", type=Path)
    p.add_argument("--drawn", nargs="*", default=["left-right-eap"], help="run names that keep circuit.png")
    args = p.parse_args()
    total = 0
    for metrics in sorted(args.source.glob("*/*/metrics.json")):
        run = metrics.parent
        size = pack(run, args.dest / run.parent.name / run.name, run.name in args.drawn)
        total += size
        print(f"{run.parent.name}/{run.name}: {size / 1e6:.2f} MB")
    print(f"{total / 1e6:.1f} MB in all")


if __name__ == "__main__":
    main()
