"""Converts a folder tree of images (DCGAN's data: the centred shapes, CelebA's img_align_celeba/,
LSUN's exported folders) to sharded TFRecords with the split's JSON (datasets/image_records.py).

    python scripts/convert_images_to_tfrecord.py --image_dir=data/centred/train \\
        --output_dir=data/centred_records --name=centred_train
    python scripts/train_dcgan.py --dataset_dir=data/centred_records --dataset_name=centred_train ...

MNIST's idx files (plain or gzipped) convert the same way, each digit a grayscale PNG labelled with
its digit; train_dcgan.py reads them as a 32 x 32 grayscale DCGAN's data:

    python scripts/convert_images_to_tfrecord.py --mnist_images=train-images-idx3-ubyte.gz \
        --mnist_labels=train-labels-idx1-ubyte.gz --output_dir=data/mnist_records --name=mnist_train

Each image is checked with the decoder training uses; a bad one stops the conversion naming it, or is
skipped and listed with --skip_bad. The split appears whole or not at all.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
from absl import flags

from tf1zoo.datasets import image_records, tfrecord_io
from tf1zoo.engine import cli


def define_flags(flag_values=flags.FLAGS):
    define = cli.Definer(flag_values)
    define.string('image_dir', None, 'Folder tree of JPEG / PNG images (class subfolders optional).')
    define.string('mnist_images', None, 'Instead of --image_dir: MNIST\'s images idx file '
                  '(train-images-idx3-ubyte[.gz]).')
    define.string('mnist_labels', None, 'With --mnist_images: its labels idx file (optional; the '
                  'records\' labels are then the digits).')
    define.string('output_dir', None, 'Where the shards and <name>.json go.')
    define.string('name', None, 'The records\' name: <output_dir>/<name>-00000-of-0000N.tfrecord.')
    define.integer('num_shards', 4, 'Shards to write.')
    define.integer('num_workers', 4, 'Threads reading and checking images.')
    define.bool('skip_bad', False, 'Skip (and list) images the decoder refuses instead of stopping.')
    define.required(['output_dir', 'name'])
    flags.register_multi_flags_validator(
        ['image_dir', 'mnist_images'], lambda v: bool(v['image_dir']) != bool(v['mnist_images']),
        message='give exactly one of --image_dir and --mnist_images', flag_values=flag_values)
    flags.register_multi_flags_validator(
        ['mnist_images', 'mnist_labels'], lambda v: not v['mnist_labels'] or bool(v['mnist_images']),
        message='--mnist_labels needs --mnist_images', flag_values=flag_values)


def run(values):
    if values.mnist_images:
        return image_records.convert_mnist(values.mnist_images, values.output_dir, values.name,
                                           labels_path=values.mnist_labels,
                                           num_shards=values.num_shards,
                                           num_workers=values.num_workers), []
    result, skipped = image_records.convert_image_folder(
        values.image_dir, values.output_dir, values.name, num_shards=values.num_shards,
        num_workers=values.num_workers, skip_bad=values.skip_bad)
    return result, skipped


def main(values):
    result, skipped = run(values)
    print('%s: wrote %d images in %d shards to %s' % (values.name, result.num_examples,
                                                      len(result.files), values.output_dir))
    print('skipped %d files%s' % (len(skipped), ':' if skipped else ''))
    if skipped:
        print(tfrecord_io.format_skipped(skipped))


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
