"""The Playground's pure parts: settings <-> URL, input features, CSV upload, the run and its
snapshots, and the plane view (no Streamlit here; the pictures: tests/plots/test_playground_plots.py)."""
import math

import numpy as np
import pytest

from nnviz.data.toy import EXTENT
from nnviz.engine.training import TrainingDiverged
from nnviz.lab.playground import (
    DEFAULT,
    FEATURES,
    MAX_CSV_ROWS,
    CustomData,
    PlaygroundRun,
    PlaygroundState,
    Snapshots,
    build_model,
    check_csv_size,
    feature_map,
    from_query,
    grid,
    make_points,
    parse_csv,
    plane_view,
    sanitize,
    to_query,
)

# ----- settings and the URL -------------------------------------------------------------------

@pytest.mark.parametrize("state", [
    DEFAULT,
    PlaygroundState(dataset="spiral", hidden=(8, 8), activation="relu", lr=0.05, features=("x1", "x2", "sin1")),
    PlaygroundState(dataset="blobs", noise=0.35, n_points=420, test_ratio=0.0, data_seed=7, hidden=(),
                    loss="quadratic", optimizer="adam", batch_size=3, reg="l1", reg_rate=0.03, init_seed=99,
                    speed=20, show_test=True, discretize=True, hide=("data", "lr")),
])
def test_query_round_trip(state):
    query = to_query(state)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in query.items())
    assert from_query(query) == state


def test_defaults_make_an_empty_query_and_the_seed_exercise():
    assert to_query(DEFAULT) == {}
    assert from_query({}) == DEFAULT
    assert (DEFAULT.dataset, DEFAULT.noise) == ("moons", 0.2)  # the seed's moons


def test_the_issue_example_link():
    s = from_query({"dataset": "spiral", "hidden": "8,8", "activation": "tanh", "lr": "0.03"})
    assert (s.dataset, s.hidden, s.activation, s.lr) == ("spiral", (8, 8), "tanh", 0.03)


def test_zero_hidden_layers_in_the_url():
    assert from_query({"hidden": "none"}).hidden == ()
    assert from_query({"hidden": "0"}).hidden == ()
    assert to_query(PlaygroundState(hidden=()))["hidden"] == "none"


@pytest.mark.parametrize("params, field, expected", [
    ({"lr": "abc"}, "lr", DEFAULT.lr),
    ({"lr": "nan"}, "lr", DEFAULT.lr),
    ({"lr": "inf"}, "lr", DEFAULT.lr),
    ({"lr": "-5"}, "lr", 1e-6),                      # clamped into range
    ({"n": "1e9"}, "n_points", 1000),
    ({"n": "3"}, "n_points", 20),
    ({"noise": "9"}, "noise", 0.6),
    ({"test": "1.5"}, "test_ratio", 0.9),
    ({"dataset": "mnist"}, "dataset", DEFAULT.dataset),
    ({"dataset": "custom"}, "dataset", DEFAULT.dataset),  # uploaded data never travels in a link
    ({"dataset": " SPIRAL "}, "dataset", "spiral"),
    ({"hidden": "8,abc"}, "hidden", DEFAULT.hidden),
    ({"hidden": "100,2"}, "hidden", (32, 2)),
    ({"hidden": "1,2,3,4,5,6,7,8"}, "hidden", (1, 2, 3, 4, 5, 6)),
    ({"features": "x1,bogus,x1x2"}, "features", ("x1", "x1x2")),
    ({"features": "bogus"}, "features", DEFAULT.features),
    ({"features": ""}, "features", DEFAULT.features),
    ({"activation": "softmax"}, "activation", DEFAULT.activation),
    ({"show_test": "maybe"}, "show_test", False),
    ({"show_test": "true"}, "show_test", True),
    ({"hide": "dataset,nonsense,FEATURES"}, "hide", ("dataset", "features")),
    ({"batch": ["5", "20"]}, "batch_size", 20),         # repeated key: the last one
    ({"seed": "x" * 10_000}, "data_seed", 0),
])
def test_junk_in_the_url_falls_back_and_never_raises(params, field, expected):
    assert getattr(from_query(params), field) == expected


