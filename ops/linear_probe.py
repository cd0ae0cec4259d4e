"""A linear classifier on fixed features: DCGAN's test of its discriminator's features (sec. 5.1).

The paper trains a regularised L2-SVM (one-vs-rest, squared hinge loss) on features of labelled real
images and reports held-out accuracy; this is that classifier, on standardised features, fitted
by L-BFGS (scipy). ``features`` are ``[n, d]``, labels int ``[n]`` in [0, num_classes).
"""
import dataclasses

import numpy as np
from scipy import optimize


@dataclasses.dataclass(frozen=True)
class LinearProbe:
    """A fitted probe: the standardisation of the training features, then ``x @ weights + biases``."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray   # [d, num_classes]
    biases: np.ndarray    # [num_classes]

    def scores(self, features):
        return ((np.asarray(features, np.float64) - self.mean) / self.scale) @ self.weights + self.biases

    def predict(self, features):
        return np.argmax(self.scores(features), axis=1)

    def accuracy(self, features, labels):
        return float(np.mean(self.predict(features) == np.asarray(labels)))


def _squared_hinge(parameters, features, signs, l2):
    dimension, classes = features.shape[1], signs.shape[1]
    weights = parameters[:dimension * classes].reshape(dimension, classes)
    biases = parameters[dimension * classes:]
    margins = np.maximum(0.0, 1.0 - signs * (features @ weights + biases))
    loss = np.sum(margins ** 2) / len(features) + 0.5 * l2 * np.sum(weights ** 2)
    slack = -2.0 * signs * margins / len(features)
    gradient = np.concatenate([(features.T @ slack + l2 * weights).ravel(), slack.sum(axis=0)])
    return loss, gradient


def fit_l2_svm(features, labels, num_classes, l2=1e-3, max_iterations=500):
    """Fits the one-vs-rest L2-SVM (squared hinge, L2 penalty ``l2`` on the weights)."""
    features = np.asarray(features, np.float64)
    labels = np.asarray(labels)
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-8
    standardised = (features - mean) / scale
    signs = np.where(labels[:, None] == np.arange(num_classes)[None, :], 1.0, -1.0)
    start = np.zeros(standardised.shape[1] * num_classes + num_classes)
    result = optimize.minimize(_squared_hinge, start, args=(standardised, signs, l2), jac=True,
                               method='L-BFGS-B', options={'maxiter': max_iterations})
    dimension = standardised.shape[1]
    return LinearProbe(mean=mean, scale=scale,
                       weights=result.x[:dimension * num_classes].reshape(dimension, num_classes),
                       biases=result.x[dimension * num_classes:])
