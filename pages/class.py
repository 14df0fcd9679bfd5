"""Class challenge (/class): the hall trains, submits, and breaks each other's digit networks.

    /class                      join a class (a code and a name) or start one
    /class?join=CODE            the join form with the code filled in (the QR code's link)
    /class?student=TOKEN        a student's place (their rejoin link)
    /class?code=CODE&key=KEY    the lecturer's controls (the bookmark shown once)
    /class?board=CODE&present=1 the projector board: read-only, no key in its address
"""
import streamlit as st

from nnviz.ui import class_session as cs
from nnviz.ui import classroom as ui
from nnviz.ui.layout import page_header

present = page_header("Class challenge: can we break each other's networks?",
                      "Train a digit network and submit it; the board ranks every network by how much of its "
                      "accuracy survives an attack. Then attack your classmates' networks.")
store = ui.class_store()
if store is not None:
    params = st.query_params
    if "code" in params and "key" in params:
        cs.set_teacher(params["code"], params["key"])
    if params.get("board"):
        ui.board_view(params["board"], present, live=True, show_join=True)
    elif cs.teacher():
        ui.teacher_view(store, *cs.teacher(), present)
    elif (student := ui.current_student(store)) is not None:
        ui.student_view(store, student, present)
    else:
        ui.landing(store, present)