def test_junk_url_keeps_the_good_values():
    s = from_query({"dataset": "xor", "lr": "🙂", "hidden": "[1,2]", "speed": "1e400", "loss": None})
    assert s.dataset == "xor" and s.lr == DEFAULT.lr and s.hidden == DEFAULT.hidden
    assert s.speed == DEFAULT.speed  # 1e400 is infinite: the default, never a crash
    assert s.loss == DEFAULT.loss


def test_sanitize_makes_any_widget_state_valid():
    s = sanitize(PlaygroundState(n_points=10**6, lr=0.0, hidden=(0, 50), features=("x1", "zzz")))
    assert s.n_points == 1000 and s.lr == 1e-6 and s.hidden == (1, 32) and s.features == ("x1",)
    assert sanitize(PlaygroundState(dataset="custom")).dataset == "custom"


def test_hide_groups():
    s = from_query({"hide": "data,lr"})
    assert s.hidden_control("noise") and s.hidden_control("upload") and s.hidden_control("lr")
    assert not s.hidden_control("activation")


# ----- features ---------------------------------------------------------------------------------

def test_feature_map_columns():
    x = np.array([[0.5, -2.0], [1.0, 0.25], [0.0, 0.0]])
    f = feature_map(x, tuple(FEATURES))
    assert f.shape == (3, 7) and f.dtype == np.float32
    np.testing.assert_allclose(f[:, 0], x[:, 0])
    np.testing.assert_allclose(f[:, 1], x[:, 1])
    np.testing.assert_allclose(f[:, 2], x[:, 0] ** 2)
    np.testing.assert_allclose(f[:, 3], x[:, 1] ** 2)
    np.testing.assert_allclose(f[:, 4], x[:, 0] * x[:, 1])
    np.testing.assert_allclose(f[:, 5], np.sin(np.pi * x[:, 0]), atol=1e-6)
    np.testing.assert_allclose(f[:, 6], np.sin(np.pi * x[:, 1]), atol=1e-6)
    assert feature_map(x, ("x1x2", "x1")).shape == (3, 2)


@pytest.mark.parametrize("features", [(), ("x3",)])
def test_feature_map_rejects_bad_choices(features):
    with pytest.raises(ValueError):
        feature_map(np.zeros((2, 2)), features)


def test_circles_need_squares_to_be_linear():
    """With x1^2 and x2^2 as inputs, logistic regression (0 hidden layers) separates circles."""
    s = PlaygroundState(dataset="circles", noise=0.05, features=("x1sq", "x2sq"), hidden=(), lr=0.3)
    run = PlaygroundRun(s)
    run.step(40)
    assert run.history[-1].test_acc > 0.95


# ----- CSV upload -------------------------------------------------------------------------------

GOOD = "x1,x2,label\n0.1,0.2,0\n-0.5,0.3,1\n0.9,-0.9,1\n-1.0,-1.0,0\n"


def test_parse_csv_good_with_and_without_header():
    for text in (GOOD, GOOD.split("\n", 1)[1]):
        d = parse_csv(text.encode())
        assert isinstance(d, CustomData)
        assert d.x.shape == (4, 2) and d.y.tolist() == [0, 1, 1, 0] and d.n_classes == 2 and d.note == ""


def test_parse_csv_remaps_labels_and_rescales():
    d = parse_csv(b"10,20,-1\n30,40,1\n50,25,1\n12,33,-1\n")
    assert d.labels == (-1, 1) and d.y.tolist() == [0, 1, 1, 0]
    assert np.abs(d.x).max() <= 1.5 + 1e-6 and "scaled" in d.note
    # one factor for both axes: shapes keep their proportions
    raw = np.array([[10, 20], [30, 40], [50, 25], [12, 33]], float)
    ratio = (d.x[1] - d.x[0]) / (raw[1] - raw[0])
    assert ratio[0] == pytest.approx(ratio[1])


