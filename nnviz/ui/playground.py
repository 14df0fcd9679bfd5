"""The Playground's Streamlit side: settings widgets <-> PlaygroundState <-> URL, the run kept in
the session, the Play/Pause/Step/Reset bar, and the live view (a fragment that reruns on a
timer while playing, so only the views redraw, never the whole page). The views are canvases
(nnviz.ui.playground_canvas) updated in place; the widgets under the plane (view toggles, picker)
belong to the full run, so a frame does not re-send them.

Session keys (plain keys, not widget keys, so they survive a page switch):
    pg_state    PlaygroundState, the truth for every setting
    pg_run      PlaygroundRun: model, trainer, history, snapshots
    pg_custom   CustomData from the last good CSV upload (or absent)
    pg_playing  bool
    pg_view     (layer, index) of the neuron shown large, or None for the decision boundary
    pg_rewind_end  the epoch the rewind slider last ended at
    pg_learning_shown  which 'not learning' message the page shows (nnviz.lab.learning)
    pg_timer_seconds  the live view's timer interval in use (fast alone, slower on a busy server)
    pg_view_clicked  a click in the diagram changed pg_view (the next run redraws the whole page)
Widget keys start with pg_w_ and are re-seeded from pg_state whenever Streamlit has dropped them.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import pyarrow as pa
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from nnviz.engine.training import TrainingDiverged
from nnviz.lab.playground import (
    ACTIVATIONS,
    BATCH_CHOICES,
    CUSTOM,
    DATASET_LABELS,
    DATASETS,
    DEFAULT,
    FEATURE_LABELS,
    FEATURES,
    LR_CHOICES,
    MAX_CSV_BYTES,
    MAX_LAYERS,
    MAX_NEURONS,
    OPTIMIZERS,
    QUERY_KEYS,
    REG_RATE_CHOICES,
    SPEED_CHOICES,
    PlaygroundRun,
    PlaygroundState,
    RaceRun,
    check_csv_size,
    from_query,
    new_run,
    parse_csv,
    plane_view,
    sanitize,
    to_query,
)
from nnviz.plots.playground import (
    boundary_plane,
    curves_data,
    headline,
    network_data,
    neuron_plane,
    node_name,
    population_spec,
)
from nnviz.ui import pacing
from nnviz.ui import playground_canvas as canvas
from nnviz.ui.owner import live_frame, owned, owner
from nnviz.ui.text import plain

STATE, RUN, CUSTOM_DATA, PLAYING, VIEW = "pg_state", "pg_run", "pg_custom", "pg_playing", "pg_view"
TIMER = "pg_timer_seconds"  # the live view's timer interval in use (nnviz.ui.pacing.timer_seconds)
CLICKED = "pg_view_clicked"  # a click in the diagram changed the view: the picker must follow
REWIND_END = "pg_rewind_end"  # the epoch the rewind slider last ended at: its value holds while this does
_UPLOAD_MSG = "pg_upload_msg"
LEARNING_SHOWN = "pg_learning_shown"  # the kind of 'not learning' message on the page (_learning_kind)
W = "pg_w_"
FRAME_SECONDS = 0.1  # while playing: at most 10 frames a second, fewer when busy (nnviz.ui.pacing)
BUSY_FRAME_SECONDS = 0.2  # the timer's interval while more than pacing.BUSY_SESSIONS sessions play
RESOLUTION = 100  # grid points per side for the pictures over the plane

LOSS_LABELS = {"cross_entropy": "Cross-entropy (softmax)", "quadratic": "Quadratic (sigmoid), as in the seed"}
OPT_LABELS = {"sgd": "SGD", "momentum": "SGD + momentum", "adam": "Adam"}
REG_LABELS = {"none": "None", "l1": "L1", "l2": "L2"}
ACT_LABELS = {"tanh": "tanh", "relu": "ReLU", "sigmoid": "sigmoid", "leaky_relu": "leaky ReLU", "linear": "linear"}


# ----- state and URL ---------------------------------------------------------------------------

def current_state() -> PlaygroundState:
    """This session's settings; the first time, read from the URL (a lecturer's link)."""
    if STATE not in st.session_state:
        st.session_state[STATE] = from_query(st.query_params.to_dict())
    return st.session_state[STATE]


def sync_url(state: PlaygroundState) -> None:
    """Write the settings that differ from the defaults to the address bar; touch only our keys
    (others, such as present=1, belong to other parts of the app)."""
    query = to_query(state)
    for key in QUERY_KEYS:
        if key in query:
            if st.query_params.get(key) != query[key]:
                st.query_params[key] = query[key]
        elif key in st.query_params:
            del st.query_params[key]


def _seed(name: str, value) -> str:
    """The widget key for a setting, seeded from the state when Streamlit has dropped it."""
    key = W + name
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def _with_choice(options, value):
    """A select_slider's options with the current value in it (a link may carry lr=0.05)."""
    return sorted({*options, value})


