"""Position-sensitive RoI pooling (R-FCN, Dai et al. 2016, Eq. 1) with TensorFlow ops only.

For a RoI split into k x k bins, bin (i, j) of output channel d is the average of score map
``(d * k + i) * k + j`` over the pixels of that bin; voting then averages the k x k bins (the
release's ``ave_pooling`` over the pooled map). Channel ordering, as the authors' release
(``psroi_pooling_layer.cu``: ``c = (ctop * group_size + gh) * group_size + gw``): output-dim-major,
then bin row, then bin column. (The TF Object Detection API's ``position_sensitive_crop_regions``
orders channels bin-major instead; weights converted from one do not fit the other unpermuted.)

Bins follow the release exactly, in its float32 arithmetic:
  * the RoI in image pixels, inclusive ends (x1, y1, x2, y2), is rounded (C's ``round``: halves away
    from zero) and scaled by ``spatial_scale`` (1 / feature stride):
    start = round(x1) * s, end = (round(x2) + 1) * s; width = max(end - start, 0.1);
  * bin j spans [floor(j * width / k + start), ceil((j + 1) * width / k + start)), clipped to the
    map; an empty bin gives 0.
Boxes come in the repository's convention, ``[ymin, xmin, ymax, xmax]`` normalised to [0, 1]; the
pixel box is ``xmin * W`` to ``xmax * W - 1`` (the whole image is [0, W - 1], as py-faster-rcnn's).

Sums come from a summed-area table of the maps (float64, so that a bin's sum is a difference of
large numbers without float32 cancellation), gathered at each bin's four corners; gradients flow
through the gather and the cumulative sums, and equal the release's backward pass (each pixel of a
bin receives the bin's gradient over its area).
"""
import tensorflow.compat.v1 as tf

# The release's spatial_scale for stride-16 features (rfcn_end2end prototxts: 0.0625).
DEFAULT_SPATIAL_SCALE = 1.0 / 16
_MIN_ROI_SIZE = 0.1  # the release: "Force too small ROIs to be 1x1" (max(end - start, 0.1))


def _c_round(values):
    """C's ``round`` (halves away from zero); ``tf.round`` rounds halves to even."""
    return tf.sign(values) * tf.floor(tf.abs(values) + 0.5)


def pixel_boxes(boxes, image_height, image_width):
    """Normalised ``[N, 4]`` ``[ymin, xmin, ymax, xmax]`` -> the release's inclusive pixel boxes,
    float32 ``[N, 4]`` as ``[y1, x1, y2, x2]``."""
    ymin, xmin, ymax, xmax = tf.unstack(tf.cast(boxes, tf.float32), axis=1)
    height, width = tf.cast(image_height, tf.float32), tf.cast(image_width, tf.float32)
    return tf.stack([ymin * height, xmin * width, ymax * height - 1.0, xmax * width - 1.0], axis=1)


def bin_edges(start_pixels, end_pixels, k, spatial_scale, size):
    """int32 ``[N, k]`` starts and ends (exclusive) of the k bins along one axis of a map of
    ``size`` cells, for inclusive pixel extents ``start_pixels`` to ``end_pixels`` (``[N]``)."""
    start = _c_round(start_pixels) * spatial_scale
    end = (_c_round(end_pixels) + 1.0) * spatial_scale
    bin_size = tf.maximum(end - start, _MIN_ROI_SIZE) / float(k)
    index = tf.range(k, dtype=tf.float32)[None, :]
    lower = tf.floor(index * bin_size[:, None] + start[:, None])
    upper = tf.math.ceil((index + 1.0) * bin_size[:, None] + start[:, None])
    size = tf.cast(size, tf.float32)
    return (tf.cast(tf.clip_by_value(lower, 0.0, size), tf.int32),
            tf.cast(tf.clip_by_value(upper, 0.0, size), tf.int32))


