"""Samples of a trained DCGAN generator: a grid from fixed z, walks between random z (the paper's
Figure 4), vector arithmetic on averaged z (its Figure 7), and the raw samples.

The generator is rebuilt from the train dir's model_config.json (`gan_training.gan_config`) and
restored from its latest checkpoint (or a given one). Batch norm uses its moving statistics
(``batch_statistics=False``) or, as during training, the statistics of each generated batch.
Images are uint8 ``[n, size, size, channels]``; PNGs and the ``.npz`` are written atomically.
"""
import dataclasses
import os

import cv2
import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.engine import checkpoint_info, gan_training
from tf1zoo.nets import dcgan
from tf1zoo.ops import atomic_io


@dataclasses.dataclass(frozen=True)
class SampleRequest:
    """What to draw: ``grid_side`` x ``grid_side`` samples, ``num_walks`` walks of ``walk_steps``
    images each, ``num_samples`` raw samples; all from ``seed``."""

    grid_side: int = 8
    num_walks: int = 6
    walk_steps: int = 10
    num_samples: int = 64
    seed: int = 0
    batch_statistics: bool = False
    write_pngs: bool = False
    arithmetic: tuple = None  # ``(a, b, c)``: grid indices of each concept, for mean(a) - mean(b) + mean(c)


def load_generator_config(checkpoint_path):
    """(checkpoint prefix, the DCGAN's model_config.json) of a train dir or checkpoint prefix."""
    prefix = checkpoint_info.resolve_checkpoint(checkpoint_path)
    config = checkpoint_info.read_checkpoint_info(prefix)
    if config.get('model_name') != 'dcgan':
        raise ValueError('%s is not a DCGAN checkpoint (its model_config.json says model_name=%r)'
                         % (prefix, config.get('model_name')))
    return prefix, config


def walks(rng, num_walks, steps):
    """z ``[num_walks * steps, Z_DIM]``: for each walk, ``steps`` points on the segment between two
    random z (endpoints included), row after row."""
    starts = rng.uniform(-1, 1, (num_walks, 1, dcgan.Z_DIM))
    ends = rng.uniform(-1, 1, (num_walks, 1, dcgan.Z_DIM))
    fractions = np.linspace(0.0, 1.0, steps)[None, :, None]
    return (starts + fractions * (ends - starts)).reshape(-1, dcgan.Z_DIM).astype(np.float32)


# DCGAN Figure 7: "uniform noise sampled with scale +-0.25 was added to Y to produce the 8 other samples".
ARITHMETIC_NOISE = 0.25
ARITHMETIC_NEIGHBOURS = 8


def parse_arithmetic(text, grid_size):
    """``'3,17,22 - 5,9 + 1,40'`` -> ``((3, 17, 22), (5, 9), (1, 40))``: grid indices (row by row from
    0, below ``grid_size``) of the samples whose z are averaged for each of the three concepts."""
    parts = text.replace('+', '-').split('-')
    if text.count('-') != 1 or text.count('+') != 1 or text.index('-') > text.index('+'):
        raise ValueError('--arithmetic %r is not "A - B + C" (each a comma-separated list of grid '
                         'indices)' % text)
    groups = []
    for part in parts:
        try:
            indices = tuple(int(item) for item in part.split(','))
        except ValueError:
            raise ValueError('--arithmetic %r: %r is not a comma-separated list of grid indices'
                             % (text, part.strip())) from None
        outside = [index for index in indices if not 0 <= index < grid_size]
        if outside:
            raise ValueError('--arithmetic %r: indices %s are outside the grid (0 to %d)'
                             % (text, outside, grid_size - 1))
        groups.append(indices)
    return tuple(groups)


def arithmetic_z(grid_z, groups, rng):
    """The z of Figure 7 as rows: for each concept, its exemplars' z then their mean; last, Y =
    mean(a) - mean(b) + mean(c) then ``ARITHMETIC_NEIGHBOURS`` points Y + U(-0.25, 0.25)."""
    rows = [np.concatenate([grid_z[list(group)], grid_z[list(group)].mean(axis=0, keepdims=True)])
            for group in groups]
    result = rows[0][-1] - rows[1][-1] + rows[2][-1]
    noise = rng.uniform(-ARITHMETIC_NOISE, ARITHMETIC_NOISE, (ARITHMETIC_NEIGHBOURS, dcgan.Z_DIM))
    rows.append(np.concatenate([result[None], result + noise]))
    return [row.astype(np.float32) for row in rows]


def _rows_picture(rows_of_images):
    """Rows of uint8 ``[n_i, h, w, c]`` -> one picture, short rows padded with black on the right."""
    columns = max(len(row) for row in rows_of_images)
    return np.concatenate([tile(row, columns) for row in rows_of_images])