# ----- the settings (sidebar) ------------------------------------------------------------------

def settings(state: PlaygroundState) -> PlaygroundState:
    """The data, feature, network and training widgets, in the sidebar; returns the new state.
    Controls that ?hide= names are not drawn (their values stay as the URL set them)."""
    values: dict = {}
    side = st.sidebar
    hide = state.hidden_control
    custom = st.session_state.get(CUSTOM_DATA)

    if not all(hide(c) for c in ("dataset", "noise", "n_points", "test_ratio", "data_seed", "upload")):
        side.subheader(":material/scatter_plot: Data", divider="gray")
    if not hide("dataset"):
        options = list(DATASETS) + ([CUSTOM] if custom is not None else [])
        if state.dataset not in options:
            state = replace(state, dataset=DEFAULT.dataset)
            st.session_state[W + "dataset"] = state.dataset
        values["dataset"] = side.selectbox("Dataset", options, key=_seed("dataset", state.dataset),
                                           format_func=lambda d: DATASET_LABELS[d])
    dataset = values.get("dataset", state.dataset)
    generated = dataset != CUSTOM
    if not hide("noise"):
        values["noise"] = side.slider("Noise", 0.0, 0.6, step=0.05, key=_seed("noise", state.noise),
                                      disabled=not generated,
                                      help="Standard deviation of the jitter. The seed's moons: 0.2.")
    if not hide("n_points"):
        values["n_points"] = side.slider("Points", 20, 1000, step=10, key=_seed("n_points", state.n_points),
                                         disabled=not generated)
    if not hide("test_ratio"):
        values["test_ratio"] = side.slider("Test share", 0.0, 0.9, step=0.05, format="%.2f",
                                           key=_seed("test_ratio", state.test_ratio),
                                           help="Part of the points held out to measure the test loss.")
    if not hide("data_seed"):
        seed_col, new_col = side.columns([1, 1.15], vertical_alignment="bottom")
        values["data_seed"] = seed_col.number_input("Data seed", 0, 2**31 - 1, step=1,
                                                    key=_seed("data_seed", state.data_seed),
                                                    help="Another seed draws another sample of the same shape.")
        new_col.button("Resample", icon=":material/refresh:", key=W + "new_sample", on_click=_new_sample,
                       disabled=not generated, width="stretch", help="A new sample: the next data seed")
    if not hide("upload"):
        _upload(side)

    if not hide("features"):
        side.subheader(":material/input: Features", divider="gray")
        chosen = side.pills("Inputs of the network", list(FEATURES), selection_mode="multi",
                            key=_seed("features", list(state.features)), format_func=lambda f: FEATURE_LABELS[f])
        if chosen:
            values["features"] = tuple(f for f in FEATURES if f in chosen)
        else:
            side.warning("Choose at least one input; the network keeps its last ones.", icon=":material/warning:")

    if not all(hide(c) for c in ("hidden", "activation", "loss", "init_seed")):
        side.subheader(":material/hub: Network", divider="gray")
    if not hide("hidden"):
        n_layers = side.slider("Hidden layers", 0, MAX_LAYERS, key=_seed("layers", len(state.hidden)),
                               help="0 hidden layers is logistic regression: a straight boundary.")
        sizes = []
        cols = side.columns(3)
        for l in range(n_layers):
            default = state.hidden[l] if l < len(state.hidden) else (sizes[-1] if sizes else 4)
            sizes.append(cols[l % 3].number_input(f"Layer {l + 1}", 1, MAX_NEURONS, step=1,
                                                  key=_seed(f"h{l}", default)))
        values["hidden"] = tuple(int(s) for s in sizes)
    if not hide("activation"):
        values["activation"] = side.selectbox("Activation", ACTIVATIONS, key=_seed("activation", state.activation),
                                              format_func=ACT_LABELS.get)
    if not hide("loss"):
        values["loss"] = side.selectbox("Output and loss", list(LOSS_LABELS), key=_seed("loss", state.loss),
                                        format_func=LOSS_LABELS.get)
    if not hide("init_seed"):
        values["init_seed"] = side.number_input("Weight seed", 0, 2**31 - 1, step=1,
                                                key=_seed("init_seed", state.init_seed),
                                                help="The random starting weights; Reset restarts from the same ones.")

    if not all(hide(c) for c in ("optimizer", "batch_size", "reg", "reg_rate")):
        side.subheader(":material/model_training: Training", divider="gray")
    if not hide("optimizer"):
        values["optimizer"] = side.selectbox("Optimiser", OPTIMIZERS, key=_seed("optimizer", state.optimizer),
                                             format_func=OPT_LABELS.get)
    if not hide("batch_size"):
        values["batch_size"] = side.select_slider("Batch size", _with_choice(BATCH_CHOICES, state.batch_size),
                                                  key=_seed("batch_size", state.batch_size))
    if not hide("reg"):
        values["reg"] = side.selectbox("Regularisation", list(REG_LABELS), key=_seed("reg", state.reg),
                                       format_func=REG_LABELS.get)
    if not hide("reg_rate"):
        values["reg_rate"] = side.select_slider("Regularisation rate", _with_choice(REG_RATE_CHOICES, state.reg_rate),
                                                key=_seed("reg_rate", state.reg_rate),
                                                disabled=values.get("reg", state.reg) == "none")
    return sanitize(replace(state, **values))