def _summed_area_table(score_maps, k, output_dim):
    """float64 ``[batch, H + 1, W + 1, k, k, output_dim]``: sums of each map over [0, h) x [0, w)."""
    maps = tf.cast(score_maps, tf.float64)
    shape = tf.shape(maps)
    maps = tf.reshape(maps, [shape[0], shape[1], shape[2], output_dim, k, k])
    maps = tf.transpose(maps, [0, 1, 2, 4, 5, 3])  # (d, i, j) -> (i, j, d): gathers by bin
    table = tf.cumsum(tf.cumsum(maps, axis=1), axis=2)
    return tf.pad(table, [[0, 0], [1, 0], [1, 0], [0, 0], [0, 0], [0, 0]])


def position_sensitive_roi_pool(score_maps, boxes, box_indices, image_shape, k, output_dim,
                                spatial_scale=DEFAULT_SPATIAL_SCALE):
    """The bins of Eq. (1) before voting.

    Args:
      score_maps: float ``[batch, H, W, k * k * output_dim]``, channel ``(d * k + i) * k + j``.
      boxes: float ``[N, 4]`` normalised ``[ymin, xmin, ymax, xmax]`` of the network's input image.
      box_indices: int32 ``[N]``: the batch element of each box.
      image_shape: (height, width) of the network's input image in pixels (ints or scalar tensors).
      k: bins per side (the paper: 7).
      output_dim: maps per bin (C + 1 classes, or 4 box offsets).
      spatial_scale: feature map cells per input pixel (1 / stride).

    Returns:
      float32 ``[N, k, k, output_dim]``: bin (i, j) of every output channel.
    """
    with tf.name_scope('PositionSensitiveRoIPool'):
        channels = score_maps.shape.as_list()[-1]
        if channels is not None and channels != k * k * output_dim:
            raise ValueError('position-sensitive maps need k * k * output_dim = %d channels, got %d'
                             % (k * k * output_dim, channels))
        map_height, map_width = tf.shape(score_maps)[1], tf.shape(score_maps)[2]
        pixels = pixel_boxes(boxes, image_shape[0], image_shape[1])
        h_start, h_end = bin_edges(pixels[:, 0], pixels[:, 2], k, spatial_scale, map_height)
        w_start, w_end = bin_edges(pixels[:, 1], pixels[:, 3], k, spatial_scale, map_width)
        table = _summed_area_table(score_maps, k, output_dim)
        num_boxes = tf.shape(boxes)[0]
        batch = tf.broadcast_to(tf.cast(box_indices, tf.int32)[:, None, None], [num_boxes, k, k])
        bin_i = tf.broadcast_to(tf.range(k)[None, :, None], [num_boxes, k, k])
        bin_j = tf.broadcast_to(tf.range(k)[None, None, :], [num_boxes, k, k])

        def corner(rows, columns):  # [N, k] rows of bin i, [N, k] columns of bin j -> [N, k, k, D]
            rows = tf.broadcast_to(rows[:, :, None], [num_boxes, k, k])
            columns = tf.broadcast_to(columns[:, None, :], [num_boxes, k, k])
            return tf.gather_nd(table, tf.stack([batch, rows, columns, bin_i, bin_j], axis=-1))

        sums = (corner(h_end, w_end) - corner(h_start, w_end) - corner(h_end, w_start)
                + corner(h_start, w_start))
        heights = tf.cast(h_end - h_start, tf.float64)[:, :, None, None]
        widths = tf.cast(w_end - w_start, tf.float64)[:, None, :, None]
        area = heights * widths
        averages = tf.where(tf.broadcast_to(area > 0, tf.shape(sums)), sums / tf.maximum(area, 1.0),
                            tf.zeros_like(sums))
        return tf.cast(averages, score_maps.dtype)


def vote(bins):
    """``[N, k, k, D]`` -> ``[N, D]``: the average over the k x k bins (Eq. 1's voting; the release's
    ``ave_pooling`` of kernel k)."""
    return tf.reduce_mean(bins, axis=[1, 2])
