"""Keeping a train dir resumable after a kill or a divergence.

* A kill during a save leaves TensorFlow's temporaries beside the checkpoints (the saver's
  ``<prefix>.data-00000-of-00001.tempstate<n>`` and ``<prefix>.meta.tmp<uuid>``, as large as the
  checkpoint, and this repository's ``.<name>.<random>.tmp``): `remove_stale_temp_files` clears them
  when the next run starts.
* A divergence can reach a checkpoint before the NaN guard stops the run: the checkpoint saver runs
  after the step that made the variables (e.g. the ``Momentum`` slots) non-finite, while the guard
  looks at that step's loss, computed before the update; and a checkpoint can be finite yet give a
  NaN loss (weights a huge step made enormous). `set_aside_diverged_checkpoints` renames both kinds
  to ``nonfinite-<prefix>.*`` (kept for a post-mortem, invisible to the saver) and points the
  ``checkpoint`` file at the newest sound one, so that resuming works.
"""
import glob
import os

import numpy as np
import tensorflow.compat.v1 as tf

from tf1zoo.engine import checkpoint_info
from tf1zoo.ops import atomic_io

NONFINITE_PREFIX = 'nonfinite-'
_TEMP_PATTERNS = ('*.tempstate*', '*.meta.tmp*', '.*.tmp')


def remove_stale_temp_files(train_dir):
    """Removes the temporaries of interrupted saves in ``train_dir``; returns their paths."""
    stale = sorted({path for pattern in _TEMP_PATTERNS
                    for path in glob.glob(os.path.join(glob.escape(train_dir), pattern))
                    if os.path.isfile(path)})
    for path in stale:
        os.remove(path)
    return stale


def nonfinite_variables(prefix):
    """The names of the floating-point variables of checkpoint ``prefix`` holding a NaN or an inf."""
    reader = tf.train.load_checkpoint(prefix)
    return sorted(name for name, dtype in reader.get_variable_to_dtype_map().items()
                  if dtype.is_floating and not np.all(np.isfinite(reader.get_tensor(name))))


def _rename_checkpoint(prefix):
    folder, base = os.path.split(prefix)
    for path in glob.glob(glob.escape(prefix) + '.*'):
        os.replace(path, os.path.join(folder, NONFINITE_PREFIX + os.path.basename(path)))
    return os.path.join(folder, NONFINITE_PREFIX + base)


def set_aside_diverged_checkpoints(train_dir, nan_step=None):
    """Renames the newest checkpoints of ``train_dir`` back to the newest sound one, and makes that
    one the latest. A checkpoint is unsound when it holds a non-finite value or, ``nan_step`` being
    the global step whose loss was NaN, when it is from that step or later (its finite variables
    already gave that loss).

    Returns:
      (the newest sound checkpoint's prefix or None, [(new prefix, why)] for those set aside).
    """
    state = tf.train.get_checkpoint_state(train_dir)
    if state is None:
        return None, []
    kept = list(state.all_model_checkpoint_paths) or [state.model_checkpoint_path]
    set_aside = []
    while kept:
        nonfinite = nonfinite_variables(kept[-1])
        if nonfinite:
            why = '%d variables hold a NaN or an inf' % len(nonfinite)
        elif nan_step is not None and checkpoint_info.checkpoint_step(kept[-1]) >= nan_step:
            why = 'its variables gave the NaN loss of step %d' % nan_step
        else:
            break
        set_aside.append((_rename_checkpoint(kept.pop()), why))
    if not set_aside:
        return kept[-1] if kept else None, []
    if kept:
        _write_checkpoint_state(train_dir, kept)
    else:
        os.remove(os.path.join(train_dir, 'checkpoint'))
    return (kept[-1] if kept else None), set_aside


def _write_checkpoint_state(train_dir, prefixes):
    """The ``checkpoint`` file (a CheckpointState text proto) naming ``prefixes``, the last the
    latest, by base name as the saver writes them (so that the folder can move)."""
    names = [os.path.basename(prefix) for prefix in prefixes]
    lines = ['model_checkpoint_path: "%s"' % names[-1]]
    lines += ['all_model_checkpoint_paths: "%s"' % name for name in names]
    atomic_io.write_file_atomically(os.path.join(train_dir, 'checkpoint'),
                                    ('\n'.join(lines) + '\n').encode('utf-8'))
