"""The loss landscape: its centre is the model's own loss, the directions are filter-normalised,
the path is projected where it lies, and the session's model is never touched."""
import numpy as np
import pytest

from nnviz.lab.landscape import (filter_normalised_direction, flat, landscape, losses_at, project,
                                 sample_for)
from nnviz.lab.playground import PlaygroundRun, PlaygroundState


@pytest.fixture(scope="module")
def run():
    r = PlaygroundRun(PlaygroundState(hidden=(4, 3), n_points=200))
    r.step(8)
    return r


def _path(run):
    epochs = run.snapshots.epochs
    return [run.snapshots.model_at(e, run.model).params() for e in epochs], epochs


@pytest.mark.parametrize("kind", ["random", "pca"])
def test_the_centre_of_the_landscape_is_the_models_loss(run, kind):
    before = flat(run.model.params())
    params, epochs = _path(run)
    land = landscape(run.model, run.data.x_train, run.data.y_train, params, epochs, kind=kind, resolution=51)
    assert land.loss.shape == (51, 51) and land.alpha[25] == 0 and land.beta[25] == 0
    assert land.loss[25, 25] == pytest.approx(run.model.loss(run.data.x_train, run.data.y_train), rel=1e-5)
    assert land.centre_loss == pytest.approx(run.model.loss(run.data.x_train, run.data.y_train))
    # The last snapshot is the trained model: at the centre of the plane, with the centre's loss.
    np.testing.assert_allclose(land.path[-1], 0, atol=1e-6)
    assert land.path_loss[0] == pytest.approx(run.history[0].train_loss, rel=1e-4)
    np.testing.assert_array_equal(flat(run.model.params()), before)  # the session's model is untouched


def test_every_grid_point_is_the_engines_loss_at_those_weights(run):
    params, epochs = _path(run)
    land = landscape(run.model, run.data.x_train, run.data.y_train, params, epochs, resolution=11)
    d1, d2 = land.directions
    centre = flat(run.model.params())
    for i, j in [(0, 0), (3, 8), (10, 5)]:
        m = run.model.copy()
        v = centre + land.alpha[j] * d1 + land.beta[i] * d2
        k = 0
        for p in m.params():
            p[...] = v[k:k + p.size].reshape(p.shape)
            k += p.size
        assert land.loss[i, j] == pytest.approx(m.loss(run.data.x_train, run.data.y_train), rel=1e-5)


def test_random_directions_are_filter_normalised_and_leave_the_biases(run):
    d = filter_normalised_direction(run.model, np.random.default_rng(1))
    k = 0
    for w in run.model.weights:
        dw = d[k:k + w.size].reshape(w.shape)
        np.testing.assert_allclose(np.linalg.norm(dw, axis=0), np.linalg.norm(w, axis=0), rtol=1e-6)
        k += w.size
    np.testing.assert_array_equal(d[k:], 0)


def test_projection_recovers_points_in_the_plane():
    rng = np.random.default_rng(0)
    d1, d2, centre = rng.standard_normal(30), rng.standard_normal(30), rng.standard_normal(30)
    coords = rng.uniform(-1, 1, (5, 2))
    pts = centre + coords[:, :1] * d1 + coords[:, 1:] * d2
    np.testing.assert_allclose(project(pts, centre, d1, d2), coords, atol=1e-10)


def test_a_large_set_is_sampled_to_bound_the_work_and_batched_losses_match():
    r = PlaygroundRun(PlaygroundState(hidden=(16, 16, 16), n_points=1000, test_ratio=0.0))
    x, y = sample_for(r.model, r.data.x_train, r.data.y_train, 51)
    assert 50 <= len(x) < 1000
    one = flat(r.model.params())
    assert losses_at(r.model, one[None], r.data.x_train, r.data.y_train)[0] == pytest.approx(
        r.model.loss(r.data.x_train, r.data.y_train), rel=1e-5)
