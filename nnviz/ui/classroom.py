"""The class challenge in the browser: start or join a class, submit networks, break each other's.

Everything shared between the hall's sessions lives in the database (nnviz.classroom.store); this
module only keeps which class a session is in (nnviz.ui.class_session) and a 2-second snapshot of
the board per class, so that 200 students refreshing every few seconds cost one query a class.
Submissions are rated by a background worker thread (one per server process, started at the first
use of the store), never in a script run. Every message that can hold a student's text goes
through plain().
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import segno
import streamlit as st

from nnviz.classroom.evaluate import attack_challenge
from nnviz.classroom.store import MAX_CLASS_PARAMS, ClassError, ClassStore, NotAllowed
from nnviz.classroom.worker import RatingWorker
from nnviz.engine.model_files import load_model, model_to_bytes
from nnviz.plots.classroom import attack_matrix_figure, board_scatter

from . import class_session as cs
from .session import bundled_digits, default_model, digit_model, has_own_model
from .text import plain

BOARD_TICK_S = 3.0  # the projector and the students' boards refresh this often
MY_TICK_S = 1.5  # a student's own submissions, while one waits for its rating
PHASES = {"waiting": "Waiting for the lecturer to open round 1", "submit": "Round 1: train and submit",
          "break": "Round 2: break each other's networks", "ended": "The class has ended"}
REFERENCE_LABELS = {"template": "Template network (no hidden layer)", "default": "Default model",
                    "adversarial": "Adversarially trained"}


# ----- shared resources -------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def _store() -> ClassStore:
    return ClassStore()  # NNVIZ_DATABASE_URL, else the SQLite file in the user's data directory


@st.cache_resource(show_spinner=False)
def _worker(_store_obj: ClassStore) -> RatingWorker:
    return RatingWorker(_store_obj).start()


def class_store() -> ClassStore | None:
    """The class database and its rating worker, or None with a message if it cannot be opened."""
    try:
        store = _store()
    except Exception as e:  # noqa: BLE001 - a missing server is a message; the rest of the app works
        st.error("The class database cannot be opened, so the class challenge is off for now: "
                 f"{plain(str(e)[:300])}", icon=":material/database:")
        return None
    worker = _worker(store)
    if not worker.alive:  # it died (it should not): start another
        _worker.clear()
        _worker(store)
    return store


@st.cache_resource(ttl=2, max_entries=200, show_spinner=False)
def board_snapshot(code: str):
    """(class info, board entries, attack matrix) of one class, at most 2 s old, for every session."""
    store = _store()
    return store.class_info(code), store.leaderboard(code), store.attack_matrix(code)


@st.cache_resource(show_spinner="Training the reference network (once per server)...")
def reference_bytes(kind: str, eps: float) -> bytes:
    """A reference network for the board: the template, the default or an adversarially trained model."""
    from nnviz.lab.attacks import train_adversarially
    from nnviz.ui.attacks import shared_template_model

    if kind == "template":
        return model_to_bytes(shared_template_model().model)
    if kind == "default":
        return model_to_bytes(default_model().model)
    return model_to_bytes(train_adversarially(default_model().model, bundled_digits(), eps=eps).model)


def show_error(e: Exception) -> None:
    st.error(plain(str(e)), icon=":material/block:")


def join_link(code: str) -> str:
    """The address a student opens to join (from the address this browser uses)."""
    return f"{_app_url()}/class?join={code}"


def _app_url() -> str:
    url = st.context.url or "http://localhost:8501/class"
    for page in ("/class", "/break", "/mnist", "/draw", "/playground", "/learn"):
        if url.endswith(page):
            return url[: -len(page)]
    return url.rstrip("/")


def qr_svg(link: str, scale: int) -> str:
    """The link's QR code as SVG markup (st.image turns it into a data URI: no media file)."""
    return segno.make(link, error="m").svg_inline(scale=scale, border=2, dark="#000000", light="#ffffff")