@pytest.mark.parametrize("data, words", [
    (b"x1,x2\n1,2\n3,4\n5,6\n7,8\n", "3 columns"),
    (b"1,2,0\n3,4\n5,6,1\n7,8,0\n", "Row 2 has 2 columns"),
    (b"x1,x2,label\n1,2,0\n3,hello,1\n5,6,1\n7,8,0\n", "'hello' is not a number"),
    (b"1,2,0\n3,nan,1\n5,6,1\n7,8,0\n", "NaN"),
    (b"1,2,0\n3,inf,1\n5,6,1\n7,8,0\n", "NaN and infinity"),
    (b"1,2,0\n3,4,0\n5,6,0\n7,8,0\n", "need at least two classes"),
    (b"1,2,0\n3,4,0.5\n5,6,1\n7,8,0\n", "small integers"),
    (b"1,2,0\n3,4,1\n", "at least 4 points"),
    (b"", "empty"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    ("".join(f"{i},{i},{i % 20}\n" for i in range(40)).encode(), "at most 8 classes"),
    ("".join(f"{i},{i},{i % 2}\n" for i in range(MAX_CSV_ROWS + 1)).encode(), "limit is 5,000"),
    (b"1,2,0\n" * 200_000, "MB"),  # 1.2 MB: refused before parsing
])
def test_parse_csv_refuses_bad_files_with_a_message(data, words):
    with pytest.raises(ValueError, match=None) as err:
        parse_csv(data)
    assert words in str(err.value)


@pytest.mark.parametrize("rows", [
    [(1.6e308, 1.7e308, 0), (1.7e308, 1.6e308, 1), (1.65e308, 1.65e308, 0), (1.7e308, 1.7e308, 1)],
    [(-1.7e308, 1.7e308, 0), (1.7e308, -1.7e308, 1), (0, 0, 0), (1.7e308, 1.7e308, 1)],
])
def test_coordinates_near_the_float_maximum_are_rescaled_without_overflow(rows):
    """(max + min) / 2 and x - centre overflow to inf here, and inf - inf is NaN."""
    with np.errstate(over="raise", invalid="raise"):  # no overflow anywhere, not even a hidden one
        d = parse_csv("".join(f"{a!r},{b!r},{c}\n" for a, b, c in rows))
    assert np.isfinite(d.x).all() and np.abs(d.x).max() <= 1.5 + 1e-6 and "scaled" in d.note
    raw = np.array([r[:2] for r in rows])
    ratio = (d.x[1] - d.x[0]) / (raw[1] - raw[0])  # one factor for both axes, as for small numbers
    assert ratio[0] == pytest.approx(ratio[1])
    run = PlaygroundRun(PlaygroundState(dataset="custom", test_ratio=0.0), d)
    stats = run.step(3)
    assert math.isfinite(stats.train_loss) and run.diverged is None


@pytest.mark.parametrize("n_bytes, shown", [(6_000_000, "6.0 MB"), (9_000_000, "9.0 MB"), (9_420_000, "9.5 MB"),
                                            (1_000_001, "1.1 MB")])
def test_an_oversize_csv_message_gives_its_real_size(n_bytes, shown):
    with pytest.raises(ValueError) as err:
        check_csv_size(n_bytes)
    assert str(err.value).startswith(f"The file is {shown}; the limit is 1 MB")
    check_csv_size(1_000_000)  # the limit itself is allowed


def test_a_test_share_that_leaves_no_training_point_is_a_message():
    d = parse_csv(b"0,0,0\n1,1,1\n0,1,0\n1,0,1\n")
    with pytest.raises(ValueError, match="A test share of 0.9 leaves none of the 4 points for training"):
        PlaygroundRun(PlaygroundState(dataset="custom", test_ratio=0.9), d)
    assert len(make_points(PlaygroundState(dataset="custom", test_ratio=0.6), d).y_train) == 2


def test_custom_points_are_split_with_the_seed():
    d = parse_csv(("".join(f"{i / 100},{-i / 100},{i % 3}\n" for i in range(100))).encode())
    s = PlaygroundState(dataset="custom", test_ratio=0.3)
    pts = make_points(s, d)
    assert (len(pts.y_train), len(pts.y_test), pts.n_classes) == (70, 30, 3)
    again = make_points(s, d)
    np.testing.assert_array_equal(pts.x_train, again.x_train)


# ----- the run ----------------------------------------------------------------------------------

def test_run_trains_and_the_loss_falls():
    run = PlaygroundRun(DEFAULT)
    first = run.history[0].train_loss
    run.step(30)
    assert run.epoch == 30 and len(run.history) == 31
    assert run.history[-1].train_loss < 0.8 * first


def test_zero_hidden_layers_draws_a_straight_line():
    """Logistic regression: the log-odds over the plane is an affine function of (x1, x2)."""
    run = PlaygroundRun(replace_state(hidden=()))
    run.step(5)
    assert run.model.sizes == (2, 2)
    pts = grid(20)
    z = run.model.logits(feature_map(pts, ("x1", "x2"))).astype(np.float64)
    margin = z[:, 1] - z[:, 0]
    design = np.c_[pts, np.ones(len(pts))]
    coef, *_ = np.linalg.lstsq(design, margin, rcond=None)
    assert np.abs(design @ coef - margin).max() < 1e-4


def replace_state(**kw):
    from dataclasses import replace
    return replace(DEFAULT, **kw)


def test_training_settings_apply_without_a_reset():
    run = PlaygroundRun(DEFAULT)
    run.step(3)
    trainer = run.trainer
    run.update(replace_state(lr=0.3))
    assert run.trainer is trainer and run.trainer.lr == 0.3  # momentum etc. kept
    run.update(replace_state(lr=0.3, optimizer="adam", batch_size=5))
    assert run.trainer is not trainer and run.epoch == 3 and len(run.history) == 4
    run.step(1)
    assert run.epoch == 4
    assert run.needs_reset(replace_state(features=("x1",)))
    assert run.needs_reset(replace_state(data_seed=3))
    assert not run.needs_reset(replace_state(lr=1.0, show_test=True, speed=50))


def test_same_seeds_same_run():
    a, b = PlaygroundRun(DEFAULT), PlaygroundRun(DEFAULT)
    a.step(3)
    b.step(3)
    np.testing.assert_array_equal(a.model.weights[0], b.model.weights[0])


def test_divergence_stops_with_a_message_and_rolls_back():
    run = PlaygroundRun(replace_state(activation="linear", lr=10.0))
    with pytest.raises(TrainingDiverged):
        run.step(20)
    assert run.diverged and "learning rate" in run.diverged
    assert run.model.is_finite()


def test_snapshots_are_bounded_and_rewind_works():
    run = PlaygroundRun(DEFAULT, snapshot_limit=10)
    w1 = None
    for e in range(1, 41):
        run.step(1)
        if e == 1:
            w1 = run.model.weights[0].copy()
    assert len(run.snapshots) <= 11 and run.snapshots.epochs[-1] == 40 and run.snapshots.epochs[0] == 0
    # thinned out, but every earlier epoch has one close by
    gaps = np.diff(run.snapshots.epochs)
    assert gaps.max() <= 8
    np.testing.assert_array_equal(run.model_at(None).weights[0], run.model.weights[0])
    early = run.model_at(0)
    assert not np.array_equal(early.weights[0], run.model.weights[0])
    np.testing.assert_array_equal(early.weights[0], build_model(DEFAULT, 2).weights[0])


def test_snapshots_keep_every_epoch_under_the_limit():
    snaps = Snapshots(limit=50)
    m = build_model(DEFAULT, 2)
    for e in range(30):
        snaps.add(e, m)
    assert snaps.epochs == list(range(30)) and snaps.nearest(17) == 17


def test_plane_view_shapes():
    s = replace_state(hidden=(5, 3), features=("x1", "x2", "x1x2"))
    run = PlaygroundRun(s)
    v = plane_view(run.model, s.features, 40)
    assert v.probs.shape == (40, 40, 2) and v.inputs.shape == (40, 40, 3)
    assert [h.shape for h in v.hidden] == [(40, 40, 5), (40, 40, 3)]
    np.testing.assert_allclose(v.probs.sum(axis=2), 1, atol=1e-5)
    # axis 0 is y ascending: the x2 input grows along it
    assert v.inputs[-1, 0, 1] == pytest.approx(EXTENT) and v.inputs[0, 0, 1] == pytest.approx(-EXTENT)


def test_a_long_run_keeps_its_history_bounded(monkeypatch):
    """An hour of playing must not grow a session without bound: old epochs are thinned out."""
    import nnviz.lab.playground as pg

    monkeypatch.setattr(pg, "HISTORY_LIMIT", 20)
    run = pg.PlaygroundRun(pg.PlaygroundState(n_points=40))
    for _ in range(15):
        run.step(5)
    epochs = [s.epoch for s in run.history]
    assert len(epochs) <= 21 + 1 and epochs[-1] == run.epoch == 75
    assert epochs == sorted(epochs) and epochs[0] == 0
