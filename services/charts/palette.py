"""Colours, marker shapes, dash patterns and colour scales every chart shares.

Every colour a mark can take keeps at least 3:1 contrast (WCAG 1.4.11) against the page
background of both themes, white (#FFFFFF) and dark (#0E1117), so no series fades in either
mode. That rules out the light and the very dark colours: Okabe-Ito's yellow, sky blue and
orange fade on white, its black on dark. The series colours are therefore mid-light ones,
picked to stay apart under protanopia, deuteranopia and tritanopia (tests/unit/charts/
test_palette.py), with Okabe-Ito's blue kept; a neutral grey marks "Other" and "(missing)".
Every series *also* differs by marker shape, dash pattern or bar pattern.
"""

OKABE_ITO: tuple[str, ...] = (  # the classic palette, for reference (and seaborn figures)
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#F0E442",  # yellow
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#000000",  # black
)
SERIES_COLORS: tuple[str, ...] = (
    "#ED6D00",  # orange
    "#0072B2",  # blue (Okabe-Ito)
    "#00A966",  # green
    "#A63888",  # magenta
    "#8587FC",  # lavender
    "#C04A00",  # rust
    "#C07EAA",  # pink
)
SINGLE_COLOR = "#0072B2"  # one series: the blue reads well on white and on dark
NEUTRAL_COLOR = "#6E6E6E"  # "Other"/"(missing)": ≥ 3.7:1 on white and dark, distinct under CVD
NEUTRAL_LABELS = frozenset({"Other", "(missing)"})
THEME_BACKGROUNDS = {"light": "#FFFFFF", "dark": "#0E1117"}  # .streamlit/config.toml
MARKER_FILL_OPACITY = 0.55  # scatter dots: overlaps show through; the outline stays solid

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


def outlined_marker(color: str) -> dict:
    """A scatter dot: a see-through fill, so dense areas still show, inside a solid outline
    in the same colour, so the dot keeps its full contrast on either background (a dot
    that is see-through as a whole fades: blue at 70 % is 2.4:1 on the dark theme)."""
    red, green, blue = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return {"color": f"rgba({red}, {green}, {blue}, {MARKER_FILL_OPACITY})",
            "line": {"color": color, "width": 1.5}, "opacity": 1}
