"""Colours, marker shapes, dash patterns and colour scales every chart shares.

Categories use the Okabe-Ito palette (distinguishable with the common colour-vision
deficiencies). Series get the first seven colours; black is kept out of series because it
disappears on a dark theme, and a neutral grey marks "Other" and "(missing)" in both themes.
No single colour contrasts with both a white and a dark background (yellow fades on white,
black on dark), so every series *also* differs by marker shape, dash pattern or bar pattern.
"""

OKABE_ITO: tuple[str, ...] = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#F0E442",  # yellow
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#000000",  # black
)
SERIES_COLORS: tuple[str, ...] = OKABE_ITO[:7]
SINGLE_COLOR = "#0072B2"  # one series: the blue reads well on white and on dark
NEUTRAL_COLOR = "#6E6E6E"  # "Other"/"(missing)": ≥ 3.7:1 on white and dark, distinct under CVD
NEUTRAL_LABELS = frozenset({"Other", "(missing)"})

MARKER_SYMBOLS: tuple[str, ...] = (
    "circle",
    "square",
    "diamond",
    "triangle-up",
    "x",
    "triangle-down",
    "star",
    "cross",
)
DASH_PATTERNS: tuple[str, ...] = (
    "solid",
    "dash",
    "dot",
    "dashdot",
    "longdash",
    "longdashdot",
    "5px,3px,1px,3px",
    "1px,4px",
)
BAR_PATTERNS: tuple[str, ...] = ("", "/", ".", "x", "\\", "-", "|", "+")

SEQUENTIAL_SCALE = "Viridis"
DIVERGING_SCALE = "Cividis"  # correlation −1…1: perceptually uniform, colour-blind safe
GRID_COLOR = "rgba(128, 128, 128, 0.3)"  # neutral: readable in light and dark themes


def color_map(labels: list[str]) -> dict[str, str]:
    """Label → colour, in order; "Other" and "(missing)" are grey."""
    out: dict[str, str] = {}
    index = 0
    for label in labels:
        if label in NEUTRAL_LABELS:
            out[label] = NEUTRAL_COLOR
            continue
        out[label] = SERIES_COLORS[index % len(SERIES_COLORS)]
        index += 1
    return out


def style_map(labels: list[str], styles: tuple[str, ...]) -> dict[str, str]:
    """Label → marker symbol / dash / bar pattern, one per series, in order."""
    return {label: styles[i % len(styles)] for i, label in enumerate(labels)}
