"""Colour-blindness check of the chart palette.

Method: Machado, Oliveira & Fernandes (2009) full-severity matrices simulate protanopia,
deuteranopia and tritanopia in linear RGB; colours are then compared in CIELAB with
CIEDE2000. Series use seven mid-light colours plus the neutral grey for "Other"; every one
keeps 3:1 contrast on the light and the dark theme's background (WCAG 1.4.11), and the
second safeguard is shape: every series also gets its own marker, dash and bar pattern.
"""

import itertools
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from services.charts.aggregate import ChartData
from services.charts.ask_chart import build_chart
from services.charts.chart_figure import build_figure
from services.charts.palette import (
    BAR_PATTERNS,
    DASH_PATTERNS,
    MARKER_SYMBOLS,
    NEUTRAL_COLOR,
    SERIES_COLORS,
    SINGLE_COLOR,
    THEME_BACKGROUNDS,
    color_map,
    style_map,
)
from services.charts.spec import ChartSpec

MACHADO = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
# Smallest CIEDE2000 difference allowed between any two series colours after simulation.
# ~10 is "clearly different at a glance" for adjacent plot marks; shapes carry the rest.
MIN_DELTA_E = 10.0
WHITE, DARK = "#FFFFFF", "#0E1117"


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0


def _linear(rgb: np.ndarray) -> np.ndarray:
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    m = np.array([[0.4124564, 0.3575761, 0.1804375],
                  [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = m @ np.clip(linear_rgb, 0, 1) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> float:
    l1, a1, b1 = lab1
    l2, a2, b2 = lab2
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dl, dc = l2 - l1, c2p - c1p
    dh = h2p - h1p
    if c1p * c2p == 0:
        dh = 0.0
    elif dh > 180:
        dh -= 360
    elif dh < -180:
        dh += 360
    d_big_h = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    l_bar, c_bar_p = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_bar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_bar = (h1p + h2p) / 2
    else:
        h_bar = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (1 - 0.17 * np.cos(np.radians(h_bar - 30)) + 0.24 * np.cos(np.radians(2 * h_bar))
         + 0.32 * np.cos(np.radians(3 * h_bar + 6)) - 0.20 * np.cos(np.radians(4 * h_bar - 63)))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    s_c, s_h = 1 + 0.045 * c_bar_p, 1 + 0.015 * c_bar_p * t
    r_t = (-2 * np.sqrt(c_bar_p**7 / (c_bar_p**7 + 25**7))
           * np.sin(np.radians(60 * np.exp(-(((h_bar - 275) / 25) ** 2)))))
    return float(np.sqrt((dl / s_l) ** 2 + (dc / s_c) ** 2 + (d_big_h / s_h) ** 2
                         + r_t * (dc / s_c) * (d_big_h / s_h)))


def _contrast(hex1: str, hex2: str) -> float:
    lum = [float(np.array([0.2126, 0.7152, 0.0722]) @ _linear(_rgb(h))) for h in (hex1, hex2)]
    return (max(lum) + 0.05) / (min(lum) + 0.05)


def test_ciede2000_matches_published_reference_pair() -> None:
    # Sharma, Wu & Dalal (2005), pair 1: ΔE00 = 2.0425
    assert _ciede2000(np.array([50.0, 2.6772, -79.7751]),
                      np.array([50.0, 0.0, -82.7485])) == pytest.approx(2.0425, abs=1e-3)


def test_palette_has_seven_different_series_colours() -> None:
    assert len(set(SERIES_COLORS)) == 7 and NEUTRAL_COLOR not in SERIES_COLORS
    assert SINGLE_COLOR in SERIES_COLORS


@pytest.mark.parametrize("deficiency", ["normal", *MACHADO])
def test_series_colours_stay_distinct_under_colour_blindness(deficiency: str) -> None:
    colours = [*SERIES_COLORS, NEUTRAL_COLOR]
    labs = []
    for colour in colours:
        linear = _linear(_rgb(colour))
        if deficiency != "normal":
            linear = MACHADO[deficiency] @ linear
        labs.append(_lab(linear))
    distances = {(colours[i], colours[j]): _ciede2000(labs[i], labs[j])
                 for i, j in itertools.combinations(range(len(colours)), 2)}
    worst = min(distances, key=lambda pair: distances[pair])
    assert distances[worst] >= MIN_DELTA_E, (deficiency, worst, distances[worst])


def test_the_simulation_does_catch_a_bad_palette() -> None:
    red, green = _linear(_rgb("#D62728")), _linear(_rgb("#2CA02C"))  # classic red/green
    normal = _ciede2000(_lab(red), _lab(green))
    deutan = _ciede2000(_lab(MACHADO["deuteranopia"] @ red),
                        _lab(MACHADO["deuteranopia"] @ green))
    assert normal > 40 and deutan < normal / 2


def test_the_palette_knows_the_theme_backgrounds() -> None:
    config = tomllib.loads((Path(__file__).parents[3] / ".streamlit" / "config.toml")
                           .read_text(encoding="utf-8"))["theme"]
    assert THEME_BACKGROUNDS == {"light": config["light"]["backgroundColor"],
                                 "dark": config["dark"]["backgroundColor"]}


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_mark_colour_has_3_to_1_contrast_on_both_themes(theme: str) -> None:
    background = THEME_BACKGROUNDS[theme]
    for colour in (*SERIES_COLORS, SINGLE_COLOR, NEUTRAL_COLOR):
        assert _contrast(colour, background) >= 3.0, (theme, colour)


def _dots(figure) -> list:
    return [t for t in figure.data if t.type in ("scatter", "scattergl") and t.mode == "markers"]


def test_scatter_dots_keep_a_solid_outline_in_their_colour() -> None:
    """A dot see-through as a whole fades below 3:1 (blue at 70 % on dark: 2.4:1); only
    its fill may be see-through, its outline is the solid palette colour."""
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [2.0, 1.0, 4.0, 3.0],
                          "color": ["Africa", "Oceanía", "Africa", "Oceanía"]})
    data = ChartData(frame=frame, mark_count=4, rows_in=4,
                     labels={"x": "a", "y": "b", "color": "Continent"})
    explore = build_figure(data, ChartSpec(chart_type="scatter", x="a", y="b",
                                           color="Continent"))
    ask = build_chart(frame.rename(columns={"color": "Continent"}),
                      ChartSpec(chart_type="scatter", x="x", y="y", color="Continent")).figure
    for figure in (explore, ask):
        dots = _dots(figure)
        assert len(dots) == 2
        for trace in dots:
            assert trace.opacity in (None, 1) and trace.marker.opacity in (None, 1)
            assert trace.marker.line.color in SERIES_COLORS and trace.marker.line.width >= 1
            for theme in THEME_BACKGROUNDS.values():
                assert _contrast(trace.marker.line.color, theme) >= 3.0


def test_shapes_back_up_colour_for_eight_series() -> None:
    for styles in (MARKER_SYMBOLS, DASH_PATTERNS, BAR_PATTERNS):
        assert len(set(styles)) >= 8
    labels = [f"s{i}" for i in range(8)]
    assert len(set(style_map(labels, MARKER_SYMBOLS).values())) == 8
    assert len(set(style_map(labels, DASH_PATTERNS).values())) == 8


def test_color_map_greys_out_other_and_missing() -> None:
    mapping = color_map(["North", "Other", "South", "(missing)"])
    assert mapping == {"North": SERIES_COLORS[0], "Other": NEUTRAL_COLOR,
                       "South": SERIES_COLORS[1], "(missing)": NEUTRAL_COLOR}