def _new_sample() -> None:
    """Regenerate: the next data seed (a callback, so it may set the seed widget)."""
    key = W + "data_seed"
    st.session_state[key] = (int(st.session_state.get(key, current_state().data_seed)) + 1) % (2**31 - 1)


def _upload(side) -> None:
    """The CSV uploader: a good file becomes the data; a bad one leaves the data as it was."""
    side.file_uploader("Your own points: CSV of x1,x2,label", type=["csv", "txt"], key=W + "upload",
                       on_change=_on_upload,
                       help="One point per row, a header line is optional; labels 0, 1, ... "
                            f"At most {MAX_CSV_BYTES // 1_000_000} MB / 5,000 rows.")
    msg = st.session_state.get(_UPLOAD_MSG)
    if msg:
        kind, text = msg
        if kind == "error":
            side.error(text, icon=":material/error:")
        else:
            side.success(text, icon=":material/check_circle:")


@owned
def _on_upload() -> None:
    """Runs before the script (a callback), so it may switch the dataset widget to the upload."""
    f = st.session_state.get(W + "upload")
    if f is None:
        return
    try:
        check_csv_size(f.size)  # before reading it
        data = parse_csv(f.getvalue(), f.name)
    except ValueError as e:  # the message quotes the file's name and cells: plain text, never Markdown
        st.session_state[_UPLOAD_MSG] = ("error", plain(f"{f.name}: {e} The previous data stays."))
        return
    st.session_state[CUSTOM_DATA] = data
    st.session_state[W + "dataset"] = CUSTOM
    st.session_state[STATE] = replace(current_state(), dataset=CUSTOM)
    note = f" {data.note}" if data.note else ""
    st.session_state[_UPLOAD_MSG] = ("success", plain(f"{f.name}: {len(data.y)} points, {data.n_classes} classes.{note}"))


# ----- the run ---------------------------------------------------------------------------------

