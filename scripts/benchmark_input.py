"""Measures the training input pipeline: decode + SSD augmentation + padded batching, in images/s.

    python scripts/benchmark_input.py --dataset_name=shapes --dataset_dir=work_dirs/shapes/tfrecords \\
        --output_json=benchmarks/input_pipeline.json

Prints and writes (JSON) the throughput after a warm-up, with the machine's CPU count.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import json
import os
import platform
import time

import tensorflow.compat.v1 as tf
import tqdm
from absl import flags

from tf1zoo.datasets import dataset_factory, input_pipeline
from tf1zoo.preprocessing import preprocessing_factory
from tf1zoo.scripts import checkpoint_info, script_flags


def define_flags(flag_values=flags.FLAGS):
    define = script_flags.Definer(flag_values)
    define.string('dataset_name', 'shapes', 'Dataset from datasets/dataset_factory.py.')
    define.string('dataset_dir', None, 'Folder of the converted TFRecords.')
    define.string('split', 'trainval', 'Split to read.')
    define.string('preprocessing_name', 'ssd_300', 'Preprocessing from preprocessing_factory.')
    define.integer('batch_size', 32, 'Images per batch.')
    define.integer('warmup_batches', 5, 'Batches read before timing starts.')
    define.integer('num_batches', 50, 'Batches timed.')
    define.string('output_json', None, 'Where to write the result (optional).')
    define.required(['dataset_dir'])


def run(values):
    """Times the pipeline; returns the result dict."""
    split = dataset_factory.get_split(values.dataset_name, values.split, values.dataset_dir)
    preprocess = preprocessing_factory.get_preprocessing(values.preprocessing_name)
    with tf.Graph().as_default():
        dataset = input_pipeline.build_dataset(
            list(split.files), values.batch_size,
            lambda tensor_dict: preprocess(tensor_dict, is_training=True), is_training=True)
        batch = input_pipeline.make_one_shot_batch(dataset)
        with tf.Session() as session:
            for _ in range(values.warmup_batches):
                session.run(batch)
            start = time.perf_counter()
            for _ in tqdm.trange(values.num_batches, desc='batches'):
                session.run(batch)
            seconds = time.perf_counter() - start
    result = {'images_per_second': values.batch_size * values.num_batches / seconds,
              'batch_size': values.batch_size, 'num_batches': values.num_batches,
              'preprocessing': values.preprocessing_name, 'dataset': values.dataset_name,
              'cpu_count': os.cpu_count(), 'processor': platform.processor() or platform.machine(),
              'tensorflow': tf.__version__}
    print(json.dumps(result, indent=2))
    if values.output_json:
        checkpoint_info.write_json_atomically(values.output_json, result)
    return result


if __name__ == '__main__':
    script_flags.run_as_program(define_flags, run)