# ----- no class yet: join one or start one ------------------------------------------------------
def landing(store: ClassStore, present: bool) -> None:
    join_col, start_col = st.columns(2, gap="large")
    with join_col.container(border=True):
        st.subheader("Join a class", anchor=False)
        with st.form("class_join"):
            code = st.text_input("Class code", value=st.query_params.get("join", "")[:12], max_chars=12,
                                 placeholder="6 letters and digits, on the projector")
            name = st.text_input("Your name on the board", max_chars=24,
                                 help="1-24 characters, unique in the class; everybody sees it.")
            if st.form_submit_button("Join", icon=":material/login:", type="primary"):
                try:
                    joined = store.join(code, name, client=_client())
                except ClassError as e:
                    show_error(e)
                else:
                    cs.set_student_token(joined.token)
                    st.rerun()
    with start_col.container(border=True):
        st.subheader("Start a class (lecturer)", anchor=False)
        eps = st.slider("eps: the attack budget of the class", 0.05, 0.3, 0.1, 0.01, key="class_new_eps",
                        help="No pixel (0 = black, 1 = white) of an attacked digit may move by more than eps.")
        limit = st.number_input("Submissions per student per round", 1, 50, 5, key="class_new_limit")
        if st.button("Start a class", icon=":material/co_present:", key="class_start"):
            try:
                new = store.create_class(eps=eps, submit_limit=int(limit))
            except ClassError as e:
                show_error(e)
            else:
                cs.set_teacher(new.code, new.teacher_key)
                st.session_state["class_show_key_once"] = True
                st.query_params.update({"code": new.code, "key": new.teacher_key})
                st.rerun()


