"""The Playground page through Streamlit's AppTest (no browser): play, URL state, CSV upload,
divergence, hidden controls. The fragment's timer never ticks here: each at.run() is one frame."""
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nnviz.lab.playground import PlaygroundState

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "playground.py")
pytestmark = pytest.mark.timeout(120)


def open_page(query: dict | None = None) -> AppTest:
    """The page as a visitor opening /playground?<query> sees it."""
    at = AppTest.from_file(PAGE, default_timeout=60)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def run_of(at):
    return at.session_state["pg_run"]


def assert_clean(at):
    assert not at.exception, at.exception


def views(at) -> dict[str, dict]:
    """The live views' data as the browser gets it (Components v2: nnviz.ui.playground_canvas),
    by key: pg_w_network (network and curves), pg_w_plane (headline and plane)."""
    return {e.proto.id.rsplit("-", 1)[-1]: json.loads(e.proto.json) for e in at.get("bidi_component")
            if e.proto.component_name == "nnviz_playground"}


def headline_text(at) -> str:
    return "".join(t for t, _ in views(at)["pg_w_plane"]["headline"])


def test_play_several_epochs_and_the_loss_falls():
    at = open_page()
    assert_clean(at)
    assert run_of(at).epoch == 0
    at.button(key="pg_w_play").click().run()
    for _ in range(12):
        at.run()  # one frame each: `speed` epochs
    assert_clean(at)
    run = run_of(at)
    assert run.epoch >= 20
    assert run.history[-1].train_loss < 0.8 * run.history[0].train_loss
    assert at.metric[0].value == f"{run.epoch:,}"  # the epoch counter
    assert "training loss" in headline_text(at)
    v = views(at)
    assert v["pg_w_network"]["curves"]["epochs"][-1] == run.epoch
    assert v["pg_w_plane"]["plane"]["picture"]["pal"] == "boundary"
    assert [m for m in at.markdown if "training loss" in m.value] == []  # no markdown copy per frame
    at.button(key="pg_w_pause").click().run()
    paused = run_of(at).epoch
    at.run()
    assert run_of(at).epoch == paused
    at.button(key="pg_w_step").click().run()
    assert run_of(at).epoch == paused + 1
    # Rewind: the slider shows an earlier epoch; the live model is untouched.
    at.slider(key="pg_w_rewind").set_value(3).run()
    assert at.metric[0].value == f"3 / {paused + 1:,}"
    assert headline_text(at).startswith("Output at epoch 3 \u00b7")
    assert views(at)["pg_w_network"]["curves"]["marker"] == 3
    assert run_of(at).epoch == paused + 1
    at.button(key="pg_w_reset").click().run()
    assert run_of(at).epoch == 0 and not at.session_state["pg_playing"]


def test_url_state_round_trip():
    at = open_page({"dataset": "spiral", "hidden": "8,8", "activation": "relu", "lr": "0.3",
                    "features": "x1,x2,sin1", "show_test": "1"})
    assert_clean(at)
    state = at.session_state["pg_state"]
    assert (state.dataset, state.hidden, state.activation, state.lr, state.features, state.show_test) == \
        ("spiral", (8, 8), "relu", 0.3, ("x1", "x2", "sin1"), True)
    assert at.selectbox(key="pg_w_dataset").value == "spiral"
    assert at.slider(key="pg_w_layers").value == 2
    assert run_of(at).model.sizes == (3, 8, 8, 2)
    # A change made with a widget goes back to the URL; the other settings stay.
    at.selectbox(key="pg_w_activation").set_value("sigmoid").run()
    q = at.query_params
    assert q["activation"] == ["sigmoid"] or q["activation"] == "sigmoid"
    assert "spiral" in str(q["dataset"]) and "8,8" in str(q["hidden"]) and "0.3" in str(q["lr"])
    assert run_of(at).model.arch.activation == "sigmoid"
    at.toggle(key="pg_w_discretize").set_value(True).run()
    assert at.session_state["pg_state"].discretize and "1" in str(at.query_params["discretize"])
    plane = views(at)["pg_w_plane"]["plane"]
    assert plane["show_test"] and len(plane["points"]["x"]) > plane["points"]["n_train"]
    assert len(plane["palettes"]["boundary"]) == 8  # discretize: one tint per class (2 x 3 bytes)
    at.toggle(key="pg_w_show_test").set_value(False).run()
    assert not at.session_state["pg_state"].show_test and "show_test" not in at.query_params
    plane = views(at)["pg_w_plane"]["plane"]
    assert not plane["show_test"] and len(plane["points"]["x"]) == plane["points"]["n_train"]


