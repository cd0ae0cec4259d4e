"""The Frechet distance against its closed form on known Gaussians and against scipy's sqrtm."""
import numpy as np
import pytest
from scipy import linalg

from tf1zoo.ops import frechet_distance as fd


def test_diagonal_gaussians_match_the_closed_form():
    # Commuting (diagonal) covariances: tr(S1 + S2 - 2 sqrt(S1 S2)) = sum (sqrt(a) - sqrt(b))^2.
    mean_1, mean_2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0])
    variances_1, variances_2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    expected = 1 + 0 + 4 + (1 - 2) ** 2 + (2 - 1) ** 2 + 0
    assert fd.frechet_distance(mean_1, np.diag(variances_1), mean_2,
                               np.diag(variances_2)) == pytest.approx(expected, abs=1e-10)


def test_one_dimensional_gaussians_are_the_2_wasserstein_distance():
    # N(m1, s1^2) vs N(m2, s2^2): (m1 - m2)^2 + (s1 - s2)^2.
    assert fd.frechet_distance([3.0], [[4.0]], [1.0], [[0.25]]) == pytest.approx(4 + 1.5 ** 2)


def test_random_features_match_scipy_sqrtm():
    rng = np.random.default_rng(0)
    features_1 = rng.normal(size=(500, 8)) @ rng.normal(size=(8, 8))
    features_2 = rng.normal(size=(400, 8)) @ rng.normal(size=(8, 8)) + 0.5
    mean_1, cov_1 = np.mean(features_1, 0), np.cov(features_1, rowvar=False)
    mean_2, cov_2 = np.mean(features_2, 0), np.cov(features_2, rowvar=False)
    reference = (np.sum((mean_1 - mean_2) ** 2) + np.trace(cov_1) + np.trace(cov_2)
                 - 2 * np.trace(linalg.sqrtm(cov_1 @ cov_2)).real)
    assert fd.feature_frechet_distance(features_1, features_2) == pytest.approx(reference, rel=1e-8)
    assert fd.feature_frechet_distance(features_1, features_1) == pytest.approx(0.0, abs=1e-8)


def test_too_few_features_are_refused():
    with pytest.raises(ValueError, match='n >= 2'):
        fd.gaussian_statistics(np.zeros((1, 4)))
