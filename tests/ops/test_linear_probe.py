"""The L2-SVM linear probe on separable and on label-free toy features."""
import numpy as np

from tf1zoo.ops import linear_probe


def _blobs(rng, centres, per_class, spread):
    labels = np.repeat(np.arange(len(centres)), per_class)
    return centres[labels] + rng.normal(size=(len(labels), centres.shape[1])) * spread, labels


def test_separable_classes_are_classified_on_held_out_points():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 10)) * 4
    train_x, train_y = _blobs(rng, centres, 40, 0.5)
    held_out_x, held_out_y = _blobs(rng, centres, 40, 0.5)
    probe = linear_probe.fit_l2_svm(train_x, train_y, 4)
    assert probe.accuracy(train_x, train_y) == 1.0
    assert probe.accuracy(held_out_x, held_out_y) >= 0.95


def test_features_without_information_give_chance_on_held_out_points():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(800, 20))
    labels = rng.integers(0, 4, 800)
    probe = linear_probe.fit_l2_svm(features[:400], labels[:400], 4, l2=1.0)
    assert abs(probe.accuracy(features[400:], labels[400:]) - 0.25) < 0.08