def test_zero_hidden_layers_is_logistic_regression():
    at = open_page()
    at.slider(key="pg_w_layers").set_value(0).run()
    assert_clean(at)
    assert run_of(at).model.sizes == (2, 2)
    assert "none" in str(at.query_params["hidden"])


def test_junk_url_opens_the_defaults():
    at = open_page({"dataset": "<script>", "lr": "NaN", "hidden": "x", "n": "-1", "hide": "everything"})
    assert_clean(at)
    state = at.session_state["pg_state"]
    assert state.dataset == "moons" and state.lr == PlaygroundState().lr and state.hidden == (4, 2) and state.n_points == 20


GOOD_CSV = ("x1,x2,label\n" + "".join(f"{(i % 10) / 10 - 0.5},{(i // 10) / 10 - 0.5},{int(i % 10 > 4)}\n"
                                      for i in range(60))).encode()


def test_bad_csv_is_refused_and_the_previous_data_stays():
    at = open_page()
    up = at.file_uploader(key="pg_w_upload")
    up.set_value(("mine.csv", GOOD_CSV, "text/csv")).run()
    assert_clean(at)
    assert at.selectbox(key="pg_w_dataset").value == "custom"
    run = run_of(at)
    assert len(run.points.y_train) + len(run.points.y_test) == 60
    assert any("60 points" in s.value for s in at.success)
    good_x = run.points.x_train.copy()
    for name, data, words in (("text.csv", b"x1,x2,label\n1,2,0\n3,hello,1\n1,1,1\n2,2,0\n", "not a number"),
                              ("one.csv", b"1,2,0\n3,4,0\n5,6,0\n7,8,0\n", "two classes"),
                              ("nan.csv", b"1,2,0\nnan,4,1\n5,6,1\n7,8,0\n", "NaN"),
                              ("wide.csv", b"a,b,c,d\n1,2,3,4\n", "3 columns")):
        at.file_uploader(key="pg_w_upload").set_value((name, data, "text/csv")).run()
        assert_clean(at)
        assert any(words in e.value and "previous data stays" in e.value for e in at.error), [e.value for e in at.error]
        assert at.selectbox(key="pg_w_dataset").value == "custom"
        assert (run_of(at).points.x_train == good_x).all()


def test_divergence_stops_the_run_with_a_message_and_reset():
    at = open_page({"activation": "linear", "lr": "10"})
    at.button(key="pg_w_play").click().run()
    for _ in range(6):
        if at.session_state["pg_playing"]:
            at.run()
    assert_clean(at)
    assert not at.session_state["pg_playing"]
    assert any("diverged" in e.value and "smaller learning rate" in e.value for e in at.error)
    assert at.button(key="pg_w_play").disabled
    at.button(key="pg_w_reset").click().run()
    assert_clean(at)
    assert run_of(at).epoch == 0 and not any("diverged" in e.value for e in at.error)


def test_a_run_that_stops_learning_pauses_and_says_why():
    """The issue's run (ReLU, quadratic loss, learning rate 10) sat at 48% with no word (start seed 4
    dies today: see tests/lab/test_learning.py)."""
    at = open_page({"activation": "relu", "loss": "quadratic", "lr": "10", "init": "4"})
    at.button(key="pg_w_play").click().run()
    for _ in range(10):
        if at.session_state["pg_playing"]:
            at.run()
    assert_clean(at)
    assert not at.session_state["pg_playing"]  # it cannot recover: stopped, as after a divergence
    msgs = [e.value for e in at.error]
    assert len(msgs) == 1 and msgs[0].startswith("Not learning") and "is dead" in msgs[0], msgs
    at.button(key="pg_w_reset").click().run()
    assert_clean(at)
    assert not at.error and not at.warning


def test_a_run_at_chance_gets_a_warning_that_goes_once_it_learns():
    at = open_page({"dataset": "circles", "lr": "0.00001", "speed": "50"})
    at.button(key="pg_w_play").click().run()
    assert_clean(at)
    assert any(w.value.startswith("Still at chance level") for w in at.warning)
    assert at.session_state["pg_playing"]  # a warning: it plays on
    at.select_slider(key="pg_w_lr").set_value(0.3).run()
    for _ in range(8):
        at.run()
    assert_clean(at)
    assert run_of(at).history[-1].test_acc > 0.8 and not at.warning


