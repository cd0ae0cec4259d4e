"""Draws samples of a trained DCGAN (scripts/train_dcgan.py).

    python scripts/sample_dcgan.py --checkpoint_path=train/dcgan --output_dir=samples/dcgan

Writes <output_dir>/grid.png (--grid_side squared samples), walks.png (--num_walks rows, each a walk
of --walk_steps images between two random z: the paper's Figure 4), samples.npz (--num_samples
images as uint8 [n, size, size, channels] and their z) and, with --write_pngs, one PNG per sample.
The same --seed draws the same z, so a second run can do the paper's vector arithmetic (Figure 7)
on samples picked from the first run's grid by index (row by row from 0):

    python scripts/sample_dcgan.py ... --arithmetic="3,17,22 - 5,9,40 + 1,2,30"

writes arithmetic.png: a row per concept (its samples, then the image of their mean z), then Y =
mean(A) - mean(B) + mean(C) and eight samples of Y + U(-0.25, 0.25).
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import json

from absl import flags

from tf1zoo.engine import cli, gan_sampling


def define_flags(flag_values=flags.FLAGS):
    define = cli.Definer(flag_values)
    define.string('checkpoint_path', None, 'A DCGAN train dir (its latest checkpoint) or checkpoint.')
    define.string('output_dir', None, 'Where the pictures and samples.npz go.')
    define.integer('grid_side', 8, 'The grid is grid_side x grid_side samples.')
    define.integer('num_walks', 6, 'Walks between random z (rows of walks.png).')
    define.integer('walk_steps', 10, 'Images per walk, endpoints included.')
    define.integer('num_samples', 64, 'Raw samples in samples.npz.')
    define.integer('seed', 0, 'Seed of every z.')
    define.bool('batch_statistics', False, 'Batch norm on each batch\'s statistics, as in training '
                '(default: the moving averages).')
    define.bool('write_pngs', False, 'Also write one PNG per raw sample.')
    define.string('arithmetic', None, '"A - B + C", each a comma-separated list of grid indices: '
                  'writes arithmetic.png (the paper\'s Figure 7).')
    define.required(['checkpoint_path', 'output_dir'])


def run(values):
    arithmetic = (gan_sampling.parse_arithmetic(values.arithmetic, values.grid_side ** 2)
                  if values.arithmetic else None)
    request = gan_sampling.SampleRequest(
        grid_side=values.grid_side, num_walks=values.num_walks, walk_steps=values.walk_steps,
        num_samples=values.num_samples, seed=values.seed, batch_statistics=values.batch_statistics,
        write_pngs=values.write_pngs, arithmetic=arithmetic)
    return gan_sampling.write_samples(values.checkpoint_path, values.output_dir, request)


def main(values):
    print(json.dumps(run(values), indent=2))


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
