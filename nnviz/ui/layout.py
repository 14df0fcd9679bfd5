"""Page furniture every page calls first: title, and projector mode (?present=1 or the toggle).

How a page uses it::

    present = page_header("Playground", "A small network learns to separate two clouds of points.")
    with controls():                      # collapsible; collapsed by default in projector mode
        lr = st.slider("Learning rate", ...)
    st.plotly_chart(boundary_figure(..., present=present))   # figure builders take present=

Projector mode (for a lecture hall, 1280x720 or 1920x1080 projectors):
- switched on by ``?present=1`` in the URL (a link on a slide) or by the sidebar toggle; it is kept
  in this browser session (it survives page switches) and written back to the URL as
  ``present=1`` on every page, so a link copied from the address bar keeps it;
- large type and high contrast (a constant CSS block of ours, never user text), less padding;
- the sidebar collapses once when the mode comes on, and ``controls()`` starts collapsed, so the charts get the screen;
- figure builders get ``present=True`` and enlarge text and lines
  and height (:func:`nnviz.plots.style.base_layout` does it: builders need nothing else).
"""
from __future__ import annotations

import streamlit as st

from nnviz.ui import class_session

_PRESENT_KEY = "nnviz_present"  # the truth; a non-widget key, so it survives page switches
_TOGGLE_KEY = "nnviz_present_toggle"  # the widget's key: Streamlit drops it on a page switch
_COLLAPSED_KEY = "nnviz_present_collapsed"  # the sidebar was collapsed for this projector stint

# Constant: Streamlit leaves 6rem above the title; on a 720-pixel-high projector that is a chart's
# worth of height. Half of it keeps the title clear of the (transparent) header bar.
_COMPACT_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 3.5rem; }
</style>
"""

# Constant (never user text): bigger root font (Streamlit sizes everything in rem), black text,
# darker captions and widget labels, thicker focus outlines, less padding above the title.
_PRESENT_CSS = """
<style>
html { font-size: 20px !important; }
[data-testid="stAppViewContainer"], [data-testid="stSidebar"] { color: #000000; }
[data-testid="stCaptionContainer"] { opacity: 1 !important; color: #222222 !important; }
[data-testid="stWidgetLabel"] p { font-weight: 600; color: #000000; }
[data-testid="stMarkdownContainer"] p { line-height: 1.45; }
[data-testid="stMainBlockContainer"] { padding-top: 3.5rem; padding-left: 2rem; padding-right: 2rem;
  max-width: 100%; }
h1 { font-size: 2.2rem !important; padding-top: 0 !important; }
button:focus-visible, input:focus-visible { outline: 3px solid #000000 !important; }
</style>
"""


def present_mode() -> bool:
    """True when the app is in projector mode (large type, for a lecture hall).

    The first page a session opens reads ``?present=1`` from the URL; after that the session's
    own setting (the sidebar toggle) is the truth.
    """
    if _PRESENT_KEY not in st.session_state:
        st.session_state[_PRESENT_KEY] = st.query_params.get("present") == "1"
    return bool(st.session_state[_PRESENT_KEY])


def set_present_mode(on: bool) -> None:
    """Switch projector mode on or off for this session (takes effect on this run)."""
    st.session_state[_PRESENT_KEY] = bool(on)


def _on_toggle() -> None:
    set_present_mode(st.session_state[_TOGGLE_KEY])


def _sync_url(present: bool) -> None:
    """Write the mode back to the address bar (page switches drop query parameters)."""
    if present:
        if st.query_params.get("present") != "1":
            st.query_params["present"] = "1"
    elif "present" in st.query_params:
        del st.query_params["present"]


def present_toggle() -> bool:
    """The sidebar toggle for projector mode; returns the (possibly new) mode."""
    # Seed the widget from our own key: the widget's state is dropped when the page changes.
    st.session_state[_TOGGLE_KEY] = present_mode()
    st.sidebar.toggle("Projector mode", key=_TOGGLE_KEY, on_change=_on_toggle,
                      help="Large type and high contrast for a lecture hall; the controls and the "
                           "sidebar start collapsed. Also ?present=1 in the URL.")
    return present_mode()


def ensure_app_navigation() -> None:
    """Run this page through app.py's st.navigation, never on its own.

    Because the page files live in a folder named `pages/`, Streamlit's legacy multipage mode runs
    a page file directly (no app.py: no wide layout, no BLAS cap, file names in the sidebar) when
    the first request a fresh server gets is a page's own url (a link on a slide: /break). Leaving
    that mode and rerunning makes app.py route the same url. (It is a page load: no click is lost.)
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def page_header(title: str, caption: str | None = None) -> bool:
    """Draw the projector-mode toggle, the title (and caption); return whether projector mode is on.

    Every page calls this first, and passes the result to figure builders (``present=``).
    """
    ensure_app_navigation()
    present = present_toggle()
    _sync_url(present)
    class_session.sync_url()  # a student's place survives page switches and reloads
    st.html(_COMPACT_CSS)
    if present:
        if not st.session_state.get(_COLLAPSED_KEY):
            # When the mode comes on (a link with ?present=1): collapse the sidebar so the charts
            # get the width; the lecturer can open it again at will. (Once the user has opened or
            # closed the sidebar, the browser keeps their choice.)
            st.session_state[_COLLAPSED_KEY] = True
            st.set_page_config(initial_sidebar_state="collapsed")
        st.html(_PRESENT_CSS)
    else:
        st.session_state[_COLLAPSED_KEY] = False
    st.title(title)
    if caption:
        st.caption(caption)
    return present


def controls(label: str = "Controls", present: bool | None = None, expanded: bool | None = None,
             icon: str = ":material/tune:"):
    """A collapsible box for a page's controls: ``with controls(): st.slider(...)``.

    Open by default, collapsed in projector mode (the charts get the screen; the lecturer opens
    it when needed). ``expanded`` overrides that default. Returns an ``st.expander``.
    """
    present = present_mode() if present is None else present
    if expanded is None:
        expanded = not present
    return st.expander(label, expanded=expanded, icon=icon)

