"""Page furniture every page calls first: title, and projector mode (?present=1 or the toggle)."""
from __future__ import annotations

import streamlit as st

_PRESENT_KEY = "nnviz_present"


def present_mode() -> bool:
    """True when the app is in projector mode (large type, for a lecture hall)."""
    if _PRESENT_KEY not in st.session_state:
        st.session_state[_PRESENT_KEY] = st.query_params.get("present") == "1"
    return bool(st.session_state[_PRESENT_KEY])


def page_header(title: str, caption: str | None = None) -> bool:
    """Draw the page title (and caption); return whether projector mode is on."""
    present = present_mode()
    st.title(title)
    if caption:
        st.caption(caption)
    return present
