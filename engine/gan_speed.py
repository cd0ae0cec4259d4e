"""DCGAN's training speed on this machine, beside a PyTorch DCGAN, in one run (benchmark_dcgan.py).

One step is `gan_training.gan_train_ops`' chained update (D, then G on fresh z) on a fixed batch of
random real images in [-1, 1] (a variable: no input pipeline is timed), Adam as the paper. The peer
(scripts/benchmark_dcgan_torch.py) runs in its own process, with the Python interpreter given (one
with torch; torch and TensorFlow in one process crash on this stack). Times are medians of
``num_iters`` steps after ``warmup_iters``; every round times all systems one after the other, and
ratios are taken within a round.
"""
import dataclasses
import json
import statistics
import subprocess

import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.engine import benchmarking, gan_training, train_loop
from tf1zoo.nets import dcgan

TORCH_VARIANTS = ('pytorch_examples', 'paper')


@dataclasses.dataclass(frozen=True)
class GanSpeedSettings:
    batch_size: int = 128
    image_size: int = 64
    depth_multipliers: tuple = (1.0,)
    warmup_iters: int = 1
    num_iters: int = 3
    rounds: int = 3
    torch_python: str = None  # an interpreter with torch; None: no peer
    torch_script: str = None


def tf_training_seconds(settings: GanSpeedSettings, depth_multiplier):
    """Median seconds of one training step of this repository's DCGAN."""
    setup = gan_training.GanSetup(image_size=settings.image_size, depth_multiplier=depth_multiplier)
    config = train_loop.TrainConfig(train_dir='unused', max_steps=1, batch_size=settings.batch_size,
                                    optimizer='adam', adam_beta1=0.5)
    with tf.Graph().as_default():
        shape = [settings.batch_size, settings.image_size, settings.image_size, 3]
        real = tf.Variable(np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32),
                           trainable=False)
        tf.train.get_or_create_global_step()
        with slim.arg_scope(dcgan.dcgan_arg_scope(is_training=True)):
            step = gan_training.gan_train_ops(setup, config, real, 2e-4).generator
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            return benchmarking.median_seconds(lambda: session.run(step), settings.warmup_iters,
                                               settings.num_iters)


def torch_training_seconds(settings: GanSpeedSettings):
    """{variant: seconds} of the PyTorch peer, or None where its interpreter has no torch."""
    command = [settings.torch_python, settings.torch_script, '--batch_size=%d' % settings.batch_size,
               '--image_size=%d' % settings.image_size, '--variants=%s' % ','.join(TORCH_VARIANTS),
               '--warmup_iters=%d' % settings.warmup_iters, '--num_iters=%d' % settings.num_iters]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode:
        raise RuntimeError('%s failed:\n%s' % (settings.torch_script, completed.stderr[-2000:]))
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return None if 'unavailable' in result else result


def measure(settings: GanSpeedSettings):
    """Every round's timings, the medians (seconds per step, images/s) and within-round ratios."""
    rounds = []
    for _ in range(settings.rounds):
        timings = {'tf_depth_%g' % depth: tf_training_seconds(settings, depth)
                   for depth in settings.depth_multipliers}
        peer = torch_training_seconds(settings) if settings.torch_python else None
        if peer:
            timings.update({'torch_' + variant: seconds
                            for variant, seconds in peer['training_seconds'].items()})
            timings['torch_version'], timings['torch_threads'] = peer['version'], peer['threads']
        rounds.append(timings)
    systems = [key for key in rounds[0] if not key.startswith('torch_v') and key != 'torch_threads']
    median = {system: statistics.median(timing[system] for timing in rounds) for system in systems}
    ratios = {}
    if 'tf_depth_1' in median:
        for system in systems:
            if system.startswith('torch_'):  # > 1: this repository's step is faster
                ratios['%s_over_tf' % system] = statistics.median(
                    timing[system] / timing['tf_depth_1'] for timing in rounds)
    return {'machine': benchmarking.machine_description(), 'settings': dataclasses.asdict(settings),
            'rounds': rounds, 'seconds_per_step': median,
            'images_per_second': {system: settings.batch_size / seconds
                                  for system, seconds in median.items()},
            'ratios': ratios}


def summarise(result):
    """The table benchmark_dcgan.py prints."""
    lines = ['%-24s %12s %10s' % ('system', 's / step', 'images/s')]
    for system, seconds in result['seconds_per_step'].items():
        lines.append('%-24s %12.3f %10.1f' % (system, seconds, result['images_per_second'][system]))
    for name, ratio in result['ratios'].items():
        lines.append('%s (median over rounds): %.2f' % (name, ratio))
    return lines
