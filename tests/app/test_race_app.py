"""The Playground learning by evolution and racing backprop, through AppTest (no browser): the
Learn-by bar, the evolution settings in the URL, Play/Pause/Step/Reset/rewind for every method."""
import json

import numpy as np
import pytest
from test_playground_app import open_page, views

from nnviz.lab.playground import RaceRun

pytestmark = pytest.mark.timeout(120)


def clean(at):
    assert not at.exception, at.exception
    return at


def charts(at) -> list[dict]:
    """The Vega-Lite specs on the page (their live datasets travel apart, as Arrow)."""
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def test_learn_by_switches_the_method_and_the_url():
    at = clean(open_page())
    assert at.segmented_control(key="pg_w_method").value == "backprop"
    assert not any("Evolution" in h.value for h in at.sidebar.subheader)
    at.segmented_control(key="pg_w_method").set_value("ga").run()
    clean(at)
    run = at.session_state["pg_run"]
    assert run.evolving and run.state.method == "ga"
    assert "ga" in str(at.query_params["learn"])
    assert any("Evolution" in h.value for h in at.sidebar.subheader)
    at.select_slider(key="pg_w_population").set_value(20).run()
    at.select_slider(key="pg_w_sigma").set_value(0.2).run()
    clean(at)
    assert "20" in str(at.query_params["pop"]) and "0.2" in str(at.query_params["sigma"])
    assert at.session_state["pg_run"] is run and len(run.trainer.population) == 20  # applied live
    at.button(key="pg_w_step").click().run()
    clean(at)
    assert run.epoch == 1 and at.metric[0].label == "Generation"
    assert any("the best individuals" in m.value for m in at.markdown)


@pytest.mark.parametrize("method", ["ga", "es"])
def test_play_pause_step_rewind_reset_evolve(method):
    at = clean(open_page({"learn": method, "pop": "30", "hidden": "8,8"}))
    at.button(key="pg_w_play").click().run()
    for _ in range(6):
        at.run()
    clean(at)
    run = at.session_state["pg_run"]
    assert run.epoch >= 7  # 5 generations a frame, fewer if a frame runs out of time (EVOLUTION_FRAME_SECONDS)
    assert run.history[-1].train_loss < run.history[0].train_loss
    assert run.history[-1].forward_passes == run.epoch * 30 * len(run.points.y_train)
    at.button(key="pg_w_pause").click().run()
    paused = run.epoch
    at.run()
    assert run.epoch == paused
    at.button(key="pg_w_step").click().run()
    assert run.epoch == paused + 1
    at.slider(key="pg_w_rewind").set_value(2).run()
    clean(at)
    assert at.metric[0].value == f"2 / {paused + 1:,}"
    assert any("latest generation" in c.value for c in at.caption)  # the population row says so
    at.button(key="pg_w_reset").click().run()
    assert at.session_state["pg_run"].epoch == 0


def test_a_race_from_a_link():
    at = clean(open_page({"learn": "race", "rival": "es", "pop": "40", "hidden": "8,8"}))
    race = at.session_state["pg_run"]
    assert isinstance(race, RaceRun) and set(race.runs) == {"backprop", "es"}
    for a, b in zip(race.backprop.model.params(), race.rival.model.params()):
        np.testing.assert_array_equal(a, b)  # the same initial weights
    assert at.radio(key="pg_w_rival").value == "es"
    at.button(key="pg_w_play").click().run()
    for _ in range(4):
        at.run()
    clean(at)
    assert race.backprop.epoch == race.rival.epoch >= 5
    planes = views(at)  # both boundaries, drawn by the Playground's canvas view
    assert set(planes) == {"pg_w_race_left", "pg_w_race_right"}
    assert all(v["plane"]["picture"]["pal"] == "boundary" and v["parts"] == ["plane"] for v in planes.values())
    assert planes["pg_w_race_left"]["plane"]["picture"]["px"] != planes["pg_w_race_right"]["plane"]["picture"]["px"]
    heads = [m.value for m in at.markdown if "forward passes" in m.value]
    assert any(h.startswith("**Backprop**") for h in heads) and any("Evolution strategies" in h for h in heads)
    # both loss curves, against forward passes (log) and against seconds
    curves = [c for c in charts(at) if [la["data"]["name"] for la in c["layer"]] == ["curve", "marks"]]
    assert len(curves) == 2
    axes = [c["layer"][0]["encoding"]["x"]["scale"].get("type") for c in curves]
    assert axes == ["log", None]
    assert curves[0]["layer"][0]["encoding"]["color"]["scale"]["domain"] == ["Backprop", "Evolution strategies"]
    at.button(key="pg_w_pause").click().run()
    at.slider(key="pg_w_rewind").set_value(5).run()
    clean(at)
    assert at.metric[0].value.startswith("5 / ")
    # another rival: a new race, backprop's settings kept
    at.radio(key="pg_w_rival").set_value("ga").run()
    clean(at)
    new = at.session_state["pg_run"]
    assert new is not race and set(new.runs) == {"backprop", "ga"} and new.epoch == 0
    assert "rival" not in at.query_params  # ga is the default


def test_hide_the_evolution_controls_for_a_slide():
    at = clean(open_page({"learn": "race", "hide": "evolution"}))
    assert not at.get("button_group") or all(b.key != "pg_w_method" for b in at.get("button_group"))
    assert not any("Evolution" in h.value for h in at.sidebar.subheader)
    assert isinstance(at.session_state["pg_run"], RaceRun)