@owned
def ensure_run(state: PlaygroundState) -> PlaygroundRun:
    """This session's run for these settings: new when the data or the network changed, else
    the same run with the training settings applied (learning rate etc. change live)."""
    st.session_state[STATE] = state
    run = st.session_state.get(RUN)
    custom = st.session_state.get(CUSTOM_DATA)
    new_upload = state.dataset == CUSTOM and run is not None and run.custom is not custom
    if run is None or run.needs_reset(state) or new_upload:
        try:
            _new_run(state)
        except ValueError as e:  # e.g. a test share that leaves no training point of a small upload
            if run is None:
                raise
            st.error(plain(f"{e} The network below is still the previous one."), icon=":material/error:")
            return run
    else:
        before = run.state.train_config
        run.update(state)
        if run.diverged and state.train_config != before:
            run.diverged = None  # new settings: let the user try again
    return st.session_state[RUN]


def _new_run(state: PlaygroundState) -> None:
    st.session_state[RUN] = new_run(state, st.session_state.get(CUSTOM_DATA))
    st.session_state[PLAYING] = False
    st.session_state[VIEW] = None
    st.session_state.pop(W + "rewind", None)


@owned
def _play() -> None:
    st.session_state[PLAYING] = True
    st.session_state.pop(W + "rewind", None)


@owned
def _pause() -> None:
    st.session_state[PLAYING] = False


@owned
def _step() -> None:
    st.session_state[PLAYING] = False
    st.session_state.pop(W + "rewind", None)
    try:
        st.session_state[RUN].step(1)
    except TrainingDiverged:
        pass  # run.diverged holds the message; the page shows it


@owned
def _reset() -> None:
    _new_run(st.session_state[STATE])


def controls(state: PlaygroundState, run: PlaygroundRun, present: bool) -> tuple[PlaygroundState, object]:
    """Play/Pause, Step, Reset, a slot for the epoch counter, learning rate and speed.
    Returns the state with those settings and the slot the live view writes the counter into."""
    hide = state.hidden_control
    playing = bool(st.session_state.get(PLAYING))
    values = {}
    cols = st.columns([3.6, 1.1, 2.0, 1.5], vertical_alignment="bottom", gap="medium")
    with cols[0].container(horizontal=True, gap="small"):
        if not hide("play"):
            if playing:
                st.button("Pause", icon=":material/pause:", on_click=_pause, type="primary", key=W + "pause")
            else:
                st.button("Play", icon=":material/play_arrow:", on_click=_play, type="primary", key=W + "play",
                          disabled=run.diverged is not None)
        if not hide("step"):
            st.button("Step", icon=":material/skip_next:", on_click=_step, key=W + "step",
                      disabled=run.diverged is not None, help=f"Train one {_step_word(state)}")
        if not hide("reset"):
            st.button("Reset", icon=":material/restart_alt:", on_click=_reset, key=W + "reset",
                      help="Start again from the same random weights")
    slot = cols[1].empty()
    if not hide("lr"):
        values["lr"] = cols[2].select_slider("Learning rate", _with_choice(LR_CHOICES, state.lr),
                                             key=_seed("lr", state.lr), format_func=lambda v: f"{v:g}")
    if not hide("speed"):
        values["speed"] = cols[3].select_slider(f"{_step_word(state).capitalize()}s per frame", _with_choice(SPEED_CHOICES, state.speed),
                                                key=_seed("speed", state.speed),
                                                help="Speed: how many epochs to train between two pictures")
    return sanitize(replace(state, **values)), slot


def _step_word(state: PlaygroundState) -> str:
    """What one Step trains: an epoch, a generation, or in a race one of each."""
    return {"backprop": "epoch", "race": "step"}.get(state.method, "generation")


def _learning_kind(run: PlaygroundRun):
    """Which 'not learning' message the run calls for: None, False (still at chance) or True (failed)."""
    verdict = run.learning
    return None if verdict is None or verdict.message is None else verdict.failed


