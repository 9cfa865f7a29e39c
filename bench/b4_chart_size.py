"""B4: every chart type on 10M rows stays within 10,000 marks and 1 MB of figure JSON."""

from pathlib import Path

from bench.b3_chart_speed import make_dataset
from services.charts.aggregate import MAX_MARKS, aggregate
from services.charts.chart_figure import build_figure
from services.charts.spec import ChartSpec

MAX_JSON_BYTES = 1_000_000

SPECS: list[ChartSpec] = [
    ChartSpec(chart_type="bar", x="customer", y="revenue", agg="sum"),  # ~100k categories
    ChartSpec(chart_type="grouped_bar", x="product", color="region", y="price", agg="mean"),
    ChartSpec(chart_type="stacked_bar", x="date", color="channel", bucket="month"),
    ChartSpec(chart_type="line", x="date", y="revenue", agg="mean", color="region"),
    ChartSpec(chart_type="line", x="price", y="quantity", agg="mean"),  # dense numbers
    ChartSpec(chart_type="area", x="date", y="revenue", agg="sum", bucket="week",
              color="channel"),
    ChartSpec(chart_type="scatter", x="price", y="revenue", color="region"),
    ChartSpec(chart_type="histogram", x="revenue", color="channel"),
    ChartSpec(chart_type="box", x="product", y="revenue"),
    ChartSpec(chart_type="heatmap", x="price", y="revenue"),
    ChartSpec(chart_type="heatmap", x="customer", y="product", color="revenue", agg="median"),
    ChartSpec(chart_type="correlation"),
]


def run(work_dir: Path) -> dict[str, dict]:
    path = make_dataset(work_dir)
    sizes: list[tuple[int, int, str]] = []
    for spec in SPECS:
        data = aggregate(path, spec)
        size = len(build_figure(data, spec).to_json().encode())
        label = f"{spec.chart_type}({spec.x},{spec.y},{spec.color})"
        sizes.append((size, data.mark_count, label))
    worst_bytes = max(sizes)
    worst_marks = max(sizes, key=lambda s: s[1])
    listing = "; ".join(f"{label} {marks:,} marks {size / 1000:.0f} kB"
                        for size, marks, label in sizes)
    return {
        "B4 figure JSON (max)": {"value": worst_bytes[0] / 1e6, "target": 1.0, "unit": "MB",
                                 "ok": worst_bytes[0] <= MAX_JSON_BYTES,
                                 "detail": f"worst {worst_bytes[2]}; {listing}"},
        "B4 marks (max)": {"value": float(worst_marks[1]), "target": float(MAX_MARKS),
                           "unit": "marks", "ok": worst_marks[1] <= MAX_MARKS,
                           "detail": f"worst {worst_marks[2]}"},
    }
