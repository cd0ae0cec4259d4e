"""What every benchmark script shares: timing by median, the machine's description, choice checks.

Speed is measured by benchmark scripts that print numbers and write JSON, never by timed asserts in
tests; the JSON records the machine, since the development VM's CPU changes between sessions.
"""
import os
import platform
import statistics
import time

import tensorflow.compat.v1 as tf
import tqdm

from tf1zoo.datasets import dataset_factory, input_pipeline
from tf1zoo.ops import compat
from tf1zoo.preprocessing import preprocessing_factory


def median_seconds(run, warmup_iters, num_iters):
    """The median wall time of ``num_iters`` calls of ``run`` after ``warmup_iters`` untimed ones."""
    for _ in range(warmup_iters):
        run()
    times = []
    for _ in range(num_iters):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cpu_description(cpuinfo_path='/proc/cpuinfo'):
    """The CPU's model name, family/model numbers and vector extensions, where Linux tells them: the
    development VM's CPU changes between sessions (AVX2-only and AVX-512 parts so far)."""
    try:
        with open(cpuinfo_path) as stream:
            first_cpu = stream.read().split('\n\n')[0]
    except OSError:
        return {}
    fields = dict(line.split(':', 1) for line in first_cpu.splitlines() if ':' in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    flags_present = set(fields.get('flags', '').split())
    return {'cpu_model_name': fields.get('model name'), 'cpu_family': fields.get('cpu family'),
            'cpu_model': fields.get('model'), 'cpu_mhz': fields.get('cpu MHz'),
            'vector_extensions': sorted(flags_present & {'avx2', 'fma', 'avx512f', 'avx512_vnni',
                                                         'avx512_bf16', 'amx_tile'})}


def machine_description():
    """The machine a benchmark ran on: CPU count and model, vector extensions, TensorFlow and whether
    its oneDNN kernels ran (``TF_ENABLE_ONEDNN_OPTS``, or TF's own default on AVX-512 VNNI / AMX)."""
    return {'cpu_count': os.cpu_count(), 'processor': platform.processor() or platform.machine(),
            **cpu_description(), 'tensorflow': tf.__version__,
            'TF_ENABLE_ONEDNN_OPTS': os.environ.get('TF_ENABLE_ONEDNN_OPTS'),
            'onednn_kernels': compat.onednn_enabled()}


def check_choices(flag, chosen, known):
    """Raises ValueError naming ``--flag`` when ``chosen`` holds a value outside ``known``."""
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise ValueError('--%s: unknown %s; known: %s' % (flag, ', '.join(unknown), ', '.join(known)))


def input_pipeline_images_per_second(dataset_name, dataset_dir, split, preprocessing_name, batch_size,
                                     warmup_batches=5, num_batches=50):
    """Images/s of the training input pipeline (decode + augmentation + padded batching) of a
    converted split, after ``warmup_batches``; returns the result dict benchmark_input.py writes."""
    files = dataset_factory.get_split(dataset_name, split, dataset_dir).files
    preprocess = preprocessing_factory.get_preprocessing(preprocessing_name)
    with tf.Graph().as_default():
        dataset = input_pipeline.build_dataset(
            list(files), batch_size, lambda tensor_dict: preprocess(tensor_dict, is_training=True),
            is_training=True)
        batch = input_pipeline.make_one_shot_batch(dataset)
        with tf.Session() as session:
            for _ in range(warmup_batches):
                session.run(batch)
            start = time.perf_counter()
            for _ in tqdm.trange(num_batches, desc='batches'):
                session.run(batch)
            seconds = time.perf_counter() - start
    return {'images_per_second': batch_size * num_batches / seconds, 'batch_size': batch_size,
            'num_batches': num_batches, 'preprocessing': preprocessing_name, 'dataset': dataset_name,
            'machine': machine_description()}
