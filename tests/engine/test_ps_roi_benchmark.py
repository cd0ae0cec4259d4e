"""The PS-RoI pooling benchmark's gather-based peer computes the op's bins (so the times compare
like with like), and the benchmark reports both systems per round."""
import numpy as np
import tensorflow.compat.v1 as tf

from tf1zoo.engine import ps_roi_benchmark
from tf1zoo.ops import ps_roi_pooling


def test_the_gather_gives_the_summed_area_tables_bins_and_gradients():
    settings = ps_roi_benchmark.PoolingSettings(map_height=6, map_width=8, k=3, output_dim=2,
                                                num_rois=25, max_bin_cells=8)
    rng = np.random.default_rng(3)
    maps_value = rng.standard_normal([1, 6, 8, 18]).astype(np.float32)
    boxes = ps_roi_benchmark.random_rois(settings, rng)
    boxes[0] = [0.1, 0.1, 0.1, 0.1]  # a degenerate RoI
    with tf.Graph().as_default():
        maps = tf.constant(maps_value)
        table = ps_roi_pooling.position_sensitive_roi_pool(maps, tf.constant(boxes), tf.zeros([25], tf.int32),
                                                           (96, 128), 3, 2)
        gathered = ps_roi_benchmark.gathered_bins(maps, tf.constant(boxes), (96, 128), 3, 2, 8)
        gradients = [tf.gradients(tf.reduce_sum(b * b), maps)[0] for b in (table, gathered)]
        with tf.Session() as session:
            table, gathered, (g_table, g_gathered) = session.run([table, gathered, gradients])
    assert np.abs(table).max() > 0
    np.testing.assert_allclose(gathered, table, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(g_gathered, g_table, rtol=1e-4, atol=1e-5)


def test_measure_times_both_systems_each_round():
    settings = ps_roi_benchmark.PoolingSettings(map_height=5, map_width=6, k=3, output_dim=3, num_rois=10,
                                                warmup_iters=0, num_iters=1, rounds=2)
    result = ps_roi_benchmark.measure(settings)
    assert len(result['rounds']) == 2 and set(result['rounds'][0]) == {
        system + '/' + part for system in ps_roi_benchmark.SYSTEMS for part in ps_roi_benchmark.PARTS}
    assert len(result['gather_over_summed_area_table']['forward']) == 2
    assert all(seconds > 0 for r in result['rounds'] for seconds in r.values())
    assert result['max_abs_difference'] < 1e-4
