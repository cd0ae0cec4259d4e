"""ops/ps_roi_pooling.py against a NumPy restatement of the authors' release
(psroi_pooling_layer.cu: forward and backward loops over each bin's pixels, in float32)."""
import math

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from tf1zoo.ops import ps_roi_pooling


def _c_round(value):
    return math.copysign(math.floor(abs(value) + 0.5), value)


def _release_bins(roi, k, scale, height, width):
    """The kernel's [hstart, hend) x [wstart, wend) for every bin (ph, pw), float32 as in CUDA."""
    x1, y1, x2, y2 = (np.float32(value) for value in roi)
    f = np.float32
    start_w, start_h = f(_c_round(x1)) * f(scale), f(_c_round(y1)) * f(scale)
    end_w, end_h = f(_c_round(x2) + 1.0) * f(scale), f(_c_round(y2) + 1.0) * f(scale)
    bin_w = max(end_w - start_w, f(0.1)) / f(k)
    bin_h = max(end_h - start_h, f(0.1)) / f(k)
    for ph in range(k):
        for pw in range(k):
            hs = min(max(math.floor(f(ph) * bin_h + start_h), 0), height)
            he = min(max(math.ceil(f(ph + 1) * bin_h + start_h), 0), height)
            ws = min(max(math.floor(f(pw) * bin_w + start_w), 0), width)
            we = min(max(math.ceil(f(pw + 1) * bin_w + start_w), 0), width)
            yield ph, pw, hs, he, ws, we


def release_forward(maps, rois, indices, k, dim, scale):
    """maps [B, H, W, k*k*dim] (channel (d*k+i)*k+j), rois [N, 4] inclusive pixel (x1, y1, x2, y2)."""
    _, height, width, _ = maps.shape
    out = np.zeros((len(rois), k, k, dim), np.float64)
    for n, roi in enumerate(rois):
        for ph, pw, hs, he, ws, we in _release_bins(roi, k, scale, height, width):
            if he <= hs or we <= ws:
                continue
            for d in range(dim):
                c = (d * k + ph) * k + pw
                out[n, ph, pw, d] = maps[indices[n], hs:he, ws:we, c].sum() / ((he - hs) * (we - ws))
    return out


def release_backward(maps_shape, top_diff, rois, indices, k, dim, scale):
    _, height, width, _ = maps_shape
    grad = np.zeros(maps_shape, np.float64)
    for n, roi in enumerate(rois):
        for ph, pw, hs, he, ws, we in _release_bins(roi, k, scale, height, width):
            if he <= hs or we <= ws:
                continue
            for d in range(dim):
                grad[indices[n], hs:he, ws:we, (d * k + ph) * k + pw] += \
                    top_diff[n, ph, pw, d] / ((he - hs) * (we - ws))
    return grad


def _normalised(rois, image_height, image_width):
    """Inclusive pixel (x1, y1, x2, y2) -> normalised [ymin, xmin, ymax, xmax] (the op's input)."""
    rois = np.asarray(rois, np.float64)
    return np.stack([rois[:, 1] / image_height, rois[:, 0] / image_width,
                     (rois[:, 3] + 1) / image_height, (rois[:, 2] + 1) / image_width], 1).astype(np.float32)


def _pool(maps, boxes, indices, image_shape, k, dim, scale, upstream=None):
    with tf.Graph().as_default():
        maps_t = tf.constant(maps)
        bins = ps_roi_pooling.position_sensitive_roi_pool(maps_t, tf.constant(boxes),
                                                          tf.constant(indices), image_shape, k, dim,
                                                          scale)
        fetches = [bins, ps_roi_pooling.vote(bins)]
        if upstream is not None:
            fetches.append(tf.gradients(tf.reduce_sum(bins * upstream), maps_t)[0])
        with tf.Session() as session:
            return session.run(fetches)


# Image 256 x 384 at stride 16: a 16 x 24 map. Boxes as integer pixel extents (exact in float32).
_IMAGE = (256, 384)
_ROIS = [
    [0, 0, 383, 255],       # the whole image
    [37, 50, 200, 130],     # bins of unequal sizes, edges rounded outward
    [100, 20, 103, 25],     # smaller than a cell: bins overlap, some repeat one cell
    [350, 240, 500, 300],   # across the right and bottom edges: clipped bins
    [500, 300, 600, 400],   # wholly outside: every bin empty, 0
    [5, 7, 5, 7],           # one pixel: the 0.1 minimum size
]


