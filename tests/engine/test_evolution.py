"""Neuroevolution: the batched population pass against a loop over individuals, GA and ES learning
xor and moons from a fixed seed, reproducibility, elitism, rank shaping and live settings."""
import dataclasses

import numpy as np
import pytest

from nnviz.data.toy import make_dataset
from nnviz.engine.evolution import (
    EvolutionConfig,
    EvolutionStrategies,
    GeneticAlgorithm,
    GenerationStats,
    Layout,
    PopulationForward,
    centred_ranks,
    make_evolution,
    population_accuracy,
    population_loss,
)
from nnviz.engine.model import MLP
from nnviz.engine.training import TrainConfig, Trainer


def _data(name, n=300, seed=0):
    return make_dataset(name, n, 0.2 if name == "moons" else 0.1, 0.5, np.random.default_rng(seed))


def _model(hidden=(8, 8), activation="tanh", output="softmax", loss="cross_entropy", seed=1, n_in=2, k=2):
    return MLP.create((n_in, *hidden, k), activation, output, loss, "glorot", np.random.default_rng(seed))


@pytest.mark.parametrize("activation,output,loss,k", [("tanh", "softmax", "cross_entropy", 3),
                                                      ("tanh", "softmax", "cross_entropy", 2),
                                                      ("relu", "softmax", "quadratic", 3),
                                                      ("sigmoid", "sigmoid", "cross_entropy", 2),
                                                      ("leaky_relu", "sigmoid", "quadratic", 3),
                                                      ("linear", "softmax", "cross_entropy", 4)])
def test_batched_forward_equals_a_loop_over_individuals(activation, output, loss, k):
    rng = np.random.default_rng(3)
    base = _model((5, 3), activation, output, loss, n_in=3, k=k)
    layout = Layout(base.arch)
    pop = (rng.standard_normal((7, layout.n_params)) * 2.0).astype(np.float32)
    x = rng.uniform(-1.5, 1.5, (40, 3)).astype(np.float32)
    y = rng.integers(0, k, 40)
    z = PopulationForward(layout, x).logits(pop).copy()
    assert z.shape == (7, k, 40)
    onehot_t = np.ascontiguousarray(base.targets(y).T)
    losses = population_loss(base.arch, z, y, onehot_t)
    accs = population_accuracy(z, y)
    for i in range(len(pop)):
        one = layout.to_model(pop[i])
        np.testing.assert_allclose(z[i].T, one.logits(x), rtol=1e-4, atol=1e-5)
        expected_loss, expected_acc = one.evaluate(x, y)
        assert losses[i] == pytest.approx(expected_loss, rel=1e-4, abs=1e-6)
        assert accs[i] == pytest.approx(expected_acc)


def test_a_large_population_goes_through_in_slices_with_the_same_result(monkeypatch):
    rng = np.random.default_rng(4)
    layout = Layout(_model((6, 5)).arch)
    pop = rng.standard_normal((11, layout.n_params)).astype(np.float32)
    x = rng.uniform(-1, 1, (50, 2)).astype(np.float32)
    whole = PopulationForward(layout, x).logits(pop).copy()
    monkeypatch.setattr(PopulationForward, "BUFFER_NUMBERS", 4 * (7 + 6) * 50)  # 4 individuals a slice
    sliced = PopulationForward(layout, x)
    assert sliced.rows == 4
    np.testing.assert_allclose(sliced.logits(pop), whole, rtol=1e-6)
    assert len(sliced._buffers[0]) == 4


def test_layout_round_trips_a_model():
    model = _model((4, 3))
    layout = Layout(model.arch)
    vec = layout.flatten(model)
    assert vec.shape == (model.n_params,) == (layout.n_params,)
    back = layout.to_model(vec)
    for a, b in zip(model.params(), back.params()):
        np.testing.assert_array_equal(a, b)
    assert layout.weight_mask.sum() == sum(w.size for w in model.weights)


def _run(method, dataset, generations, seed=2, **config):
    data = _data(dataset)
    evo = make_evolution(method, _model(), data, EvolutionConfig(**config), np.random.default_rng(seed))
    return evo, list(evo.generations(generations))


# Stated accuracies for seed 2 on 150 train / 150 test points, a 2-8-8-2 tanh network, population 100.
@pytest.mark.parametrize("method,dataset,generations,accuracy", [
    ("ga", "moons", 60, 0.95), ("ga", "xor", 60, 0.93),
    ("es", "moons", 80, 0.95), ("es", "xor", 60, 0.93)])
def test_each_method_learns(method, dataset, generations, accuracy):
    evo, stats = _run(method, dataset, generations)
    assert stats[0].test_acc < 0.9  # it had something to learn
    assert stats[-1].test_acc >= accuracy and stats[-1].train_acc >= accuracy
    assert stats[-1].train_loss < 0.5 * stats[0].train_loss
    # the stats describe the model that evolution leaves behind
    loss, acc = evo.model.evaluate(evo.data.x_test, evo.data.y_test)
    assert (loss, acc) == pytest.approx((stats[-1].test_loss, stats[-1].test_acc), rel=1e-6)


def test_backprop_learns_the_same_tasks_for_comparison():
    for name in ("moons", "xor"):
        data = _data(name)
        trainer = Trainer(_model(), data, TrainConfig("sgd", 0.3, 10), np.random.default_rng(2))
        last = list(trainer.epochs(60))[-1]
        assert last.test_acc >= 0.93
        assert last.forward_passes == 60 * len(data.y_train)
        assert last.total_seconds == pytest.approx(sum(s.seconds for s in trainer.history))


