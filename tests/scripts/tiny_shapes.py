"""A tiny embedded dataset for the script tests: VOC folder plus trainval / test TFRecords."""
import os

import tensorflow.compat.v1 as tf

from tf1zoo.datasets import synthetic_shapes
from tf1zoo.engine import cli, tfrecord_conversion


def make_tiny_records(root, num_test, seed):
    """Writes 4 train, 1 val and ``num_test`` test images under ``root``; returns their paths.

    Returns:
      dict with 'root', 'voc_dir' (the VOCshapes folder) and 'records' (the TFRecord folder).
    """
    synthetic_shapes.generate(os.path.join(root, 'data'), num_train=4, num_val=1, num_test=num_test,
                              seed=seed, num_workers=1, show_progress=False)
    voc_dir = os.path.join(root, 'data', 'VOCshapes')
    records = os.path.join(root, 'records')
    for split in ('trainval', 'test'):
        tfrecord_conversion.convert_named('shapes', split, records, voc_dir=voc_dir, num_shards=1,
                                    show_progress=False)
    return {'root': root, 'voc_dir': voc_dir, 'records': records}


def run_training(script, **flag_values):
    """Runs a train CLI's ``main`` on parsed flags; returns the step of the latest checkpoint."""
    values = cli.parse(script.define_flags, **flag_values)
    script.main(values)
    return int(tf.train.latest_checkpoint(values.train_dir).rsplit('-', 1)[1])
