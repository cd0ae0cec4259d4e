"""YOLO v1's grid box coder: boxes as a cell's centre offset and square-root sizes (Redmon et al. 2016).

The image is divided into an S x S grid, cells numbered row-major (``cell = row * S + col``, top row
first). A box with centre ``(yc, xc)`` and size ``(h, w)``, all normalised to the image, belongs to the
cell holding its centre, ``col = floor(xc * S)``, ``row = floor(yc * S)``, and is coded in darknet's
order ``(x, y, w, h)``, as darknet's ``fill_truth_region`` (src/data.c) writes its targets and its
detection layer reads its predictions:

    x = xc * S - col        y = yc * S - row         (offsets within the cell, in [0, 1))
    w = sqrt(w_box)         h = sqrt(h_box)          (the paper's sec. 2.2; ``sqrt=1`` in the cfgs)

and decoded back as ``xc = (x + col) / S``, ``w_box = w * w`` (``get_detection_detections``,
src/detection_layer.c). Outside this coder every box is normalised ``[ymin, xmin, ymax, xmax]``.

A centre on the right or bottom edge (``xc = 1``) lies in the last cell (darknet would index one past
the grid there).
"""
from tf1zoo.ops import compat  # noqa: F401, I001  (TF 2.21 graph-mode set-up; must precede TF)
import tensorflow.compat.v1 as tf

from tf1zoo.ops import box_list_ops


class GridBoxCoder:
    """Encodes boxes into (cell, code) pairs and decodes a grid of codes into boxes.

    Args:
      grid_size: S, the cells per side (7 in the paper).
      sqrt: code sizes as square roots (the paper's and every published cfg's); False codes them
        as they are.
    """

    code_size = 4

    def __init__(self, grid_size=7, sqrt=True):
        if grid_size < 1:
            raise ValueError('grid_size must be >= 1, got %r' % grid_size)
        self.grid_size = int(grid_size)
        self.sqrt = bool(sqrt)

    @property
    def num_cells(self):
        return self.grid_size * self.grid_size

    def cell_offsets(self):
        """float32 ``[S * S, 2]``: each cell's ``(col, row)``, row-major."""
        cells = tf.range(self.num_cells)
        return tf.cast(tf.stack([cells % self.grid_size, cells // self.grid_size], axis=1), tf.float32)

    def encode(self, boxes, scope=None):
        """Boxes -> the cells holding their centres and their codes.

        Args:
          boxes: float32 ``[..., 4]`` normalised ``[ymin, xmin, ymax, xmax]``.

        Returns:
          (cells int32 ``[...]``, codes float32 ``[..., 4]`` in the order ``(x, y, w, h)``).
        """
        with tf.name_scope(scope, 'GridEncode', [boxes]):
            ycenter, xcenter, height, width = tf.unstack(
                box_list_ops.corners_to_center_size(boxes), axis=-1)
            size = float(self.grid_size)
            col = tf.clip_by_value(tf.floor(xcenter * size), 0.0, size - 1)
            row = tf.clip_by_value(tf.floor(ycenter * size), 0.0, size - 1)
            codes = [xcenter * size - col, ycenter * size - row, self._code_size(width),
                     self._code_size(height)]
            cells = tf.cast(row, tf.int32) * self.grid_size + tf.cast(col, tf.int32)
            return cells, tf.stack(codes, axis=-1)

    def decode(self, codes, scope=None):
        """A grid of codes -> boxes.

        Args:
          codes: float32 ``[..., S * S, B, 4]``: B codes ``(x, y, w, h)`` per cell, cells row-major.

        Returns:
          float32 ``[..., S * S, B, 4]`` normalised ``[ymin, xmin, ymax, xmax]`` (not clipped).
        """
        with tf.name_scope(scope, 'GridDecode', [codes]):
            x, y, w, h = tf.unstack(codes, axis=-1)
            offsets = self.cell_offsets()
            col, row = offsets[:, 0:1], offsets[:, 1:2]  # [S * S, 1]: broadcast over the B codes
            size = float(self.grid_size)
            center_size = tf.stack([(y + row) / size, (x + col) / size, self._box_size(h),
                                    self._box_size(w)], axis=-1)
            return box_list_ops.center_size_to_corners(center_size)

    def _code_size(self, size):
        return tf.sqrt(tf.maximum(size, 0.0)) if self.sqrt else size

    def _box_size(self, code):
        return code * code if self.sqrt else code