@pytest.mark.parametrize("method", ["ga", "es"])
def test_same_seed_same_run(method):
    strip = lambda run: [dataclasses.replace(s, seconds=0.0, total_seconds=0.0) for s in run[1]]
    a, b = strip(_run(method, "moons", 8)), strip(_run(method, "moons", 8))
    assert a == b
    assert a != strip(_run(method, "moons", 8, seed=5))


@pytest.mark.parametrize("method", ["ga", "es"])
def test_stats_count_forward_passes_and_are_immutable(method):
    evo, stats = _run(method, "moons", 3, population=20)
    assert all(isinstance(s, GenerationStats) for s in stats)
    assert [s.generation for s in stats] == [1, 2, 3]
    assert [s.forward_passes for s in stats] == [g * 20 * 150 for g in (1, 2, 3)]
    assert stats[-1].total_seconds == pytest.approx(sum(s.seconds for s in stats))
    assert all(np.isfinite(s.mean_fitness) and s.mean_fitness < 0 for s in stats)
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats[0].test_acc = 1.0
    assert set(stats[0].as_dict()) >= {"epoch", "train_loss", "test_loss", "train_acc", "test_acc",
                                       "forward_passes", "mean_fitness", "seconds"}
    assert evo.history == stats


def test_ga_elitism_never_loses_the_best():
    evo, stats = _run("ga", "xor", 25, population=30, elite=0.1, crossover=0.5)
    best = [-s.train_loss for s in stats]  # the whole training set is the fitness set here
    assert all(b2 >= b1 - 1e-6 for b1, b2 in zip(best, best[1:]))
    assert evo.sigma == pytest.approx(0.1 * 0.995 ** 25)
    top = evo.top_models(4)
    assert len(top) == 4
    fit = [-m.evaluate(evo.data.x_train, evo.data.y_train)[0] for m in top]
    assert fit == sorted(fit, reverse=True)


def test_ga_starts_from_the_models_weights():
    model = _model()
    start = Layout(model.arch).flatten(model)
    ga = GeneticAlgorithm(model, _data("xor"), EvolutionConfig(population=10), np.random.default_rng(0))
    np.testing.assert_array_equal(ga.population[0], start)
    assert not np.allclose(ga.population[1], start)


def test_population_can_change_between_generations():
    evo, _ = _run("ga", "moons", 2, population=20)
    evo.reconfigure(dataclasses.replace(evo.config, population=50, sigma=0.3))
    assert evo.population.shape[0] == 50 and evo.sigma == 0.3
    assert evo.train_epoch().forward_passes == (2 * 20 + 50) * 150
    evo.reconfigure(dataclasses.replace(evo.config, population=10))
    assert evo.population.shape[0] == 10
    es, _ = _run("es", "moons", 1, population=20)
    es.lr = 0.01
    assert es.optimizer.lr == 0.01
    es.reconfigure(dataclasses.replace(es.config, population=31))  # rounded up to antithetic pairs
    assert es.train_epoch().forward_passes == (20 + 32) * 150


def test_es_gradient_estimate_points_along_the_true_gradient():
    """With many antithetic pairs and small sigma, ES's step follows -dL/dtheta (backprop's)."""
    data = _data("moons")
    model = _model((4,))
    layout = Layout(model.arch)
    g = model.gradients(data.x_train.astype(np.float32), model.targets(data.y_train))
    true = -Layout(model.arch).flatten(MLP(model.arch, g.weights, g.biases))  # ascent direction of fitness
    es = EvolutionStrategies(model, data, EvolutionConfig(population=2000, sigma=0.01, optimizer="sgd", lr=1.0),
                             np.random.default_rng(0))
    before = es.theta.copy()
    es.train_epoch()
    step = es.theta - before
    cos = step @ true / (np.linalg.norm(step) * np.linalg.norm(true))
    assert cos > 0.8
    assert layout.n_params == len(step)


def test_centred_ranks_keep_only_the_order():
    f = np.array([3.0, -100.0, 0.5, 7.0, 2.0])
    u = centred_ranks(f)
    np.testing.assert_allclose(u, [0.25, -0.5, -0.25, 0.5, 0.0])
    np.testing.assert_array_equal(centred_ranks(np.exp(f)), u)


def test_nan_fitness_is_the_worst():
    model = _model((3,))
    layout = Layout(model.arch)
    pop = np.stack([layout.flatten(model)] * 3).astype(np.float32)
    pop[1, 0] = np.nan
    data = _data("moons")
    evo = GeneticAlgorithm(model, data, EvolutionConfig(population=3), np.random.default_rng(0))
    fitness, _ = evo.fitness(pop)
    assert fitness[1] == -np.inf and np.isfinite(fitness[[0, 2]]).all()


def test_bad_settings_are_refused_with_a_message():
    with pytest.raises(ValueError, match="population"):
        EvolutionConfig(population=1)
    with pytest.raises(ValueError, match="sigma"):
        EvolutionConfig(sigma=0.0)
    with pytest.raises(ValueError, match="elite"):
        EvolutionConfig(elite=1.0)
    with pytest.raises(ValueError, match="method"):
        make_evolution("pso", _model(), _data("moons"), EvolutionConfig(), np.random.default_rng(0))
