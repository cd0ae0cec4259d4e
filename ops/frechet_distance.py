"""The Frechet distance between two Gaussians (FID's measure, Heusel et al. 2017, Eq. 6), NumPy only.

    d^2 = ||mu_1 - mu_2||^2 + tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2))

tr((S_1 S_2)^(1/2)) is computed as the sum of the square roots of the eigenvalues of the symmetric
matrix S_1^(1/2) S_2 S_1^(1/2), which has the same eigenvalues as S_1 S_2: no complex matrix square
root, and round-off's small negative eigenvalues are clipped to 0. ``features`` are ``[n, d]``.
"""
import numpy as np


def gaussian_statistics(features):
    """(mean ``[d]``, covariance ``[d, d]``, unbiased) of ``[n, d]`` features, in float64."""
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError('features must be [n >= 2, d], got shape %s' % (features.shape,))
    return features.mean(axis=0), np.cov(features, rowvar=False).reshape(
        features.shape[1], features.shape[1])


def _symmetric_sqrt(matrix):
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(mean_1, covariance_1, mean_2, covariance_2):
    """d^2 between N(mean_1, covariance_1) and N(mean_2, covariance_2) (>= 0, up to round-off)."""
    root_1 = _symmetric_sqrt(np.asarray(covariance_1, np.float64))
    middle = root_1 @ np.asarray(covariance_2, np.float64) @ root_1
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    difference = np.asarray(mean_1, np.float64) - np.asarray(mean_2, np.float64)
    return float(difference @ difference + np.trace(covariance_1) + np.trace(covariance_2)
                 - 2 * trace_sqrt)


def feature_frechet_distance(features_1, features_2):
    """d^2 between Gaussians fitted to two ``[n, d]`` feature sets (FID when they are pool3's)."""
    return frechet_distance(*gaussian_statistics(features_1), *gaussian_statistics(features_2))
