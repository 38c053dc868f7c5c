"""`make bench`'s picture (docs/bench.svg): what the security costs at a glance.

Left, throughput (calls/s) of each way of authenticating with 1 and with 8 callers; right, the
latency of one billing -> product call, p50 (bar) and p99 (tick), by the same. The modes with
traces exported (``+traces``) are drawn beside the others, hatched.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no screen: draw to a file
import matplotlib.pyplot as plt  # noqa: E402

COLOURS = {"none": "#9e9e9e", "static": "#64b5f6", "fetched": "#e57373", "xms": "#43a047", "xms-redis": "#2e7d32"}


def draw(rows: dict[tuple[str, int], dict[str, float]], modes: list[str], concurrencies: tuple[int, ...],
         path: Path, *, title: str) -> None:
    """``rows[(mode, callers)]``: ``rps``, ``p50`` and ``p99`` (ms)."""
    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "shop-bench", "font.size": 9})
    figure, (throughput, latency) = plt.subplots(1, 2, figsize=(11, 4.2))
    width = 0.8 / len(modes)
    for index, mode in enumerate(modes):
        base = mode.removesuffix("+traces")
        style = {"color": COLOURS.get(base, "#7e57c2"), "edgecolor": "black", "linewidth": 0.4,
                 "hatch": "//" if mode.endswith("+traces") else None}
        offsets = [position + (index - (len(modes) - 1) / 2) * width for position in range(len(concurrencies))]
        figures = [rows.get((mode, callers)) for callers in concurrencies]
        throughput.bar(offsets, [f["rps"] if f else 0 for f in figures], width, label=mode, **style)
        latency.bar(offsets, [f["p50"] if f else 0 for f in figures], width, label=mode, **style)
        latency.scatter(offsets, [f["p99"] if f else float("nan") for f in figures], marker="_", s=120,
                        color="black", zorder=3, label="p99" if index == 0 else None)
    for axes, label in ((throughput, "billing -> product calls per second"), (latency, "ms per call: p50 (bar), p99 (tick)")):
        axes.set_xticks(range(len(concurrencies)), [f"{callers} caller{'s' * (callers > 1)}" for callers in concurrencies])
        axes.set_ylabel(label)
        axes.grid(axis="y", linewidth=0.3)
        axes.set_axisbelow(True)
    throughput.set_title("Throughput (higher is better)")
    latency.set_title("Latency (lower is better)")
    latency.set_yscale("log")
    handles, labels = latency.get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout(rect=(0, 0.08, 1, 0.95))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, metadata={"Date": None})
    plt.close(figure)
