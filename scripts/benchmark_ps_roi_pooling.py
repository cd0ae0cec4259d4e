"""Position-sensitive RoI pooling's time per image: the repository's op beside a gather-based peer.

    python scripts/benchmark_ps_roi_pooling.py --output_json=benchmarks/ps_roi_pooling.json

Both compute the same bins (the release's edges; the JSON records their largest difference), timed
forward alone and forward and backward, on a full-width R-FCN's map at shorter side 600 (38 x 50
cells) with COCO's 81 classes, k = 7 and 300 RoIs (engine/ps_roi_benchmark.py); prints each round
and writes JSON.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import json

from absl import flags

from tf1zoo.engine import checkpoint_info, cli, ps_roi_benchmark


def define_flags(flag_values=flags.FLAGS):
    define = cli.Definer(flag_values)
    defaults = ps_roi_benchmark.PoolingSettings()
    define.integer('map_height', defaults.map_height, 'Score map rows (stride-16 cells).')
    define.integer('map_width', defaults.map_width, 'Score map columns.')
    define.integer('k', defaults.k, 'Bins per side (the paper: 7).')
    define.integer('output_dim', defaults.output_dim, 'Maps per bin (classes + background).')
    define.integer('num_rois', defaults.num_rois, 'RoIs per image.')
    define.integer('warmup_iters', defaults.warmup_iters, 'Untimed runs before each timing.')
    define.integer('num_iters', defaults.num_iters, 'Timed runs per round (their median counts).')
    define.integer('rounds', defaults.rounds, 'Rounds, the two systems one after the other in each.')
    define.string('output_json', None, 'Where to write the results (optional).')


def run(values):
    settings = ps_roi_benchmark.PoolingSettings(
        map_height=values.map_height, map_width=values.map_width, k=values.k,
        output_dim=values.output_dim, num_rois=values.num_rois, warmup_iters=values.warmup_iters,
        num_iters=values.num_iters, rounds=values.rounds)
    result = ps_roi_benchmark.measure(settings)
    if values.output_json:
        checkpoint_info.write_json_atomically(values.output_json, result)
    return result


def main(values):
    result = run(values)
    for index, times in enumerate(result['rounds']):
        for part in ps_roi_benchmark.PARTS:
            print('round %d, %s: summed-area table %.1f ms, gather %.1f ms per image: gather / table '
                  '%.2f' % (index + 1, part, 1000 * times['summed_area_table/' + part],
                            1000 * times['gather/' + part],
                            result['gather_over_summed_area_table'][part][index]))
    print('largest difference between their bins: %.2g' % result['max_abs_difference'])
    if values.output_json:
        print(json.dumps({'written': values.output_json}))


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
