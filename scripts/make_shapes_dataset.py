"""Writes the embedded synthetic-shapes dataset as a Pascal VOC folder plus COCO JSON.

    python scripts/make_shapes_dataset.py --output_dir=data/shapes --num_train=600 --num_test=200

See datasets/synthetic_shapes.py for what is drawn and how it is annotated.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import json

from absl import flags

from tf1zoo.datasets import synthetic_shapes
from tf1zoo.engine import cli


def define_flags(flag_values=flags.FLAGS):
    define = cli.Definer(flag_values)
    define.string('output_dir', None, 'Folder that receives VOCshapes/ and annotations/.')
    define.integer('num_train', 600, 'Images in the train split.')
    define.integer('num_val', 100, 'Images in the val split (trainval = train + val).')
    define.integer('num_test', 200, 'Images in the held-out test split.')
    define.integer('seed', 0, 'Seed: the same seed writes byte-identical files.')
    define.integer('num_workers', None, 'Worker processes (default: one per CPU).')
    define.bool('distractors', False, 'Also textured backgrounds, clutter strokes and outlined or '
                'textured objects (see datasets/synthetic_shapes.py).')
    define.bool('centred', False, 'DCGAN\'s data instead: one centred shape per square image, in '
                '<output_dir>/{train,test}/<class>/ (--num_train and --num_test images of '
                '--image_size; the class folders are for evaluation only).')
    define.integer('image_size', 64, 'Side of the --centred images.')
    define.required(['output_dir'])


def run(values):
    """Generates the dataset; returns `synthetic_shapes.generate`'s summary (or the image counts of
    `synthetic_shapes.generate_centred`)."""
    if values.centred:
        return synthetic_shapes.generate_centred(values.output_dir, values.num_train, values.num_test,
                                                 image_size=values.image_size, seed=values.seed)
    return synthetic_shapes.generate(values.output_dir, values.num_train, values.num_val,
                                     values.num_test, seed=values.seed,
                                     num_workers=values.num_workers, distractors=values.distractors)


def main(values):
    print(json.dumps(run(values), indent=2))


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