def run_messages(run: PlaygroundRun) -> None:
    """Above the live view: the run diverged, or it is not learning and why (nnviz.lab.learning)."""
    if run.diverged:
        st.error(run.diverged + " Or pick a smaller learning rate to carry on from here.",
                 icon=":material/error:")
    elif run.learning is not None and run.learning.message:
        show = st.error if run.learning.failed else st.warning
        show(run.learning.message, icon=":material/trending_flat:")
    st.session_state[LEARNING_SHOWN] = _learning_kind(run)


# ----- the live view ---------------------------------------------------------------------------

# The plane's box (the headline and the plane) takes the window's height left under the Learn-by bar
# and the controls (within limits), and the plane fills it (each element down to the component
# must have a definite height for "stretch" to follow).
PLANE_CSS = """<style>
[data-testid="stLayoutWrapper"]:has(> .st-key-pg_plane_box) { height: clamp(352px, calc(100vh - 398px), 812px); }
.st-key-pg_plane_box, .st-key-pg_plane_box [data-testid="stElementContainer"],
.st-key-pg_plane_box [data-testid="stElementContainer"] > div, .st-key-pg_plane_box [data-testid="stBidiComponentIsolated"]
  { height: 100%; min-height: 0; }
</style>"""


@dataclass(frozen=True)
class Boxes:
    """Where a live frame draws: the epoch counter's slot, the left column (network, curves, the
    population), the plane's box and the rewind slider's slot. All are made by the full run,
    outside the fragment, around the widgets that need not be re-sent with every frame (the view
    toggles and the picker): a frame re-sends the counter, the two views and an empty slot."""

    metric: object
    left: object = None
    plane: object = None
    rewind: object = None


def live_view(slot, present: bool) -> None:
    """The charts, redrawn by a fragment: frame after frame while playing, else on demand."""
    st.html(PLANE_CSS)
    interval = None
    if st.session_state.get(PLAYING):  # the browser's timer paces, as fast as the server's load allows
        interval = st.session_state[TIMER] = pacing.timer_seconds(FRAME_SECONDS, BUSY_FRAME_SECONDS,
                                                                  st.session_state.get(TIMER))
    run, state = st.session_state[RUN], st.session_state[STATE]
    if isinstance(run, RaceRun):  # the race lays out its own frame
        st.fragment(_live_body, run_every=interval)(Boxes(slot), present)
        return
    left, right = st.columns([1.3, 1], gap="medium")
    plane = right.container(key="pg_plane_box")
    with right:
        _view_toggles(state)
        rewind = st.empty()
        sizes = run.model.sizes
        _view_picker(sizes, [FEATURE_LABELS[f] for f in state.features], _class_labels(run))
    st.fragment(_live_body, run_every=interval)(Boxes(slot, left, plane, rewind), present)


def _live_body(boxes: Boxes, present: bool) -> None:
    if st.session_state.pop(CLICKED, False) and _fragment_run():
        st.rerun()  # a neuron was clicked: the whole page, so the picker (outside the fragment) shows it
    if st.session_state.get(PLAYING):
        # The timer's interval is chosen by the full run (Play, any click): restarting it from here
        # with st.rerun() when the server's load changed lost Play in some tabs of a busy hall.
        timer = st.session_state.get(TIMER, FRAME_SECONDS)
        with live_frame("pg_frame_started", timer):
            _live_frame(boxes, present)
    else:
        with owner():
            _live_frame(boxes, present)