def _client() -> str:
    """Who failed to join, for the rate limit: the browser's address, else this session."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ip = st.context.ip_address
    ctx = get_script_run_ctx()
    return ip or (ctx.session_id if ctx else "")


# ----- the lecturer -----------------------------------------------------------------------------
def teacher_view(store: ClassStore, code: str, key: str, present: bool) -> None:
    try:
        info = store.teacher(code, key)
    except ClassError as e:
        show_error(e)
        cs.set_teacher(None)
        return
    link = join_link(info.code)
    board_url = f"{_app_url()}/class?board={info.code}&present=1"
    if st.session_state.pop("class_show_key_once", False):
        st.warning("**Bookmark this page now**: its address holds your teacher key, shown only this once "
                   "and stored only hashed. Project the board link below, never this page.",
                   icon=":material/key:")
    left, right = st.columns([1, 2.2], gap="large")
    with left:
        st.image(qr_svg(link, 8), width=260 if not present else 340)
        st.markdown(f"### Code **{info.code}**")
        st.code(link, language=None)
        st.link_button("Open the projector board", board_url, icon=":material/tv:")
    with right:
        _teacher_controls(store, info, key)
    board_view(info.code, present, live=True)


def _teacher_controls(store: ClassStore, info, key: str) -> None:
    st.markdown(f"**{PHASES[info.phase]}** · eps {info.eps:g} · {info.submit_limit} submissions a round · "
                f"{info.n_students} students")
    if info.ended:
        st.info("This class has ended: the board stays, nothing can change.", icon=":material/flag:")
    update = lambda **kw: _update(store, info.code, key, **kw)  # noqa: E731
    with st.container(horizontal=True):
        if info.submit_open:
            st.button("Close round 1", icon=":material/lock:", on_click=update, kwargs=dict(submit_open=False),
                      disabled=info.ended, key="class_close1")
        else:
            st.button("Open round 1: submit", icon=":material/upload:", type="primary", disabled=info.ended,
                      on_click=update, kwargs=dict(submit_open=True, break_open=False), key="class_open1")
        if info.break_open:
            st.button("Close round 2", icon=":material/lock:", on_click=update, kwargs=dict(break_open=False),
                      disabled=info.ended, key="class_close2")
        else:
            st.button("Open round 2: break", icon=":material/swords:", disabled=info.ended,
                      on_click=update, kwargs=dict(break_open=True, submit_open=False, revealed=True),
                      key="class_open2", help="Closes round 1 and reveals the submitted weights (white-box).")
        st.button("Hide the weights" if info.revealed else "Reveal the weights", key="class_reveal",
                  icon=":material/visibility:", on_click=update, kwargs=dict(revealed=not info.revealed),
                  disabled=info.ended)
    with st.expander("Settings, references, submissions, results", icon=":material/tune:"):
        c1, c2 = st.columns(2)
        eps = c1.slider("eps", 0.05, 0.3, float(info.eps), 0.01, key="class_eps", disabled=info.ended,
                        help="Changing it re-rates every submission at the new eps.")
        limit = c2.number_input("Submissions per student per round", 1, 50, int(info.submit_limit),
                                key="class_limit", disabled=info.ended)
        if (abs(eps - info.eps) > 1e-9 or limit != info.submit_limit) and \
                st.button("Apply", key="class_apply", icon=":material/check:"):
            _update(store, info.code, key, eps=eps, submit_limit=int(limit))
            st.rerun()
        st.caption("Reference points on the board (trained once per server, then rated like a submission):")
        with st.container(horizontal=True):
            for kind, label in REFERENCE_LABELS.items():
                st.button(label, key=f"class_ref_{kind}", icon=":material/add:", disabled=info.ended,
                          on_click=_add_reference, args=(store, info.code, key, kind, info.eps))
        _remove_control(store, info.code, key)
        st.download_button("Download the results (.csv)", data=lambda: store.results_csv(info.code, key),
                           file_name=f"nnviz-class-{info.code}.csv", mime="text/csv", on_click="ignore",
                           icon=":material/download:", key="class_csv")
        if not info.ended:
            sure = st.checkbox("I want to end the class (nothing can change afterwards)", key="class_end_sure")
            st.button("End the class", icon=":material/flag:", disabled=not sure, key="class_end",
                      on_click=update, kwargs=dict(ended=True, submit_open=False, break_open=False))
    if st.session_state.get("class_teacher_error"):
        st.error(plain(st.session_state.pop("class_teacher_error")), icon=":material/block:")


def _update(store: ClassStore, code: str, key: str, **changes) -> None:
    try:
        store.update_class(code, key, **changes)
    except ClassError as e:
        st.session_state["class_teacher_error"] = str(e)
    board_snapshot.clear()


def _add_reference(store: ClassStore, code: str, key: str, kind: str, eps: float) -> None:
    try:
        store.add_reference(code, key, kind, reference_bytes(kind, round(eps, 3)))
    except ClassError as e:
        st.session_state["class_teacher_error"] = str(e)


def _remove_control(store: ClassStore, code: str, key: str) -> None:
    _, entries, _ = board_snapshot(code)
    if not entries:
        return
    labels = {e.submission_id: f"#{e.rank} {e.name}" for e in entries}
    with st.container(horizontal=True, vertical_alignment="bottom"):
        pick = st.selectbox("Remove a submission from the board", list(labels), format_func=labels.get,
                            key="class_remove_pick")
        if st.button("Remove", icon=":material/delete:", key="class_remove"):
            try:
                store.remove_submission(code, key, int(pick))
            except ClassError as e:
                show_error(e)
            board_snapshot.clear()
            st.rerun()


# ----- the board (projector and everybody) ------------------------------------------------------
def board_view(code: str, present: bool, live: bool = True, show_join: bool = False) -> None:
    """The live leaderboard, the clean/robust scatter and, in round 2, who fooled whom."""
    @st.fragment(run_every=BOARD_TICK_S if live else None)
    def board() -> None:
        try:
            info, entries, matrix = board_snapshot(code)
        except ClassError as e:
            show_error(e)
            return
        if show_join and info.submit_open:
            q, t = st.columns([1, 4], vertical_alignment="center")
            q.image(qr_svg(join_link(info.code), 6), width=220 if present else 160)
            t.markdown(f"## Join: code **{info.code}**\n{join_link(info.code)}")
        st.markdown(f"**{PHASES[info.phase]}** · eps {info.eps:g} · {info.n_students} students · "
                    f"{sum(1 for e in entries if e.reference is None)} networks on the board")
        if not entries:
            st.info("No network is rated yet: the board fills as submissions are rated.", icon=":material/hourglass_empty:")
            return
        students = [e for e in entries if e.reference is None]
        if students:
            gap = float(np.mean([e.clean_acc - e.robust_acc for e in students]))
            st.markdown(f"On average, an attack of eps {info.eps:g} takes **{gap:.0%}** off a network's "
                        f"accuracy: {np.mean([e.clean_acc for e in students]):.0%} clean, "
                        f"{np.mean([e.robust_acc for e in students]):.0%} under attack.")
        if info.break_open and len(matrix.attackers):
            # Round 2's picture first: on a 720-pixel projector it is what the hall looks at.
            st.plotly_chart(attack_matrix_figure(matrix.attackers, matrix.networks, matrix.fooled,
                                                 matrix.n_digits, present,
                                                 height=min(520, 200 + 45 * len(matrix.attackers)),
                                                 attacked=matrix.attacked),
                            key="class_matrix", config={"displayModeBar": False})
        elif info.break_open:
            st.caption("Round 2: no attack submitted yet.")
        table, chart = st.columns([1.15, 1], gap="medium")
        with table:
            st.table(board_frame(entries, limit=12 if present else 25), border="horizontal")
        with chart:
            st.plotly_chart(board_scatter([e.name for e in entries], [e.clean_acc for e in entries],
                                          [e.robust_acc for e in entries], [e.reference for e in entries],
                                          info.eps, present, height=360 if present else 380),
                            key="class_scatter", config={"displayModeBar": False})

    board()


def board_frame(entries, limit: int):
    """The board as a table for st.table (which reads Markdown: names through plain()), without
    pandas' index column (Rank is a column of its own)."""
    rows = [{"Rank": e.rank, "Name": plain(e.name) + (" (reference)" if e.reference else ""),
             "Clean": f"{e.clean_acc:.1%}", "Robust": f"{e.robust_acc:.1%}", "Submitted": e.submissions}
            for e in entries[:limit]]
    return pd.DataFrame(rows).style.hide(axis="index")


