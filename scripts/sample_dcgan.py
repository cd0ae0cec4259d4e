"""Draws samples of a trained DCGAN (scripts/train_dcgan.py).

    python scripts/sample_dcgan.py --checkpoint_path=train/dcgan --output_dir=samples/dcgan

Writes <output_dir>/grid.png (--grid_side squared samples), walks.png (--num_walks rows, each a walk
of --walk_steps images between two random z: the paper's Figure 4), samples.npz (--num_samples
images as uint8 [n, size, size, channels] and their z) and, with --write_pngs, one PNG per sample.
The same --seed draws the same z.
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
    define.required(['checkpoint_path', 'output_dir'])


def run(values):
    request = gan_sampling.SampleRequest(
        grid_side=values.grid_side, num_walks=values.num_walks, walk_steps=values.walk_steps,
        num_samples=values.num_samples, seed=values.seed, batch_statistics=values.batch_statistics,
        write_pngs=values.write_pngs)
    return gan_sampling.write_samples(values.checkpoint_path, values.output_dir, request)


def main(values):
    print(json.dumps(run(values), indent=2))


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
