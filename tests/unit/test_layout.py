"""The layout is the architecture: these checks keep it readable at a glance."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"
TOP_MODULES = {"__init__.py", "settings.py", "errors.py", "logs.py", "cli.py", "labels.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _python_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.py") if "migrations/versions" not in p.as_posix()]


def test_services_top_level_holds_only_settings_errors_and_logs() -> None:
    loose = {p.name for p in SERVICES.glob("*.py")} - TOP_MODULES
    assert loose == set(), f"put these modules in a package: {sorted(loose)}"


def test_every_package_init_is_free_of_logic() -> None:
    packages = [p for p in SERVICES.iterdir() if (p / "__init__.py").exists()]
    assert len(packages) >= 6
    for package in packages:
        body = (package / "__init__.py").read_text()
        code = [n for n in ast.parse(body).body if not isinstance(n, ast.Expr)]
        assert code == [], f"{package.name}/__init__.py should only hold a docstring"


def test_services_never_import_streamlit() -> None:
    for path in _python_files(SERVICES):
        streamlit = {n for n in _imports(path) if n.split(".")[0] == "streamlit"}
        assert streamlit == set(), f"{path.relative_to(ROOT)} imports {streamlit}"


def test_pages_and_components_never_touch_duckdb_or_the_sdk() -> None:
    for folder in ("pages", "components"):
        for path in _python_files(ROOT / folder):
            touched = {n for n in _imports(path) if n.split(".")[0] in {"duckdb", "anthropic"}}
            assert touched == set(), f"{path.relative_to(ROOT)} imports {touched}"


def test_only_the_claude_client_imports_the_sdk() -> None:
    importers = {
        path.relative_to(ROOT).as_posix()
        for path in _python_files(SERVICES)
        if any(n.split(".")[0] == "anthropic" for n in _imports(path))
    }
    assert importers == {"services/claude/client.py"}


# The metadata store holds the engine, the tables and their migrations, nothing else: the
# operations on datasets, items and samples live in their domain packages (issue 20).
STORE_MODULES = {"__init__.py", "db.py", "models.py"}
DOMAIN_PACKAGES = ("services.data", "services.research", "services.prompts")


def test_the_store_holds_only_the_engine_tables_and_migrations() -> None:
    store = SERVICES / "store"
    modules = {p.name for p in store.glob("*.py")}
    assert modules == STORE_MODULES, f"move {sorted(modules - STORE_MODULES)} to their domain"
    folders = {p.name for p in store.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == {"migrations"}


def test_access_never_imports_the_domain_operations() -> None:
    """Domain packages call access for permissions; access needs only the store's engine and
    tables, so there is no import cycle access ⇄ store ⇄ research."""
    for path in _python_files(SERVICES / "access"):
        domain = {n for n in _imports(path)
                  if any(n == p or n.startswith(p + ".") for p in DOMAIN_PACKAGES)}
        assert domain == set(), f"{path.relative_to(ROOT)} imports {sorted(domain)}"
        store = {n for n in _imports(path) if n.startswith("services.store.")}
        assert store <= {"services.store.db", "services.store.models"}, path


def test_access_does_not_import_the_domain_when_loaded_alone() -> None:
    """The same, as Python sees it: loading every access module in a fresh interpreter
    loads none of the domain packages."""
    import subprocess
    import sys

    modules = sorted(p.stem for p in (SERVICES / "access").glob("*.py") if p.stem != "__init__")
    script = ("import importlib, sys\n"
              f"for name in {modules!r}: importlib.import_module('services.access.' + name)\n"
              f"print(sorted(m for m in sys.modules if m.startswith({DOMAIN_PACKAGES!r})))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"
