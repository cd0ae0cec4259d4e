"""DCGAN's training speed on this machine, beside a PyTorch DCGAN, in one run (engine/gan_speed.py).

    TF_ENABLE_ONEDNN_OPTS=1 python scripts/benchmark_dcgan.py --torch_python=/path/to/venv/bin/python \
        --output_json=benchmarks/speed_dcgan.json

Times one training step (a discriminator update then a generator update, Adam) at --batch_size and
--image_size for each --depth_multipliers (1.0: the paper's net), and, where --torch_python has torch,
pytorch/examples' DCGAN and the same code shaped like this repository's net
(scripts/benchmark_dcgan_torch.py). Prints a table and writes JSON.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import os
import sys

from absl import flags

from tf1zoo.engine import checkpoint_info, cli, gan_speed

_TORCH_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'benchmark_dcgan_torch.py')


def define_flags(flag_values=flags.FLAGS):
    define = cli.Definer(flag_values)
    define.integer('batch_size', 128, 'Images per step (the paper: 128).')
    define.integer('image_size', 64, 'Image size: 4 x a power of two.')
    define.list('depth_multipliers', ['1.0'], 'This repository\'s nets to time (1.0: the paper\'s).')
    define.integer('warmup_iters', 1, 'Untimed steps before each timing.')
    define.integer('num_iters', 3, 'Timed steps per round (their median is the round\'s time).')
    define.integer('rounds', 3, 'Rounds; every system runs once per round, ratios within a round.')
    define.string('torch_python', sys.executable, 'A Python interpreter with torch for the peer '
                  '(empty: no peer).')
    define.string('output_json', None, 'Where to write the results (optional).')


def run(values):
    # 1. What to time, from the flags.
    settings = gan_speed.GanSpeedSettings(
        batch_size=values.batch_size, image_size=values.image_size,
        depth_multipliers=tuple(float(depth) for depth in values.depth_multipliers),
        warmup_iters=values.warmup_iters, num_iters=values.num_iters, rounds=values.rounds,
        torch_python=values.torch_python or None, torch_script=_TORCH_SCRIPT)
    # 2. Every round, the medians and the ratios within rounds.
    result = gan_speed.measure(settings)
    # 3. Print, and write the JSON.
    print('\n'.join(gan_speed.summarise(result)))
    if values.output_json:
        checkpoint_info.write_json_atomically(values.output_json, result)
    return result


def main(values):
    run(values)


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
