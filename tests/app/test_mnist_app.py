"""The MNIST page through Streamlit's AppTest: training, presets, model files, divergence, download failure.

AppTest never ticks a fragment's run_every timer: each at.run() is one full rerun, which runs the
live fragment once (one epoch on the bundled digits while training).
"""
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nnviz.data import mnist
from nnviz.engine.model import MLP
from nnviz.engine.model_files import model_to_bytes

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "mnist.py")
W = "mnist_w_"  # widget keys of the settings


@pytest.fixture
def at():
    app = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not app.exception
    return app


def run_of(at):
    return at.session_state["mnist_run"]


def status(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Epoch"))


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def test_train_two_epochs_and_accuracy_rises(at):
    at.select_slider(key=W + "epochs").set_value(2).run()
    at.button(key="mnist_train").click().run()  # epoch 1 (the fragment runs once per rerun)
    assert run_of(at).running and "Epoch 1 of 2" in status(at)
    assert at.button(key="mnist_train").disabled and not at.button(key="mnist_pause").disabled
    at.run()  # epoch 2: the target, training stops
    assert not at.exception and not errors(at)
    run = run_of(at)
    accs = [s.test_acc for s in run.curve]
    assert [s.epoch for s in run.curve] == [0, 1, 2]
    assert accs[0] < 0.3 and accs[1] > 0.8 and accs[2] >= accs[1] - 0.01, accs
    assert not run.running and "Epoch 2** (paused)" in status(at)
    assert not at.button(key="mnist_train").disabled
    # the page hands its model to Draw and Break
    shared = at.session_state["nnviz_digit_model"]
    assert shared.test_acc == pytest.approx(accs[2])
    np.testing.assert_array_equal(shared.model.weights[0], run.model.weights[0])
    assert "2 epochs" in shared.description
    assert len(at.get("plotly_chart")) == 1  # the gallery
    assert len(at.get("vega_lite_chart")) == 3  # loss, accuracy, confusion
    assert len(at.get("image")) == 2  # the templates and the mistakes, as pictures


def test_step_pause_reset(at):
    at.button(key="mnist_step").click().run()
    assert run_of(at).epoch == 1 and not run_of(at).running
    w_after_one = run_of(at).model.weights[0].copy()
    at.button(key="mnist_train").click().run()
    at.button(key="mnist_pause").click().run()
    assert not run_of(at).running
    epoch = run_of(at).epoch
    at.run()
    assert run_of(at).epoch == epoch  # paused: a rerun trains nothing
    at.button(key="mnist_reset").click().run()
    assert run_of(at).epoch == 0 and len(run_of(at).curve) == 1
    assert not np.array_equal(run_of(at).model.weights[0], w_after_one)


@pytest.mark.parametrize("preset, sizes, expected", [
    ("network.py", (784, 30, 10), dict(activation="sigmoid", output="sigmoid", loss="quadratic", optimizer="sgd",
                                       lr=3.0, batch_size=10, init="normal", epochs=30)),
    ("templates", (784, 10), dict(output="softmax", loss="cross_entropy")),
    ("modern", (784, 100, 10), dict(activation="relu", output="softmax", loss="cross_entropy", optimizer="adam",
                                    lr=0.001, init="he")),
])
def test_presets_set_what_they_say(at, preset, sizes, expected):
    at.button(key=f"mnist_preset_{preset}").click().run()
    assert not at.exception
    for name, value in expected.items():
        assert at.session_state[W + name] == value, name  # the widgets show it
        assert getattr(at.session_state["mnist_settings"], name) == value, name
    run = run_of(at)
    model, cfg = run.model, run.trainer.config
    assert model.sizes == sizes  # a network with nothing trained yet is rebuilt at once
    for name in ("activation", "output", "loss"):
        if name in expected and (name != "activation" or len(sizes) > 2):
            assert getattr(model.arch, name) == expected[name]
    if "optimizer" in expected:
        assert cfg.optimizer == expected["optimizer"] and run.trainer.lr == pytest.approx(expected.get("lr", cfg.lr))
    if preset == "network.py":
        assert cfg.batch_size == 10 and run.trainer.lr == 3.0
        assert 0.9 < float(np.std(model.weights[0])) < 1.1  # N(0, 1) weights, as in network.py
        at.button(key="mnist_step").click().run()
        assert run_of(at).curve[-1].test_acc > 0.75  # the seed's recipe learns in one epoch


def test_settings_survive_a_page_switch():
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    app.switch_page("pages/mnist.py").run()
    app.button(key="mnist_preset_network.py").click().run()
    app.select_slider(key=W + "lr").set_value(1.0).run()
    app.switch_page("pages/draw.py").run()
    for key in [k for k in app.session_state.keys() if k.startswith(W)]:
        del app.session_state[key]  # what Streamlit does to a widget's state when its page is left...
    app.switch_page("pages/mnist.py").run()
    assert not app.exception
    assert app.select_slider(key=W + "lr").value == 1.0  # ...and the page put it back
    assert app.radio(key=W + "hidden_layers").value == 1
    assert app.session_state["mnist_run"].model.sizes == (784, 30, 10)


def _overflowing_model() -> MLP:
    """Finite float32 weights of 3e38: Draw showed "nan%" and Break "nan% sure" with it."""
    model = MLP.create((784, 16, 10), rng=np.random.default_rng(0))
    model.weights[0][:] = np.abs(model.weights[0])
    model.weights[1][:] = 3e38
    return model


def test_a_bad_upload_is_refused_and_nothing_changes(at):
    at.button(key="mnist_step").click().run()
    run = run_of(at)
    before = run.model.weights[0].copy()
    shared = at.session_state["nnviz_digit_model"]
    for name, data in [("junk.npz", b"PK\x03\x04 certainly not a zip"),
                       ("toy.npz", model_to_bytes(MLP.create((2, 8, 2), rng=np.random.default_rng(0)))),
                       ("nan.npz", model_to_bytes(_overflowing_model())),  # answers NaN on every digit
                       ("huge.npz", model_to_bytes(MLP.create((784, 1300, 10), rng=np.random.default_rng(0)))),
                       ("[click](http://x).npz", b"\x00" * 100)]:
        at.file_uploader(key="mnist_upload").set_value((name, data, "application/octet-stream")).run()
        assert not at.exception
        msgs = errors(at)
        assert len(msgs) == 1 and "was not loaded" in msgs[0], msgs
        assert run_of(at) is run and run.epoch == 1
        np.testing.assert_array_equal(run.model.weights[0], before)
        assert at.session_state["nnviz_digit_model"] is shared
    assert "784 pixels" in errors(at)[0] or "archive" in errors(at)[0]
    assert "\\[click\\]" in errors(at)[0]  # a file name is shown as text, never as a link


def test_a_good_upload_becomes_the_model_of_the_session(at):
    good = MLP.create((784, 20, 10), rng=np.random.default_rng(1))
    at.file_uploader(key="mnist_upload").set_value(("mine.npz", model_to_bytes(good), "application/octet-stream")).run()
    assert not at.exception and not errors(at)
    run = run_of(at)
    assert run.model.sizes == (784, 20, 10)
    np.testing.assert_array_equal(run.model.weights[1], good.weights[1])
    assert at.session_state["nnviz_digit_model"].model.sizes == (784, 20, 10)
    at.button(key="mnist_step").click().run()  # and it trains on
    assert run_of(at).epoch == 1 and run_of(at).curve[-1].test_acc > 0.5


@pytest.mark.parametrize("preset", ["network.py", "modern"])
def test_learning_rate_100_gives_a_clear_message_and_reset(at, preset):
    at.button(key=f"mnist_preset_{preset}").click().run()
    at.selectbox(key=W + "optimizer").set_value("sgd").run()
    at.select_slider(key=W + "lr").set_value(100.0).run()
    at.button(key="mnist_step").click().run()
    assert not at.exception
    msgs = errors(at)
    assert len(msgs) == 1 and "Not learning" in msgs[0] and "Reset" in msgs[0] and "100" in msgs[0], msgs
    assert at.button(key="mnist_train").disabled and at.button(key="mnist_step").disabled
    at.select_slider(key=W + "lr").set_value(3.0 if preset == "network.py" else 0.05).run()
    at.button(key="mnist_reset").click().run()
    assert not errors(at) and not at.button(key="mnist_train").disabled
    if preset == "modern":  # and a sane learning rate learns again
        at.button(key="mnist_step").click().run()
        assert run_of(at).curve[-1].test_acc > 0.7


def test_a_failed_full_download_keeps_the_bundled_digits(at, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # an empty cache
    monkeypatch.setattr(mnist, "FULL_BASE_URL", "http://127.0.0.1:9/")  # nothing listens: refused at once
    at.radio(key=W + "data").set_value("full").run()
    assert any("not downloaded yet" in i.value for i in at.info)
    at.button(key="mnist_download").click().run()
    assert not at.exception
    msgs = errors(at)
    assert len(msgs) == 1 and "bundled digits keep working" in msgs[0], msgs
    at.button(key="mnist_step").click().run()
    run = run_of(at)
    assert run.data_name == "bundled" and run.epoch == 1 and run.curve[-1].test_acc > 0.8


def test_within_epoch_updates_on_a_large_set(at, monkeypatch):
    from nnviz.ui import mnist as ui
    monkeypatch.setattr(ui, "CHUNK_EXAMPLES", 2000)  # the 8,000 bundled digits count as large here
    at.button(key="mnist_train").click().run()
    run = run_of(at)
    last = run.curve[-1]
    assert not last.end_of_epoch and 0 < last.epoch < 1 and run.mid_epoch
    assert "Epoch 0.25 of 10" in status(at)
    for _ in range(2):  # reports after 63, 126 and 189 of the 250 batches: four equal chunks
        at.run()
        assert not at.exception and not run_of(at).curve[-1].end_of_epoch
    at.run()  # the fourth chunk ends the epoch (62,124,186,248 left a fifth frame for 2 batches)
    assert run_of(at).curve[-1].end_of_epoch and run_of(at).epoch == 1
    assert at.session_state["nnviz_digit_model"].test_acc == run_of(at).curve[-1].test_acc


@pytest.mark.parametrize("batch,every", [(64, 313), (32, 625), (10, 2000), (128, 157), (1000, 20)])
def test_a_full_mnist_epoch_is_three_equal_chunks(batch, every):
    """60,000 digits: three frames an epoch at any batch size, never a fourth for a remainder."""
    from types import SimpleNamespace
    from nnviz.ui import mnist as ui
    run = SimpleNamespace(data=SimpleNamespace(x_train=np.empty((60_000, 1))),
                          trainer=SimpleNamespace(config=SimpleNamespace(batch_size=batch)))
    assert ui.every_batches(run) == every
    n_batches = -(-60_000 // batch)
    assert len([k for k in range(1, n_batches) if k % every == 0]) + 1 == 3  # mid-epoch reports, then the end


def test_a_successful_full_download_switches_the_data(at, monkeypatch):
    from nnviz.engine.training import Dataset
    from nnviz.ui import mnist as ui
    d = mnist.load_bundled()
    big = Dataset(np.concatenate([d.x_train, d.x_train[:4000]]), np.concatenate([d.y_train, d.y_train[:4000]]),
                  d.x_test, d.y_test, 10, "stand-in for the full set")
    reports = []

    def fake_load_full(progress=None):
        for f in (0.0, 0.5, 1.0):
            progress(f, f"step {f}")
            reports.append(f)
        return big

    ui._full_holder().clear()
    monkeypatch.setattr(mnist, "load_full", fake_load_full)
    monkeypatch.setattr(mnist, "full_is_cached", lambda: "data" in ui._full_holder())
    try:
        at.button(key="mnist_download").click().run()
        assert not at.exception and not errors(at) and reports == [0.0, 0.5, 1.0]
        assert at.session_state[W + "data"] == "full"
        assert any("Full MNIST is here" in s.value for s in at.success)
        run = run_of(at)
        assert run.data is big and run.data_name == "full"  # an untrained network moves to the new data
    finally:
        ui._full_holder().clear()  # shared by the server's sessions: leave no stand-in behind


def test_the_weight_pictures_are_sent_as_png_not_recoded_as_jpeg(at):
    """The pictures are encoded once, losslessly: st.image("auto") would re-encode the bytes as a
    JPEG, which smears the thin red/blue weights."""
    at.button(key="mnist_train").click().run()
    urls = [img.url for element in at.get("image") for img in element.proto.imgs]
    assert len(urls) == 2 and all(u.endswith(".png") for u in urls), urls
