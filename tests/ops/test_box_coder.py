"""CenterSizeBoxCoder: hand-computed codes, exact inverse, variances vs scale factors."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tf1zoo.ops import box_coder


def _eval(fn):
    with tf.Graph().as_default(), tf.Session() as session:
        return session.run(fn())


def test_encode_hand_computed():
    anchor = np.array([[0.2, 0.2, 0.6, 0.4]], np.float32)   # centre (0.4, 0.3), h 0.4, w 0.2
    box = np.array([[0.3, 0.1, 0.5, 0.5]], np.float32)      # centre (0.4, 0.3), h 0.2, w 0.4
    shifted = np.array([[0.24, 0.22, 0.64, 0.42]], np.float32)  # centre moved by (0.04, 0.02)
    coder = box_coder.CenterSizeBoxCoder()  # SSD variances 0.1, 0.1, 0.2, 0.2
    codes = _eval(lambda: coder.encode(np.concatenate([box, shifted]), np.repeat(anchor, 2, 0)))
    np.testing.assert_allclose(codes[0], [0, 0, np.log(0.5) / 0.2, np.log(2.0) / 0.2], atol=1e-5)
    # ty = 0.04 / 0.4 / 0.1 = 1, tx = 0.02 / 0.2 / 0.1 = 1.
    np.testing.assert_allclose(codes[1], [1, 1, 0, 0], atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(centres=hnp.arrays(np.float32, (2, 5, 2), elements=st.floats(0.05, 0.95).map(np.float32)),
       sizes=hnp.arrays(np.float32, (2, 5, 2), elements=st.floats(0.01, 1.0).map(np.float32)),
       variances=st.sampled_from([(0.1, 0.1, 0.2, 0.2), (1.0, 1.0, 1.0, 1.0), (0.1, 0.2, 0.3, 0.4)]))
def test_decode_inverts_encode_batched(centres, sizes, variances):
    boxes = np.concatenate([centres[0] - sizes[0] / 2, centres[0] + sizes[0] / 2], -1)
    anchors = np.concatenate([centres[1] - sizes[1] / 2, centres[1] + sizes[1] / 2], -1)
    coder = box_coder.CenterSizeBoxCoder(variances=variances)
    batch_boxes = np.stack([boxes, boxes[::-1]])
    decoded, decoded_per_image = _eval(lambda: (
        coder.decode(coder.encode(batch_boxes, anchors), anchors),
        coder.decode(coder.encode(batch_boxes, np.stack([anchors] * 2)), np.stack([anchors] * 2))))
    np.testing.assert_allclose(decoded, batch_boxes, atol=2e-5)
    np.testing.assert_allclose(decoded_per_image, batch_boxes, atol=2e-5)


def test_scale_factors_are_inverse_variances():
    boxes = np.array([[0.1, 0.2, 0.5, 0.7]], np.float32)
    anchors = np.array([[0.15, 0.1, 0.45, 0.6]], np.float32)
    by_variance = box_coder.CenterSizeBoxCoder(variances=(0.1, 0.1, 0.2, 0.2))
    by_scale = box_coder.CenterSizeBoxCoder(scale_factors=(10, 10, 5, 5))
    a, b = _eval(lambda: (by_variance.encode(boxes, anchors), by_scale.encode(boxes, anchors)))
    np.testing.assert_allclose(a, b, rtol=1e-6)
    assert by_scale.variances == pytest.approx((0.1, 0.1, 0.2, 0.2))


def test_degenerate_box_encodes_finite():
    codes = _eval(lambda: box_coder.CenterSizeBoxCoder().encode(
        np.array([[0.5, 0.5, 0.5, 0.6]], np.float32), np.array([[0.4, 0.4, 0.6, 0.6]], np.float32)))
    assert np.isfinite(codes).all()


def test_bad_arguments():
    with pytest.raises(ValueError):
        box_coder.CenterSizeBoxCoder(variances=(0.1, 0.1, 0.2, 0.2), scale_factors=(1, 1, 1, 1))
    with pytest.raises(ValueError):
        box_coder.CenterSizeBoxCoder(variances=(0.1, 0.0, 0.2, 0.2))