def _fragment_run() -> bool:
    """Whether this script run reruns fragments only (a frame, a click in a view)."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


@owned
def _select_neuron() -> None:
    """Click on a neuron in the diagram: show it large; a double click goes back to the output."""
    chosen = canvas.selected(W + "network")
    if chosen is False:
        return
    st.session_state[VIEW] = chosen
    st.session_state[W + "view"] = _view_label(chosen)
    st.session_state[CLICKED] = True


def _view_label(view) -> str:
    return "Output" if view is None else f"{view[0]}:{view[1]}"


def _chart(where, spec: dict, **kwargs):
    """st.vega_lite_chart with the live datasets handed over as Arrow tables: Streamlit would
    otherwise build a pandas DataFrame from each list of rows, every frame (~10 ms apiece)."""
    spec["datasets"] = {name: pa.Table.from_pylist(rows) if rows else rows
                        for name, rows in spec.get("datasets", {}).items()}
    return where.vega_lite_chart(spec, **kwargs)


def _live_frame(boxes: Boxes, present: bool) -> None:
    run: PlaygroundRun = st.session_state[RUN]
    state: PlaygroundState = st.session_state[STATE]
    playing = bool(st.session_state.get(PLAYING))
    if playing:
        try:
            run.step(state.speed)
        except TrainingDiverged:
            st.session_state[PLAYING] = False
            st.rerun()  # the whole page: stops the timer and shows the message
        if _learning_kind(run) != st.session_state.get(LEARNING_SHOWN):  # once per change, not per frame
            if run.learning.failed:
                st.session_state[PLAYING] = False  # it cannot recover: stop, as after a divergence
            st.rerun()  # the whole page shows (or takes away) the message above the live view
    if isinstance(run, RaceRun):
        from nnviz.ui.race import race_frame  # imported here: nnviz.ui.race builds on this module
        race_frame(run, state, boxes.metric, present)
        return

    # Compute first, then draw each element once, into the boxes the full run made. (An st.empty()
    # made here would blank its line at the start of every frame until the new content arrives.)
    state = _toggled(state)
    rewind = not playing and run.epoch > 0 and not state.hidden_control("rewind")
    shown = rewound_epoch(run.epoch, run.snapshots.nearest) if rewind else None
    model = run.model_at(shown)
    epoch = run.epoch if shown is None else shown
    history = run.history
    stats = history[-1] if shown is None else next((s for s in history if s.epoch == shown), history[-1])
    boxes.metric.metric("Generation" if run.evolving else "Epoch",
                f"{epoch:,}" if epoch == run.epoch else f"{epoch:,} / {run.epoch:,}")

    view = plane_view(model, state.features, RESOLUTION)
    feature_labels = [FEATURE_LABELS[f] for f in state.features]
    class_labels = _class_labels(run)
    sizes = model.sizes
    selected = st.session_state.get(VIEW)
    if selected is not None and not (0 <= selected[0] < len(sizes) and 0 <= selected[1] < sizes[selected[0]]):
        selected = st.session_state[VIEW] = None
    at = f" at epoch {epoch:,}" if shown is not None else ""
    if selected is None:
        title = "Output" + at
        plane = boundary_plane(view.probs, run.points, state.show_test, state.discretize, class_labels)
    else:
        layer, idx = selected
        title = node_name(layer, idx, len(sizes) - 1, feature_labels, class_labels) + at
        if layer == 0:
            values, act = view.inputs[..., idx], "linear"
        elif layer == len(sizes) - 1:
            values, act = view.probs[..., idx], "sigmoid"
        else:
            values, act = view.hidden[layer - 1][..., idx], model.arch.activation
        plane = neuron_plane(values, act, run.points, state.show_test, class_labels)

    with boxes.left:
        canvas.network_and_curves(
            network_data(model, view, feature_labels, class_labels, selected, present),
            curves_data(history, shown, step="generation" if run.evolving else "epoch"), present,
            # heights in px: in projector mode the network and the plane both fit at 720p
            network_height=340 if present else 380, curves_height=240 if present else 210,
            key=W + "network", on_select=_select_neuron)
        if run.evolving:
            population_row(run, shown, present)
    with boxes.plane:
        canvas.plane(plane, present, key=W + "plane", headline=headline(title, stats))
    with boxes.rewind:
        if rewind:
            rewind_slider(run.epoch)
        else:
            st.empty()  # the slot is written every run (Streamlit keeps its place for the fragment)


def rewound_epoch(latest: int, nearest) -> int | None:
    """The epoch the rewind slider shows (a stored one, via nearest(epoch)), None for the latest."""
    # The slider's value from the last run, if the slider then ended at this same epoch.
    # (Its default is the latest epoch, never seeded through session state: a timer tick
    # sent just before Pause reaches the server without the new slider's state, and the
    # browser then falls back to the default; both must agree on the latest epoch.)
    pick = st.session_state.get(W + "rewind")
    if pick is None or st.session_state.get(REWIND_END) != latest or not 0 <= pick <= latest:
        pick = latest
    return nearest(pick) if pick < latest else None


def rewind_slider(latest: int) -> None:
    st.session_state[REWIND_END] = latest
    st.slider("Rewind: show epoch", 0, latest, value=latest, key=W + "rewind",
              help="Snapshots of every epoch (thinned out in long runs): drag back to see the "
                   "boundary, the network and the curves at an earlier epoch. Play carries on "
                   "from the latest.")


POPULATION_SHOWN, POPULATION_RESOLUTION = 4, 40


def population_row(run: PlaygroundRun, shown: int | None, present: bool) -> None:
    """The best few individuals of the latest generation as small boundaries (while rewound, the
    latest generation is not the one shown above: say so instead)."""
    evo = run.trainer
    if run.epoch == 0:
        st.caption("The population: the start and its mutants. Press Play or Step to evolve it.")
        return
    if shown is not None:
        st.caption(f"The best individuals are shown for the latest generation ({run.epoch:,}) only.")
        return
    models = evo.top_models(POPULATION_SHOWN)
    probs = [plane_view(m, run.state.features, POPULATION_RESOLUTION).probs for m in models]
    captions = [f"#{i + 1} loss {-f:.3f}" for i, f in enumerate(evo.top_fitness[:len(models)])]
    what = "the best individuals" if run.state.method == "ga" else "the best perturbations of the mean"
    st.markdown(f"**Generation {run.epoch:,}: {what}** (of {evo.config.population})")
    _chart(st, population_spec(probs, captions, present, height=170 if present else 140), width="stretch")


def _toggled(state: PlaygroundState) -> PlaygroundState:
    """The state with the view toggles' current values (read before they are drawn, below the
    plane); a flip is stored and goes to the URL."""
    values = {name: bool(st.session_state[W + name]) for name in ("show_test", "discretize")
              if W + name in st.session_state and not state.hidden_control(name)}
    new = replace(state, **values)
    if new != state:
        st.session_state[STATE] = new
        sync_url(new)
    return new


def _view_toggles(state: PlaygroundState) -> None:
    """Test points and discretize (drawn by the full run; in a race, inside its fragment)."""
    cols = st.columns(2)
    if not state.hidden_control("show_test"):
        cols[0].toggle("Show test points", key=_seed("show_test", state.show_test))
    if not state.hidden_control("discretize"):
        cols[1].toggle("Discretize output", key=_seed("discretize", state.discretize),
                       help="Only the predicted class, no confidence shading")


def _view_picker(sizes, feature_labels, class_labels) -> None:
    """Which picture the big plot shows: the decision boundary or one neuron (also: click one)."""
    n_layers = len(sizes) - 1
    options = ["Output"] + [f"{l}:{i}" for l in range(n_layers + 1) for i in range(sizes[l])]

    def label(o: str) -> str:
        if o == "Output":
            return "Decision boundary"
        l, i = map(int, o.split(":"))
        return node_name(l, i, n_layers, feature_labels, class_labels)

    key = W + "view"
    current = _view_label(st.session_state.get(VIEW))
    if st.session_state.get(key) != current:
        st.session_state[key] = current if current in options else "Output"
    st.selectbox("Large picture: or click a neuron in the diagram (double-click: back)", options, key=key,
                 format_func=label, on_change=_on_view_pick)


@owned
def _on_view_pick() -> None:
    choice = st.session_state.get(W + "view", "Output")
    st.session_state[VIEW] = None if choice == "Output" else tuple(map(int, choice.split(":")))


def _class_labels(run: PlaygroundRun) -> list[str]:
    custom = st.session_state.get(CUSTOM_DATA)
    if run.state.dataset == CUSTOM and custom is not None and len(custom.labels) == run.points.n_classes:
        return [f"label {c}" for c in custom.labels]
    return [f"class {c}" for c in range(run.points.n_classes)]