def test_hide_controls_through_the_url():
    at = open_page({"hide": "data,features,lr"})
    assert_clean(at)
    keys = {w.key for w in at.selectbox} | {w.key for w in at.slider} | {w.key for w in at.select_slider}
    assert "pg_w_dataset" not in keys and "pg_w_noise" not in keys and "pg_w_lr" not in keys
    assert "pg_w_activation" in keys and "pg_w_speed" in keys
    assert len(at.file_uploader) == 0


def test_neuron_picked_large():
    at = open_page()
    at.selectbox(key="pg_w_view").set_value("1:0").run()
    assert_clean(at)
    assert at.session_state["pg_view"] == (1, 0)
    assert headline_text(at).startswith("Hidden layer 1, neuron 1 \u00b7")
    v = views(at)
    assert v["pg_w_plane"]["plane"]["picture"]["pal"] == "div"  # a neuron: blue < 0 < red
    assert v["pg_w_network"]["network"]["selected"] == [1, 0]
    at.selectbox(key="pg_w_view").set_value("Output").run()
    assert at.session_state["pg_view"] is None and views(at)["pg_w_network"]["network"]["selected"] is None


def test_the_run_and_settings_survive_a_page_switch():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/playground.py").run()
    assert_clean(at)
    at.selectbox(key="pg_w_dataset").set_value("xor").run()
    for _ in range(3):
        at.button(key="pg_w_step").click().run()
    assert run_of(at).epoch == 3
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/playground.py").run()
    assert_clean(at)
    assert run_of(at).epoch == 3 and at.session_state["pg_state"].dataset == "xor"
    assert at.selectbox(key="pg_w_dataset").value == "xor"  # widget re-seeded from our own key


def test_a_new_upload_replaces_the_points():
    at = open_page()
    at.file_uploader(key="pg_w_upload").set_value(("mine.csv", GOOD_CSV, "text/csv")).run()
    first = run_of(at)
    other = b"x1,x2,label\n" + b"".join(f"{i / 10},{-i / 10},{i % 3}\n".encode() for i in range(12))
    at.file_uploader(key="pg_w_upload").set_value(("mine.csv", other, "text/csv")).run()
    assert_clean(at)
    second = run_of(at)
    assert second is not first and second.points.n_classes == 3
    assert len(second.points.y_train) + len(second.points.y_test) == 12


def test_new_sample_regenerates_the_points():
    at = open_page()
    before = run_of(at).points.x_train.copy()
    at.button(key="pg_w_new_sample").click().run()
    assert_clean(at)
    assert at.session_state["pg_state"].data_seed == 1 and "1" in str(at.query_params["seed"])
    assert not (run_of(at).points.x_train == before).all()


def test_a_test_share_that_leaves_no_training_point_keeps_the_previous_run():
    """4 uploaded points at test share 0.9: all 4 would be test points. A message, the run stays."""
    at = open_page()
    at.file_uploader(key="pg_w_upload").set_value(("four.csv", b"0,0,0\n1,1,1\n0,1,0\n1,0,1\n", "text/csv")).run()
    assert_clean(at)
    run = run_of(at)
    assert len(run.points.y_train) + len(run.points.y_test) == 4
    at.slider(key="pg_w_test_ratio").set_value(0.9).run()
    assert_clean(at)
    assert any("leaves none of the 4 points for training" in e.value for e in at.error), [e.value for e in at.error]
    assert run_of(at) is run and len(views(at)) == 2  # the views stay
    at.slider(key="pg_w_test_ratio").set_value(0.25).run()
    assert_clean(at)
    assert not at.error and run_of(at) is not run and len(run_of(at).points.y_train) == 3


@pytest.mark.parametrize("megabytes", [6, 9])
def test_an_oversize_csv_is_refused_with_its_real_size(megabytes):
    at = open_page()
    big = b"0.1,0.2,0\n" * (megabytes * 100_000)
    at.file_uploader(key="pg_w_upload").set_value(("big.csv", big, "text/csv")).run()
    assert_clean(at)
    assert any(f"The file is {megabytes}.0 MB; the limit is 1 MB" in e.value.replace("\\", "")
               for e in at.error), [e.value for e in at.error]