# ----- a student ----------------------------------------------------------------------------------
def current_student(store: ClassStore):
    """The Student of this session's token, or None (a forged or stale token is dropped with a message)."""
    token = cs.student_token()
    if token is None:
        return None
    try:
        return store.student(token)
    except NotAllowed:
        cs.set_student_token(None)
        st.warning("That rejoin link is not valid (a typo, or a class on another server). Join again below.",
                   icon=":material/link_off:")
        return None


def student_view(store: ClassStore, student, present: bool) -> None:
    token = cs.student_token()
    try:
        info = store.class_info(student.code)
    except ClassError as e:
        show_error(e)
        return
    st.markdown(f"You are **{plain(student.name)}** in class **{info.code}** · {PHASES[info.phase]} · "
                f"eps {info.eps:g}")
    with st.expander("Your rejoin link (keep it to yourself: it is your place in the class)",
                     icon=":material/link:"):
        st.code(f"{_app_url()}/class?student={token}", language=None)
        st.caption("A reload, a locked phone or another page keeps your place; on another device open this link.")
        if st.button("Leave the class on this device", key="class_leave"):
            cs.set_student_token(None)
            st.rerun()
    if info.submit_open:
        submit_panel(store, token, info)
    if info.break_open:
        break_panel(store, token, info, present)
    my_submissions(store, token)
    board_view(info.code, present, live=True)


def submit_panel(store: ClassStore, token: str, info) -> None:
    with st.container(border=True):
        st.subheader("Round 1: submit a network", anchor=False)
        mine = digit_model()
        left, right = st.columns(2, gap="medium")
        with left:
            if has_own_model():
                st.caption(f"This session's model: {plain(mine.description)}, {mine.test_acc:.1%} on the "
                           "public held-out digits.")
            else:
                st.caption("You have not trained a model in this session: train one on the MNIST page "
                           "(or upload one here).")
                st.page_link("pages/mnist.py", label="Train on the MNIST page", icon=":material/grid_on:")
            st.button("Submit this session's model", icon=":material/send:", type="primary",
                      disabled=not has_own_model(), key="class_submit_session",
                      on_click=submit_session_model, args=(store, token))
        with right:
            upload = st.file_uploader("Or upload a model (.npz)", type=["npz"], key="class_upload",
                                      help=f"An nnviz digit model of at most {MAX_CLASS_PARAMS:,} parameters.")
            if upload is not None and st.button("Submit the uploaded model", key="class_submit_upload",
                                                icon=":material/send:"):
                _submit(store, token, upload.getvalue(), label=None)
        _flash("class_submit_result")
        st.caption(f"At most {info.submit_limit} submissions in this round; your best one counts "
                   "(robust accuracy first, then clean).")


def submit_session_model(store: ClassStore, token: str) -> None:
    """A callback (the /class and /mnist buttons): queue this session's model for rating."""
    _submit(store, token, model_to_bytes(digit_model().model.copy()), label=None)


def _submit(store: ClassStore, token: str, data: bytes, label) -> None:
    try:
        sid = store.submit_model(token, data, label)
    except ClassError as e:
        st.session_state["class_submit_result"] = ("error", str(e))
    else:
        st.session_state["class_submit_result"] = ("ok", f"Submitted (no. {sid}): it is in the queue to be rated.")


def _flash(key: str) -> None:
    got = st.session_state.pop(key, None)
    if got:
        kind, text = got
        (st.success if kind == "ok" else st.error)(plain(text), icon=":material/check:" if kind == "ok"
                                                   else ":material/block:")


def my_submissions(store: ClassStore, token: str) -> None:
    """This student's submissions with their place in the queue, then their figures (live while waiting)."""
    waiting = _waiting(store, token)

    @st.fragment(run_every=MY_TICK_S if waiting else None)
    def table() -> None:
        rows = store.my_submissions(token)
        if not rows:
            return
        st.subheader("Your submissions", anchor=False)
        st.table(pd.DataFrame([{
            "No.": r.id, "Network": plain(r.sizes), "Status": _status(r),
            "Clean": "" if r.clean_acc is None else f"{r.clean_acc:.1%}",
            "Robust": "" if r.robust_acc is None else f"{r.robust_acc:.1%}"} for r in rows]).style.hide(axis="index"),
            border="horizontal")
        if waiting and not any(r.status in ("queued", "rating") for r in rows):
            st.rerun()  # all rated: a full rerun stops the timer and redraws the board

    table()


