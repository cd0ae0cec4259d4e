"""SSD300's speed on this machine, beside its peers, in one run (engine/speed_benchmark.py).

    TF_ENABLE_ONEDNN_OPTS=1 python scripts/benchmark_speed.py --output_json=benchmarks/speed.json

Measures, for the full-width SSD300 (or --model_name=refinedet320; or thinned by --depth_multiplier):

* inference latency per batch (network + DetectionOutput post-processing) at each --batch_sizes, for
  each --tf_variants: TF's direct convolutions, Winograd ones (`ops/winograd.py`: F(6x6, 3x3) or
  F(4x4, 3x3) per layer, or F(4x4) everywhere), and
  XLA auto-clustering. The kernels are Eigen's on an AVX2 CPU unless ``TF_ENABLE_ONEDNN_OPTS=1`` is
  set (TF's x86 wheel turns oneDNN on by itself only on AVX-512 VNNI / AMX CPUs); the JSON records
  which ran;
* training images/s (MultiBox loss + Momentum step) at --train_batch_size;
* the same for torchvision's ``ssd300_vgg16`` (random weights; its own pre- and post-processing) where
  torch is installed, and OpenCV 4.x DNN running the official deploy prototxt with random weights;
* the hardware bound: the net's FLOPs (TF's profiler) over the throughput a single plain 3x3
  convolution reaches in TensorFlow here.

Everything runs --rounds times, the systems one after the other in each round; ratios are taken
within a round and their median reported. Inputs are random 300 x 300 images (network inputs, already
normalised) and random ground truth; a round's timing is the median of --num_iters runs after
--warmup_iters. Prints a table and writes JSON.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import os

from absl import flags

from tf1zoo.engine import checkpoint_info, cli, speed_benchmark
from tf1zoo.nets import nets_factory

_HERE = os.path.dirname(os.path.abspath(__file__))
_DEFAULT_DEPLOY = os.path.join(_HERE, '..', '..', 'shared', 'reference', 'caffe',
                               'ssd300_vgg16_voc0712_deploy.prototxt')
# The torchvision peer runs as its own program: torch and TensorFlow in one process crash here.
_TORCHVISION_SCRIPT = os.path.join(_HERE, 'benchmark_torchvision.py')


def define_flags(flag_values=flags.FLAGS):
    define = cli.Definer(flag_values)
    define.enum('model_name', 'ssd_vgg_300', sorted(nets_factory.MODELS),
                'Detector to time; the peers (other SSD300s) run for the full-width ssd_vgg_300 only.')
    define.list('batch_sizes', ['1', '8'], 'Inference batch sizes.')
    define.integer('train_batch_size', 8, 'Training batch size (0: no training measurement).')
    define.float('depth_multiplier', 1.0, 'Depth multiplier (1.0 is the paper\'s net).')
    define.integer('warmup_iters', 1, 'Untimed runs before each timing.')
    define.integer('num_iters', 3, 'Timed runs per round (their median is the round\'s time).')
    define.integer('rounds', 3, 'Times the whole set of measurements runs, the systems one after the '
                   'other in each, so that a drift of the machine\'s speed hits all alike; speed-ups '
                   'are taken within a round and their median over rounds reported.')
    define.list('tf_variants', list(speed_benchmark.TF_VARIANTS),
                'This repository\'s configurations to time: direct (TF\'s convolutions), winograd '
                '(ops/winograd.py, F(6x6) or F(4x4) per layer; inference only), winograd4 (F(4x4) '
                'everywhere), xla (direct, XLA auto-clustering).')
    define.list('peers', list(speed_benchmark.PEERS), 'Peers to measure where installed.')
    define.string('deploy_prototxt', _DEFAULT_DEPLOY, 'SSD300 deploy prototxt for the OpenCV peer.')
    define.string('output_json', None, 'Where to write the results (optional).')



def run(values):
    # 1. What to time, from the flags.
    settings = speed_benchmark.SpeedSettings(
        model_name=values.model_name, depth_multiplier=values.depth_multiplier,
        batch_sizes=tuple(int(size) for size in values.batch_sizes),
        train_batch_size=values.train_batch_size, warmup_iters=values.warmup_iters,
        num_iters=values.num_iters, rounds=values.rounds, tf_variants=tuple(values.tf_variants),
        peers=tuple(values.peers), deploy_prototxt=values.deploy_prototxt,
        torchvision_script=_TORCHVISION_SCRIPT)
    # 2. Every round, then the per-image numbers and the ratios within rounds.
    result = speed_benchmark.measure(settings)
    lines = speed_benchmark.summarise(result, settings.batch_sizes, settings.train_batch_size)
    # 3. Print, and write the JSON.
    print('\n'.join(lines))
    if values.output_json:
        checkpoint_info.write_json_atomically(values.output_json, result)
    return result


if __name__ == '__main__':
    cli.run_as_program(define_flags, run)
