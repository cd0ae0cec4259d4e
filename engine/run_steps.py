"""The main jobs' resumable steps (``run_demo.py``, `gan_demo`): each named, timed and skipped when its
output is already there, so that an interrupted job resumes where it stopped."""
import os
import time

import tensorflow.compat.v1 as tf


def run_step(name, done, action, timings):
    """Runs ``action()`` unless ``done``; records its seconds in ``timings[name]``."""
    start = time.time()
    if done:
        print('[%s] already done, skipped' % name)
    else:
        print('[%s] ...' % name)
        action()
    timings[name] = round(time.time() - start, 1)


def trained_to(train_dir, step):
    """Whether ``train_dir``'s latest checkpoint is that of ``step`` (a training step that is done)."""
    latest = tf.train.latest_checkpoint(train_dir) if os.path.isdir(train_dir) else None
    return latest is not None and latest.endswith('-%d' % step)