def generate(prefix, config, z, batch_statistics=False, batch_size=64):
    """uint8 ``[len(z), size, size, channels]`` images of the restored generator for ``z``."""
    return generate_sets(prefix, config, [z], batch_statistics, batch_size)[0]


def generate_sets(prefix, config, z_sets, batch_statistics=False, batch_size=64):
    """`generate` for each of ``z_sets`` with one graph and one restore; each set is batched on
    its own (with ``batch_statistics`` a batch's statistics are its own set's)."""
    with tf.Graph().as_default():
        inputs = tf.placeholder(tf.float32, [None, dcgan.Z_DIM])
        with slim.arg_scope(dcgan.dcgan_arg_scope(is_training=batch_statistics)):
            images, _ = dcgan.generator(inputs, config['image_size'], config['channels'],
                                        config['depth_multiplier'], is_training=batch_statistics,
                                        scope=gan_training.GENERATOR_SCOPE)
        pixels = tf.cast(tf.round((tf.clip_by_value(images, -1.0, 1.0) + 1.0) * 127.5), tf.uint8)
        saver = tf.train.Saver(tf.global_variables(gan_training.GENERATOR_SCOPE))
        with tf.Session() as session:
            saver.restore(session, prefix)
            return [np.concatenate([session.run(pixels, {inputs: z[i:i + batch_size]})
                                    for i in range(0, len(z), batch_size)]) for z in z_sets]


def tile(images, columns):
    """uint8 ``[n, h, w, c]`` -> one ``[rows * h, columns * w, c]`` picture, row by row."""
    count, height, width, channels = images.shape
    rows = -(-count // columns)
    padded = np.zeros([rows * columns, height, width, channels], np.uint8)
    padded[:count] = images
    return padded.reshape(rows, columns, height, width, channels).transpose(0, 2, 1, 3, 4).reshape(
        rows * height, columns * width, channels)


def _write_png(path, picture):
    rgb = picture if picture.shape[-1] == 3 else picture[..., 0]
    ok, png = cv2.imencode('.png', cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if rgb.ndim == 3 else rgb)
    if not ok:
        raise RuntimeError('OpenCV could not encode %s' % path)
    atomic_io.write_file_atomically(path, png.tobytes())


def write_samples(checkpoint_path, output_dir, request: SampleRequest = SampleRequest()):
    """Writes ``grid.png``, ``walks.png`` (one walk per row), ``samples.npz`` (``images``, ``z``),
    with ``arithmetic`` ``arithmetic.png`` (a row per concept: its samples then the image of
    their mean z; the last row Y then its neighbours) and with ``write_pngs`` ``samples/<i>.png``;
    returns the paths written."""
    prefix, config = load_generator_config(checkpoint_path)
    rng = np.random.default_rng(request.seed)
    grid_z = rng.uniform(-1, 1, (request.grid_side ** 2, dcgan.Z_DIM)).astype(np.float32)
    walk_z = walks(rng, request.num_walks, request.walk_steps)
    sample_z = rng.uniform(-1, 1, (request.num_samples, dcgan.Z_DIM)).astype(np.float32)
    rows = arithmetic_z(grid_z, request.arithmetic, rng) if request.arithmetic else []
    z_sets = [np.concatenate([grid_z, walk_z, sample_z])] + ([np.concatenate(rows)] if rows else [])
    images, *arithmetic = generate_sets(prefix, config, z_sets, request.batch_statistics)
    grid, walk, samples = np.split(images, [len(grid_z), len(grid_z) + len(walk_z)])
    os.makedirs(output_dir, exist_ok=True)
    written_arithmetic = {}
    if rows:
        path = os.path.join(output_dir, 'arithmetic.png')
        row_ends = np.cumsum([len(row) for row in rows])[:-1]
        _write_png(path, _rows_picture(np.split(arithmetic[0], row_ends)))
        written_arithmetic = {'arithmetic': path}
    written = {'grid': os.path.join(output_dir, 'grid.png'),
               'walks': os.path.join(output_dir, 'walks.png'),
               'samples': os.path.join(output_dir, 'samples.npz'), **written_arithmetic}
    _write_png(written['grid'], tile(grid, request.grid_side))
    _write_png(written['walks'], tile(walk, request.walk_steps))
    temp = atomic_io.temp_path_beside(written['samples'])
    try:
        with open(temp, 'wb') as stream:
            np.savez_compressed(stream, images=samples, z=sample_z)
        atomic_io.move_into_place(temp, written['samples'])
    except BaseException:
        atomic_io.remove_quietly(temp)
        raise
    if request.write_pngs:
        folder = os.path.join(output_dir, 'samples')
        os.makedirs(folder, exist_ok=True)
        for index, image in enumerate(samples):
            _write_png(os.path.join(folder, '%05d.png' % index), image)
        written['pngs'] = folder
    return written