def _waiting(store: ClassStore, token: str) -> bool:
    return any(r.status in ("queued", "rating") for r in store.my_submissions(token))


def _status(r) -> str:
    if r.removed:
        return "removed by the lecturer"
    if r.status == "queued":
        return f"in the queue: {r.queue_position} ahead" if r.queue_position else "next in the queue"
    if r.status == "rating":
        return "being rated..."
    if r.status == "failed":
        return plain(r.error or "could not be rated")
    return "rated"


# ----- round 2: break a classmate's network -------------------------------------------------------
def break_panel(store: ClassStore, token: str, info, present: bool) -> None:
    """Pick a classmate's network, attack the 20 challenge digits at the class's eps, submit."""
    with st.container(border=True):
        st.subheader("Round 2: break a classmate's network", anchor=False)
        me = store.student(token)
        targets = [t for t in store.targets(info.code) if t.name != me.name]
        if not targets:
            st.info("No classmate's network is on the board yet.", icon=":material/hourglass_empty:")
            return
        # Option labels are plain text (not Markdown): the names as they are.
        labels = {t.submission_id: f"{t.name} ({t.sizes}, robust {t.robust_acc:.0%})" for t in targets}
        pick = st.selectbox("Target", list(labels), format_func=labels.get, key="class_target")
        x, y = store.challenge(info.code)
        if not info.revealed:
            st.info("The lecturer has not revealed the weights yet.", icon=":material/visibility_off:")
            return
        c1, c2 = st.columns(2, gap="medium")
        with c1:
            st.caption(f"The strong attack (PGD, two losses, restarts) on the {len(x)} challenge digits, "
                       f"each pixel moved by at most {info.eps:g}.")
            if st.button("Attack and submit", icon=":material/bolt:", type="primary", key="class_attack"):
                try:
                    target = load_model(store.target_model(token, int(pick)))
                    with st.spinner("Attacking..."):
                        x_adv = attack_challenge(target, x, y, info.eps)
                    result = store.submit_attack(token, int(pick), x_adv)
                except ClassError as e:
                    show_error(e)
                else:
                    st.session_state["class_attack_images"] = (int(pick), x_adv)
                    st.success(f"Fooled {result.fooled} of {result.n_digits} digits of "
                               f"{plain(result.target_name)}.", icon=":material/check:")
        with c2:
            upload = st.file_uploader("Or upload your own (.npy, shape (20, 784), values 0-1)", type=["npy"],
                                      key="class_npy")
            if upload is not None and st.button("Submit the uploaded attack", key="class_attack_upload"):
                try:
                    x_adv = store.load_attack_upload(upload.getvalue())
                    result = store.submit_attack(token, int(pick), x_adv)
                except ClassError as e:
                    show_error(e)
                else:
                    st.success(f"Fooled {result.fooled} of {result.n_digits} digits of "
                               f"{plain(result.target_name)}.", icon=":material/check:")
            st.download_button("Download the challenge digits (.npy)", data=lambda: _npy(x),
                               file_name="challenge-digits.npy", on_click="ignore", key="class_npy_download",
                               icon=":material/download:")


def _npy(x: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, np.asarray(x, np.float32), allow_pickle=False)
    return buf.getvalue()


# ----- on other pages -----------------------------------------------------------------------------
def mnist_submit_button() -> None:
    """/mnist: "Submit to class" while this session is in a class whose round 1 is open."""
    if cs.student_token() is None:
        return
    store = class_store()
    student = current_student(store) if store else None
    if student is None:
        return
    info = store.class_info(student.code)
    if not info.submit_open:
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button("Submit to class", icon=":material/send:", key="mnist_class_submit", type="primary",
                  on_click=submit_session_model, args=(store, cs.student_token()),
                  help=f"Send this network to class {info.code} (it is rated in the background).")
        st.page_link("pages/class.py", label="Class board", icon=":material/leaderboard:")
    _flash("class_submit_result")


def break_class_tab(present: bool) -> bool:
    """/break: the round-2 panel if this session is in a class with round 2 open; True if shown."""
    if cs.student_token() is None:
        return False
    store = class_store()
    student = current_student(store) if store else None
    if student is None:
        return False
    info = store.class_info(student.code)
    if not info.break_open:
        return False
    break_panel(store, cs.student_token(), info, present)
    return True
