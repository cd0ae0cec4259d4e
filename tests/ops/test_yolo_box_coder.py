"""YOLO v1's grid coder on hand-computed boxes, and the round trip."""
import numpy as np
import tensorflow.compat.v1 as tf

from tf1zoo.ops import yolo_box_coder


def _run(tensors):
    with tf.Session() as session:
        return session.run(tensors)


def test_a_box_is_coded_by_the_cell_of_its_centre():
    coder = yolo_box_coder.GridBoxCoder(grid_size=7)
    # Centre (y, x) = (0.3, 0.55): row floor(2.1) = 2, col floor(3.85) = 3, cell 2 * 7 + 3 = 17;
    # offsets (x, y) = (0.85, 0.1); size (h, w) = (0.16, 0.36) -> sqrt (0.6, 0.4).
    with tf.Graph().as_default():
        cells, codes = _run(coder.encode(tf.constant([[0.22, 0.37, 0.38, 0.73]])))
    assert cells.tolist() == [17]
    np.testing.assert_allclose(codes, [[0.85, 0.1, 0.6, 0.4]], atol=1e-6)


def test_a_centre_on_the_far_edge_lies_in_the_last_cell():
    coder = yolo_box_coder.GridBoxCoder(grid_size=7)
    with tf.Graph().as_default():
        cells, codes = _run(coder.encode(tf.constant([[0.8, 0.8, 1.2, 1.2]])))  # centre (1, 1)
    assert cells.tolist() == [48]
    np.testing.assert_allclose(codes[0, :2], [1.0, 1.0], atol=1e-6)


def test_decode_inverts_encode_in_every_cell():
    coder = yolo_box_coder.GridBoxCoder(grid_size=3)
    rng = np.random.default_rng(0)
    rows, cols = np.divmod(np.arange(9), 3)
    centres = (np.stack([rows, cols], axis=1) + rng.uniform(0.05, 0.95, (9, 2))) / 3  # one per cell
    sizes = rng.uniform(0.05, 0.5, (9, 2))
    boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1).astype(np.float32)
    with tf.Graph().as_default():
        cells, codes = coder.encode(tf.constant(boxes))
        decoded = coder.decode(tf.scatter_nd(cells[:, None], codes, [9, 4])[:, None, :])
        cells, decoded = _run((cells, decoded))
    assert cells.tolist() == list(range(9))
    np.testing.assert_allclose(decoded[:, 0], boxes, atol=1e-6)


def test_sizes_uncoded_without_sqrt():
    coder = yolo_box_coder.GridBoxCoder(grid_size=2, sqrt=False)
    with tf.Graph().as_default():
        _, codes = _run(coder.encode(tf.constant([[0.0, 0.0, 0.25, 0.5]])))
        boxes = _run(coder.decode(tf.constant(codes.reshape(1, 1, 4).repeat(4, 0))))
    np.testing.assert_allclose(codes, [[0.5, 0.25, 0.5, 0.25]], atol=1e-6)
    np.testing.assert_allclose(boxes[0, 0], [0.0, 0.0, 0.25, 0.5], atol=1e-6)
    np.testing.assert_allclose(boxes[3, 0], [0.5, 0.5, 0.75, 1.0], atol=1e-6)  # cell (1, 1)
