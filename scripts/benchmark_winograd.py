"""Winograd convolutions (`ops/winograd.py`) vs TensorFlow's own 3x3 convolutions, per VGG16 layer shape.

    python scripts/benchmark_winograd.py --output_json=benchmarks/winograd_2core_cpu.json

Winograd's minimal filtering (Lavin & Gray, CVPR 2016; `ops/winograd.py`) computes an m x m output
tile of a 3x3 convolution with (m + 2)^2 multiplies per channel pair instead of 9 m^2: 2.25x fewer for
F(2x2, 3x3), 4x fewer for F(4x4, 3x3), at the cost of transforming tiles. For each stride-1 3x3 layer
shape of VGG16 at 300 x 300 this script times TF's direct convolution, both Winograd forms and their
batched matmul alone, and checks that the outputs agree; run it with and without
``TF_ENABLE_ONEDNN_OPTS=1`` (the kernels TF uses decide the answer). Prints a table and writes JSON.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
from absl import flags

from tf1zoo.engine import benchmarking, checkpoint_info, cli, winograd_benchmark
from tf1zoo.ops import winograd


def define_flags(flag_values=flags.FLAGS):
    define = cli.Definer(flag_values)
    define.list('batch_sizes', ['1', '8'], 'Batch sizes.')
    define.list('layers', [layer[0] for layer in winograd_benchmark.VGG16_LAYERS],
                'VGG16 layers whose shapes are timed.')
    define.integer('warmup_iters', 1, 'Untimed runs first.')
    define.integer('num_iters', 5, 'Timed runs (the median is reported).')
    define.string('output_json', None, 'Where to write the results (optional).')


def run(values):
    # 1. The layer shapes to time.
    layers = {layer[0]: layer[1:] for layer in winograd_benchmark.VGG16_LAYERS}
    benchmarking.check_choices('layers', values.layers, layers)
    # 2. Time each shape at each batch size; print as it goes.
    result = {'machine': benchmarking.machine_description(), 'layers': {}}
    for name in values.layers:
        for batch_size in map(int, values.batch_sizes):
            size, in_channels, out_channels = layers[name]
            timing = winograd_benchmark.time_layer(batch_size, size, in_channels, out_channels,
                                                  values.warmup_iters, values.num_iters)
            result['layers']['%s_batch%d' % (name, batch_size)] = timing
            print('%s %3dx%-3d %3d->%-3d batch %d: direct %7.1f ms (%3.0f GFLOP/s); %s'
                  % (name, size, size, in_channels, out_channels, batch_size, timing['direct_ms'],
                     timing['direct_gflops_per_second'], '; '.join(
                         '%s %7.1f ms = %.2fx direct (its batched matmul %.1f ms), error %.0e'
                         % (variant, timing[variant]['ms'], timing['direct_ms'] / timing[variant]['ms'],
                            timing[variant]['batched_matmul_ms'], timing[variant]['max_relative_error'])
                         for variant in ('F%d' % size for size in winograd.TILE_SIZES))), flush=True)
    # 3. Write the JSON.
    if values.output_json:
        checkpoint_info.write_json_atomically(values.output_json, result)
    return result


if __name__ == '__main__':
    cli.run_as_program(define_flags, run)
