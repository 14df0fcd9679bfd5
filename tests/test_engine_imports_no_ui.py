"""The engine must import no UI library: pages and nnviz.ui are the only places that may."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE_MODULES = sorted(
    "nnviz." + p.stem for p in (ROOT / "nnviz").glob("*.py") if p.stem not in ("__init__", "__main__"))


def test_engine_modules_exist():
    assert {"nnviz.model", "nnviz.training", "nnviz.functions", "nnviz.optimizers"} <= set(ENGINE_MODULES)


def test_importing_the_engine_loads_no_streamlit_or_plotly():
    code = ("import sys, importlib\n"
            f"for m in {ENGINE_MODULES!r}: importlib.import_module(m)\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'plotly'))\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"engine imported UI modules: {out.stdout}"
