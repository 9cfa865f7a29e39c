"""For "no second copy" tests: where a rule's tell-tale text appears in the app's code."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_FOLDERS = ("services", "components", "pages")


def files_matching(pattern: str) -> list[str]:
    """Paths (relative to the repository) of app modules whose text matches `pattern`."""
    found = []
    for folder in APP_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if re.search(pattern, path.read_text(encoding="utf-8")):
                found.append(path.relative_to(ROOT).as_posix())
    if (ROOT / "app.py").is_file() and re.search(pattern, (ROOT / "app.py").read_text()):
        found.append("app.py")
    return found
