"""Trains DCGAN (Radford et al. 2016) on a folder of images.

    python scripts/make_shapes_dataset.py --centred --output_dir=data/centred_shapes
    python scripts/train_dcgan.py --image_dir=data/centred_shapes/train --train_dir=train/dcgan

The defaults are the paper's (sec. 4): 64 x 64 images scaled to [-1, 1], batch 128, Adam with rate
2e-4 and beta1 0.5, one discriminator update per generator update (--generator_steps=2 is the
well-known TF port's variant), z of 100 uniform in [-1, 1]. Images are the centre square of each
file under --image_dir (JPEG or PNG, recursively; --crop_size cuts a smaller centred square first),
resized. Training resumes from --train_dir,
saves on Ctrl-C or SIGTERM, stops with a clear message when a loss becomes NaN and writes
TensorBoard summaries with an 8 x 8 grid of samples from fixed z; <train_dir>/model_config.json
records the generator's size for sampling.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import tensorflow.compat.v1 as tf
from absl import flags

from tf1zoo.datasets import image_records
from tf1zoo.engine import cli, gan_training, training_flags


def define_flags(flag_values=flags.FLAGS):
    """Data and model flags, then the shared optimisation and run flags with the paper's defaults."""
    define = cli.Definer(flag_values)
    define.string('image_dir', None, 'Folder tree of training images (JPEG or PNG).')
    define.string('dataset_dir', None, 'Instead of --image_dir: the folder of an image folder or MNIST '
                  'converted by convert_images_to_tfrecord.py (with --dataset_name; MNIST\'s records '
                  'train a 32 x 32 grayscale DCGAN).')
    define.string('dataset_name', None, 'The converted images\' name (<dataset_dir>/<name>-*.tfrecord).')
    define.string('mnist_images', None, 'Instead of --image_dir: MNIST\'s train-images-idx3-ubyte[.gz] '
                  '(a 32 x 32 grayscale DCGAN, the digits padded to 32).')
    define.integer('image_size', 64, 'Generated image size: 4 x a power of two (32, 64, 128).')
    define.integer('crop_size', None, 'Centred square cut from each image before the resize (e.g. '
                   '108 for CelebA\'s aligned faces); default: the largest centred square.')
    define.float('depth_multiplier', 1.0, 'Thins every hidden layer of G and D (1.0: the paper\'s).')
    define.integer('generator_steps', 1, 'Generator updates per discriminator update (the paper: 1).')
    training_flags.define_optimization_flags(define)
    training_flags.define_initialisation_flags(define)
    training_flags.define_run_flags(define)
    for name, value in (('batch_size', 128), ('learning_rate', 2e-4), ('optimizer', 'adam'),
                        ('adam_beta1', 0.5), ('max_steps', 20000), ('lr_boundaries', []),
                        ('save_summaries_steps', 200)):
        flag_values.set_default(name, value)
    define.required(['train_dir'])
    flags.register_multi_flags_validator(
        ['image_dir', 'dataset_dir', 'mnist_images'],
        lambda v: sum(bool(v[name]) for name in ('image_dir', 'dataset_dir', 'mnist_images')) == 1,
        message='give exactly one of --image_dir, --dataset_dir and --mnist_images',
        flag_values=flag_values)
    flags.register_multi_flags_validator(
        ['dataset_dir', 'dataset_name'], lambda v: not v['dataset_dir'] or bool(v['dataset_name']),
        message='--dataset_dir needs --dataset_name', flag_values=flag_values)


def main(values):
    tf.logging.set_verbosity(tf.logging.INFO)
    if values.optimizer != 'adam':
        raise ValueError('DCGAN trains with Adam (the paper\'s); --optimizer=%s does not apply'
                         % values.optimizer)
    # 1. The networks and the run from the flags.
    mnist_records = bool(values.dataset_dir) and image_records.record_channels(
        values.dataset_dir, values.dataset_name) == 1
    size, channels = (32, 1) if values.mnist_images or mnist_records else (values.image_size, 3)
    setup = gan_training.GanSetup(image_size=size, channels=channels,
                                  depth_multiplier=values.depth_multiplier,
                                  generator_steps=values.generator_steps)
    train = training_flags.train_config(values)
    # 2. The images: a folder tree, its TFRecords (or MNIST's), or MNIST's idx file.
    if values.mnist_images:
        dataset_fn = gan_training.mnist_dataset_fn(values.mnist_images, setup, train.batch_size,
                                                   train.seed)
    elif values.dataset_dir:
        dataset_fn = gan_training.record_dataset_fn(values.dataset_dir, values.dataset_name, setup,
                                                    train.batch_size, train.seed, values.crop_size)
    else:
        dataset_fn = gan_training.image_folder_dataset_fn(values.image_dir, setup, train.batch_size,
                                                          train.seed, values.crop_size)
    # 3. Train on the shared loop: it resumes from --train_dir and writes model_config.json.
    step = gan_training.train_gan(setup, train, dataset_fn)
    print('Trained to step %d; checkpoints in %s' % (step, values.train_dir))


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
