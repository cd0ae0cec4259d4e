"""Position-sensitive RoI pooling's time per image (benchmark_ps_roi_pooling.py): the repository's op
(`ps_roi_pooling`, a summed-area table read at each bin's four corners) beside a gather-based
alternative that reads every cell of every bin.

The alternative, `gathered_bins`, computes the same bins (the release's edges, `ps_roi_pooling.
bin_edges`) the direct way: for each RoI and bin, the cells of a window of ``max_bin_cells`` rows and
columns from the bin's start are gathered from the bin's own map, masked to the bin, summed and
divided by the area: O(R k^2 m^2 D) reads where the table needs O(R k^2 D) reads after one O(H W k^2 D)
pass. Both run forward and backward (training computes the gradient of the maps), on a map the size
of a full-width R-FCN's at shorter side 600 (38 x 50 cells, stride 16) with COCO's 81 classes and
k = 7, for the 300 test RoIs. Rounds alternate the two; a round's time is the median of
``num_iters`` runs after ``warmup_iters``.
"""
import dataclasses

import numpy as np
import tensorflow.compat.v1 as tf

from tf1zoo.engine import benchmarking
from tf1zoo.ops import ps_roi_pooling

SYSTEMS = ('summed_area_table', 'gather')
PARTS = ('forward', 'forward_backward')


@dataclasses.dataclass(frozen=True)
class PoolingSettings:
    map_height: int = 38   # a 600 x 800 input at stride 16
    map_width: int = 50
    k: int = 7
    output_dim: int = 81   # COCO's 80 classes and the background
    num_rois: int = 300    # the test proposals (rfcn_end2end_ohem's TEST.RPN_POST_NMS_TOP_N)
    max_bin_cells: int = 8  # the gather's window per bin side (a 600-pixel RoI's bins span 6 cells)
    warmup_iters: int = 2
    num_iters: int = 5
    rounds: int = 3
    seed: int = 0


def gathered_bins(score_maps, boxes, image_shape, k, output_dim, max_bin_cells,
                  spatial_scale=ps_roi_pooling.DEFAULT_SPATIAL_SCALE):
    """``[N, k, k, output_dim]``: `ps_roi_pooling.position_sensitive_roi_pool`'s bins of batch
    element 0, by gathering each bin's cells (bins longer than ``max_bin_cells`` are cut short)."""
    map_height, map_width = tf.shape(score_maps)[1], tf.shape(score_maps)[2]
    pixels = ps_roi_pooling.pixel_boxes(boxes, image_shape[0], image_shape[1])
    h_start, h_end = ps_roi_pooling.bin_edges(pixels[:, 0], pixels[:, 2], k, spatial_scale, map_height)
    w_start, w_end = ps_roi_pooling.bin_edges(pixels[:, 1], pixels[:, 3], k, spatial_scale, map_width)
    maps = tf.reshape(score_maps[0], [map_height, map_width, output_dim, k, k])
    maps = tf.transpose(maps, [3, 4, 0, 1, 2])  # [k, k, H, W, D]: each bin's own maps
    offsets = tf.range(max_bin_cells)
    rows = h_start[:, :, None] + offsets        # [N, k, m]
    columns = w_start[:, :, None] + offsets
    row_ok = rows < h_end[:, :, None]
    column_ok = columns < w_end[:, :, None]
    num_boxes = tf.shape(boxes)[0]
    shape = [num_boxes, k, k, max_bin_cells, max_bin_cells]
    index = tf.stack([
        tf.broadcast_to(tf.range(k)[None, :, None, None, None], shape),
        tf.broadcast_to(tf.range(k)[None, None, :, None, None], shape),
        tf.broadcast_to(tf.minimum(rows, map_height - 1)[:, :, None, :, None], shape),
        tf.broadcast_to(tf.minimum(columns, map_width - 1)[:, None, :, None, :], shape)], axis=-1)
    cells = tf.gather_nd(maps, index)            # [N, k, k, m, m, D]
    mask = tf.cast(row_ok[:, :, None, :, None] & column_ok[:, None, :, None, :], cells.dtype)
    sums = tf.reduce_sum(cells * mask[..., None], axis=[3, 4])
    area = tf.reduce_sum(mask, axis=[3, 4])[..., None]
    return tf.where(tf.broadcast_to(area > 0, tf.shape(sums)), sums / tf.maximum(area, 1.0),
                    tf.zeros_like(sums))


def random_rois(settings: PoolingSettings, rng):
    """Normalised ``[num_rois, 4]`` boxes of 32 to 600 pixels in a 600 x 800 image."""
    height, width = 16.0 * settings.map_height, 16.0 * settings.map_width
    sizes = rng.uniform(32, 600, (settings.num_rois, 2))
    centres = rng.uniform(0, 1, (settings.num_rois, 2)) * [height, width]
    low = np.clip(centres - sizes / 2, 0, [height, width])
    high = np.clip(centres + sizes / 2, 0, [height, width])
    return (np.concatenate([low, high], axis=1) / [height, width, height, width]).astype(np.float32)


def measure(settings: PoolingSettings = PoolingSettings()):
    """Seconds per image of each system, forward alone (inference) and forward and backward
    (training), per round, and their largest difference on these RoIs (they compute the same bins)."""
    rng = np.random.default_rng(settings.seed)
    channels = settings.k * settings.k * settings.output_dim
    maps_value = rng.standard_normal(
        [1, settings.map_height, settings.map_width, channels]).astype(np.float32)
    boxes_value = random_rois(settings, rng)
    image_shape = (16 * settings.map_height, 16 * settings.map_width)
    with tf.Graph().as_default():
        maps = tf.Variable(maps_value)
        boxes = tf.constant(boxes_value)
        bins = {
            'summed_area_table': ps_roi_pooling.position_sensitive_roi_pool(
                maps, boxes, tf.zeros([settings.num_rois], tf.int32), image_shape, settings.k,
                settings.output_dim),
            'gather': gathered_bins(maps, boxes, image_shape, settings.k, settings.output_dim,
                                    settings.max_bin_cells)}
        steps = {name + '/forward_backward': tf.gradients(tf.reduce_sum(value * value), maps)[0]
                 for name, value in bins.items()}
        steps.update({name + '/forward': tf.reduce_sum(value) for name, value in bins.items()})
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            values = session.run(bins)
            rounds = []
            for _ in range(settings.rounds):
                rounds.append({name: benchmarking.median_seconds(
                    lambda name=name: session.run(steps[name]), settings.warmup_iters,
                    settings.num_iters) for name in sorted(steps)})
    return {'settings': dataclasses.asdict(settings), 'machine': benchmarking.machine_description(),
            'max_abs_difference': float(np.abs(values['summed_area_table'] - values['gather']).max()),
            'rounds': rounds,
            'gather_over_summed_area_table': {
                part: [r['gather/' + part] / r['summed_area_table/' + part] for r in rounds]
                for part in PARTS}}
