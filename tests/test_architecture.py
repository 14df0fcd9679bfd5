"""The layers of nnviz, read from the imports (ast), so that a wrong import fails here by name.

    pages/ and app.py   -> anything
    nnviz/ui            -> plots, classroom, lab, data, engine, streamlit (the only layer with streamlit)
    nnviz/plots         -> lab, data, engine, plotly                  (pure figure builders, no streamlit)
    nnviz/cli           -> classroom, lab, data, engine               (no streamlit, no plotly)
    nnviz/classroom     -> lab, data, engine, sqlalchemy, alembic     (the class challenge's store and rating)
    nnviz/lab           -> data, engine                               (what the pages compute, no UI)
    nnviz/data          -> engine
    nnviz/engine        -> nothing of nnviz outside itself
Every import counts, also one inside a function: a lazy import is still a dependency.
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("engine", "data", "lab", "classroom", "cli", "plots", "ui")
MAY_IMPORT = {
    "engine": {"engine"},
    "data": {"engine", "data"},
    "lab": {"engine", "data", "lab"},
    "classroom": {"engine", "data", "lab", "classroom"},
    "cli": {"engine", "data", "lab", "classroom", "cli"},
    "plots": {"engine", "data", "lab", "plots"},
    "ui": {"engine", "data", "lab", "classroom", "plots", "ui"},
}
UI_LIBRARIES = {"streamlit", "streamlit_drawable_canvas"}
FIGURE_LIBRARIES = {"plotly"}
MAY_USE_FIGURES = {"plots", "ui"}


def _package_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])


def _imports(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in the file, relative ones resolved from `package`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module == "nnviz" or (node.level and not node.module):  # from nnviz import engine / from . import x
                found += [(node.lineno, f"{module}.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, module))
    return found


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "nnviz" and len(parts) > 1 and parts[1] in LAYERS else None


def _violations(path: Path, layer: str | None, package: str | None = None) -> list[str]:
    rel = path.name if package else path.relative_to(ROOT)
    bad = []
    for line, module in _imports(path, package or _package_of(path)):
        top = module.split(".")[0]
        if top in UI_LIBRARIES and layer not in ("ui", None):
            bad.append(f"{rel}:{line} imports {module}: only nnviz/ui and pages/ may import streamlit")
        if top in FIGURE_LIBRARIES and layer not in MAY_USE_FIGURES | {None}:
            bad.append(f"{rel}:{line} imports {module}: only nnviz/plots and nnviz/ui build figures")
        if layer is None or top != "nnviz":
            continue
        target = _layer_of(module)
        if module == "nnviz":
            bad.append(f"{rel}:{line} imports the nnviz package itself: import from its layer instead")
        elif target is None:
            bad.append(f"{rel}:{line} imports {module}: not in any layer ({', '.join(LAYERS)})")
        elif target not in MAY_IMPORT[layer]:
            bad.append(f"{rel}:{line} imports {module}: {layer} may import only {sorted(MAY_IMPORT[layer])}")
    return bad


def _layered_files():
    for layer in LAYERS:
        for path in sorted((ROOT / "nnviz" / layer).rglob("*.py")):
            yield path, layer


def test_every_module_of_nnviz_is_in_a_layer():
    loose = sorted(p.name for p in (ROOT / "nnviz").glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert loose == [], f"modules outside the layers: {loose}"
    for layer in LAYERS:
        assert (ROOT / "nnviz" / layer / "__init__.py").is_file(), f"nnviz/{layer} is not a package"


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_imports_only_what_it_may(layer):
    bad = [v for path, lay in _layered_files() if lay == layer for v in _violations(path, lay)]
    assert bad == [], "\n".join(bad)


def test_the_package_face_is_the_engine():
    bad = [v for line, module in _imports(ROOT / "nnviz" / "__init__.py", "nnviz")
           if _layer_of(module) not in ("engine", "data")
           for v in [f"nnviz/__init__.py:{line} imports {module}"]]
    assert bad == [], bad


def test_streamlit_only_in_ui_and_pages():
    outside = [ROOT / "nnviz" / "__init__.py", ROOT / "nnviz" / "__main__.py"]
    bad = [f"{p.relative_to(ROOT)}:{line} imports {m}" for p in outside for line, m in _imports(p, "nnviz")
           if m.split(".")[0] in UI_LIBRARIES]
    assert bad == []


def test_the_checker_names_the_file_and_the_import(tmp_path):
    """A wrong import is reported with its file, line and module (the rule is not vacuous)."""
    fake = tmp_path / "_probe_for_the_layer_test.py"
    fake.write_text("import numpy\nfrom nnviz.lab import attacks\nfrom ..ui import session\nimport streamlit as st\n"
                    "from . import functions\n")
    bad = _violations(fake, "engine", package="nnviz.engine")
    assert any("_probe_for_the_layer_test.py:2 imports nnviz.lab" in b for b in bad)
    assert any(":3 imports nnviz.ui" in b for b in bad)
    assert any(":4 imports streamlit" in b for b in bad)
    assert len(bad) == 3


def test_importing_everything_below_ui_loads_no_streamlit_or_plotly():
    """What the imports say holds at run time too: the engine, data, lab and cli load no UI."""
    modules = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts)
                     for layer in ("engine", "data", "lab", "classroom", "cli") for p in (ROOT / "nnviz" / layer).glob("*.py")
                     if p.stem != "__init__")
    assert "nnviz.engine.model" in modules and "nnviz.cli.main" in modules
    code = ("import sys, importlib\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'plotly'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"UI modules loaded below the UI: {out.stdout}"