@pytest.mark.parametrize('k,dim', [(3, 2), (7, 3)])
def test_bins_and_votes_match_the_release(k, dim):
    rng = np.random.default_rng(k)
    maps = rng.normal(size=(2, 16, 24, k * k * dim)).astype(np.float32)
    indices = np.array([0, 1, 0, 1, 0, 1], np.int32)
    bins, votes = _pool(maps, _normalised(_ROIS, *_IMAGE), indices, _IMAGE, k, dim, 1 / 16)
    expected = release_forward(maps, _ROIS, indices, k, dim, 1 / 16)
    np.testing.assert_allclose(bins, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(votes, expected.mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)
    assert not bins[4].any()                      # outside the map: zeros
    assert bins[3, 0, 0].all() and not bins[3, -1, -1].any()  # across the edge: bins past it empty


def test_the_channel_of_bin_i_j_is_d_k_k_plus_i_k_plus_j():
    k, dim = 3, 2
    maps = np.zeros((1, 6, 6, k * k * dim), np.float32)
    maps[0, :, :, (1 * k + 2) * k + 0] = 5.0      # d = 1, bin row 2, bin column 0
    bins, _ = _pool(maps, _normalised([[0, 0, 95, 95]], 96, 96), np.zeros(1, np.int32), (96, 96),
                    k, dim, 1 / 16)
    expected = np.zeros((1, k, k, dim))
    expected[0, 2, 0, 1] = 5.0
    np.testing.assert_array_equal(bins, expected)


def test_halves_round_away_from_zero_as_c_round():
    # At scale 1 a RoI starting at pixel 2.5 starts at column 3 (C's round), not 2 (tf.round).
    k, dim = 1, 1
    maps = np.arange(16, dtype=np.float32).reshape(1, 1, 16, 1) * np.ones((1, 4, 1, 1), np.float32)
    rois = [[2.5, 0, 6, 3]]
    boxes = np.array([[0, 2.5 / 16, 1, 7 / 16]], np.float32)
    bins, _ = _pool(maps, boxes, np.zeros(1, np.int32), (4, 16), k, dim, 1.0)
    np.testing.assert_allclose(bins[0, 0, 0, 0], np.mean([3, 4, 5, 6]))
    np.testing.assert_allclose(bins, release_forward(maps, rois, [0], k, dim, 1.0))


def test_gradients_match_the_release_backward_pass():
    k, dim = 3, 2
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(2, 16, 24, k * k * dim)).astype(np.float32)
    indices = np.array([0, 1, 0, 1, 0, 1], np.int32)
    upstream = rng.normal(size=(len(_ROIS), k, k, dim)).astype(np.float32)
    *_, grad = _pool(maps, _normalised(_ROIS, *_IMAGE), indices, _IMAGE, k, dim, 1 / 16, upstream)
    expected = release_backward(maps.shape, upstream, _ROIS, indices, k, dim, 1 / 16)
    np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-6)


def test_maps_of_the_wrong_depth_are_refused():
    with tf.Graph().as_default(), pytest.raises(ValueError, match='k \\* k \\* output_dim = 18'):
        ps_roi_pooling.position_sensitive_roi_pool(tf.zeros([1, 4, 4, 17]), tf.zeros([1, 4]),
                                                   tf.zeros([1], tf.int32), (64, 64), 3, 2)


def test_numeric_gradients_of_a_float64_pool():
    # Finite differences on float64 maps: bins are piecewise constant in the boxes, linear in the maps.
    k, dim = 2, 2
    rng = np.random.default_rng(3)
    maps = rng.normal(size=(1, 5, 6, k * k * dim))
    boxes = _normalised([[3, 2, 70, 50], [40, 30, 95, 79], [10, 10, 11, 11]], 80, 96)
    with tf.Graph().as_default(), tf.Session():
        maps_t = tf.constant(maps)
        bins = ps_roi_pooling.position_sensitive_roi_pool(maps_t, tf.constant(boxes),
                                                          tf.zeros([3], tf.int32), (80, 96), k, dim)
        theoretical, numerical = tf.test.compute_gradient(maps_t, maps.shape, bins, [3, k, k, dim],
                                                          x_init_value=maps, delta=1e-4)
    np.testing.assert_allclose(theoretical, numerical, atol=1e-6)
    assert np.abs(theoretical).sum() > 0
