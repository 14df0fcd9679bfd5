"""Which class this browser session is in, kept across page switches and reloads (no database).

A student's place is their token (a secret, shown to them as a rejoin link). It lives in the
session state, and in the address bar as ``?student=`` on every page, so a reload, a phone that
locked its screen and dropped the connection, or a bookmark brings them back. The teacher's key
is never written to other pages' addresses: only /class shows it, where the lecturer bookmarks it.
"""
from __future__ import annotations

import streamlit as st

_TOKEN_KEY = "nnviz_class_token"  # this session's student token
_TEACHER_KEY = "nnviz_class_teacher"  # (code, key) of the class this session teaches
STUDENT_PARAM = "student"


def student_token() -> str | None:
    """This session's student token: the session's own, else the one in the address bar."""
    token = st.session_state.get(_TOKEN_KEY)
    if token is None:
        token = st.query_params.get(STUDENT_PARAM) or None
        if token is not None and len(token) <= 64:
            st.session_state[_TOKEN_KEY] = token
    return token


def set_student_token(token: str | None) -> None:
    if token is None:
        st.session_state.pop(_TOKEN_KEY, None)
        if STUDENT_PARAM in st.query_params:
            del st.query_params[STUDENT_PARAM]
    else:
        st.session_state[_TOKEN_KEY] = token
        st.query_params[STUDENT_PARAM] = token


def sync_url() -> None:
    """Keep ``?student=`` in the address bar of every page (page switches drop query parameters)."""
    token = st.session_state.get(_TOKEN_KEY) or student_token()
    if token and st.query_params.get(STUDENT_PARAM) != token:
        st.query_params[STUDENT_PARAM] = token


def teacher() -> tuple[str, str] | None:
    return st.session_state.get(_TEACHER_KEY)


def set_teacher(code: str | None, key: str | None = None) -> None:
    if code is None:
        st.session_state.pop(_TEACHER_KEY, None)
    else:
        st.session_state[_TEACHER_KEY] = (code, key)
