"""Static checks over every source file: no pickles, no user text as HTML or Markdown, bounded
numeric inputs.

Read with `ast`, not grep, so a string that merely mentions `allow_pickle=True` (like this
docstring) does not count, and a call split over several lines does. A call that must render
computed (never user-typed) HTML can say why on its first line: `# safe-html: <reason>`.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {".venv", ".git", "__pycache__", "shots", "node_modules"}
HTML_SINKS = {"html"}  # st.html, st.sidebar.html, components.html, col.html, ...
# Elements that render their text as Markdown, and the names that hold user text (file names,
# model descriptions, CSV cells): such text must go through nnviz.ui.text.plain first.
MARKDOWN_SINKS = {"markdown", "caption", "error", "warning", "info", "success", "toast", "write",
                  "title", "header", "subheader"}
USER_TEXT = {"name", "description", "origin", "header", "cell", "filename", "file_name"}
PICKLE_LOADERS = {("pickle", "load"), ("pickle", "loads"), ("joblib", "load"), ("dill", "load"),
                  ("dill", "loads"), ("torch", "load")}


def source_files() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py")
                  if not SKIP_DIRS.intersection(p.relative_to(ROOT).parts))


def _module_constants(tree: ast.Module) -> set[str]:
    """Names assigned a constant string at module level (e.g. a CSS block)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if _is_constant_text(node.value, names):
                names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _is_constant_text(node: ast.AST, constants: set[str]) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_constant_text(node.left, constants) and _is_constant_text(node.right, constants)
    if isinstance(node, ast.Name):
        return node.id in constants
    return False  # f-strings, calls, .format(), variables: not provably constant


def _first_arg(call: ast.Call, name: str) -> ast.AST | None:
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == name), None)


def _keyword(call: ast.Call, name: str) -> ast.keyword | None:
    return next((k for k in call.keywords if k.arg == name), None)


def _dotted(func: ast.AST) -> tuple[str, ...]:
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return tuple(reversed(parts))


def _user_text(node: ast.AST) -> bool:
    """True when node reads a user-text name (f.name, trained.description, run.description(), ...)
    that is not wrapped in plain()."""
    if isinstance(node, ast.Call) and _dotted(node.func)[-1:] == ("plain",):
        return False
    if isinstance(node, ast.Attribute) and node.attr in USER_TEXT:
        return True
    if isinstance(node, ast.Name) and node.id in USER_TEXT:
        return True
    return any(_user_text(child) for child in ast.iter_child_nodes(node))


def problems_in(source: str, name: str = "<src>", app_code: bool = True) -> list[str]:
    """Every safety problem in one file's source, as 'file:line: what' strings.

    The widget rules (bounded number inputs, typed uploaders) are for app code only: tests
    call AppTest's accessors of the same names (`at.number_input(key=...)`).
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    constants = _module_constants(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        where = f"{name}:{node.lineno}"
        excused = "# safe-html:" in lines[node.lineno - 1]
        pickle = _keyword(node, "allow_pickle")
        if pickle is not None and not (isinstance(pickle.value, ast.Constant) and pickle.value.value is False):
            found.append(f"{where}: allow_pickle is not False")
        dotted = _dotted(node.func)
        if dotted[-2:] in PICKLE_LOADERS:
            found.append(f"{where}: {'.'.join(dotted[-2:])} loads pickles")
        unsafe = _keyword(node, "unsafe_allow_html")
        if unsafe is not None and not (isinstance(unsafe.value, ast.Constant) and unsafe.value.value is False):
            body = _first_arg(node, "body")
            if not excused and (body is None or not _is_constant_text(body, constants)):
                found.append(f"{where}: unsafe_allow_html with non-constant text")
        if dotted and dotted[-1] in HTML_SINKS and len(dotted) > 1:
            body = _first_arg(node, "body")
            if not excused and (body is None or not _is_constant_text(body, constants)):
                found.append(f"{where}: {'.'.join(dotted)}() with non-constant text")
        if app_code and len(dotted) > 1 and dotted[-1] in MARKDOWN_SINKS and node.args \
                and _user_text(node.args[0]):
            found.append(f"{where}: {'.'.join(dotted)}() shows user text as Markdown (use plain())")
        if app_code and dotted[-1:] == ("number_input",):
            bounded = len(node.args) >= 3 or {"min_value", "max_value"} <= {k.arg for k in node.keywords}
            if not bounded:
                found.append(f"{where}: number_input without min_value and max_value")
        if app_code and dotted[-1:] == ("file_uploader",) and _keyword(node, "type") is None:
            found.append(f"{where}: file_uploader without type= (accepts any file)")
    return found


def test_detector_catches_each_kind_of_problem():
    bad = '''
import numpy as np, pickle, streamlit as st
x = np.load(f, allow_pickle=True)
m = pickle.loads(b)
st.markdown(f"<b>{name}</b>", unsafe_allow_html=True)
st.html("<p>" + name + "</p>")
st.sidebar.html(user_text)
n = st.number_input("Rate", value=0.1)
u = st.file_uploader("Model")
st.error(f"{f.name}: not loaded")
side.caption(trained.description + " right")
'''
    assert len(problems_in(bad)) == 10, problems_in(bad)  # line 5 twice: HTML and Markdown
    good = '''
import numpy as np, streamlit as st
CSS = "<style>h1 {color: black}</style>"
x = np.load(f, allow_pickle=False)
st.html(CSS)
st.markdown("<b>fixed</b>", unsafe_allow_html=True)
st.markdown(user_text)
st.html(f"<b>{n:.0f}</b>")  # safe-html: a number we computed
n = st.number_input("Rate", 0.0, 10.0, 0.1)
u = st.file_uploader("Model", type=["npz"])
st.error(f"{plain(f.name)}: not loaded")
side.caption(plain(trained.description) + " right")
'''
    assert problems_in(good) == []


def test_scans_the_app():
    names = {p.relative_to(ROOT).as_posix() for p in source_files()}
    assert {"app.py", "nnviz/ui/layout.py", "nnviz/engine/model_files.py"} <= names


@pytest.mark.parametrize("path", source_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_source_file_is_safe(path: Path):
    name = path.relative_to(ROOT).as_posix()
    assert problems_in(path.read_text(), name, app_code=not name.startswith("tests/")) == []


EMOJI = re.compile("[\U0001F000-\U0001FAFF\uFE0F]")  # pictographs, and the emoji presentation selector


def test_no_emoji_in_app_code():
    """Headless Chromium (and many projector laptops) have no emoji font: Material icons instead."""
    found = [f"{p.relative_to(ROOT)}:{i}" for p in source_files() if not p.relative_to(ROOT).parts[0] == "tests"
             for i, line in enumerate(p.read_text().splitlines(), 1) if EMOJI.search(line)]
    assert found == []
    assert EMOJI.search("Fooled \U0001F608") and not EMOJI.search(":material/check: \u2713 \u221e")
