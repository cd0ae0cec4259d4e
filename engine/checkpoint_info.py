"""The JSON that travels with a checkpoint: model name, classes, input convention, provenance.

Training writes ``<train_dir>/model_config.json``; the Caffe converter writes ``<prefix>.json`` beside
the checkpoint it makes. Evaluation and detection read it, so that a checkpoint is always run with the
model settings, class names and channel convention it was trained or converted with.
"""
import hashlib
import json
import os
import shutil
import tempfile

import tensorflow.compat.v1 as tf

from tf1zoo.ops import atomic_io

TRAIN_DIR_FILE = 'model_config.json'
# What a JSON that records none of these means: JSONs written before a setting existed and the Caffe
# converter's describe the paper's full-width net without batch norm; ``model_options`` are a model's
# settings beyond those (a converted darknet cfg's layer table), passed to its factory `build`.
MODEL_DEFAULTS = {'depth_multiplier': 1.0, 'batch_norm': False, 'model_options': {}}


def write_json_atomically(path, content):
    """Writes ``content`` as JSON to ``path`` atomically (`atomic_io.write_file_atomically`)."""
    text = json.dumps(content, indent=2, sort_keys=True) + '\n'
    atomic_io.write_file_atomically(path, text.encode('utf-8'))


def file_sha256(path):
    """The SHA-256 hex digest of a file (the provenance a converted checkpoint's JSON records)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def save_checkpoint_atomically(session, saver, prefix):
    """Saves ``saver``'s variables at ``prefix`` without ever leaving a half-written checkpoint there.

    The checkpoint is written into a temporary folder beside ``prefix``, then each file is renamed into
    place, the data shards first and the ``.index`` (which makes the checkpoint visible) last.
    """
    folder = os.path.dirname(os.path.abspath(prefix))
    os.makedirs(folder, exist_ok=True)
    temp_dir = tempfile.mkdtemp(dir=folder, prefix='.' + os.path.basename(prefix), suffix='.tmp')
    try:
        temp_prefix = os.path.join(temp_dir, 'model')
        saver.save(session, temp_prefix, write_meta_graph=False, write_state=False)
        for name in sorted(os.listdir(temp_dir), key=lambda name: name.endswith('.index')):
            atomic_io.move_into_place(os.path.join(temp_dir, name), prefix + name[len('model'):])
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)
    return prefix


def checkpoint_step(prefix):
    """The global step in a checkpoint prefix's name (``.../model.ckpt-1500`` -> 1500)."""
    return int(prefix.rsplit('-', 1)[1])


def resolve_checkpoint(checkpoint_path):
    """A checkpoint prefix from a prefix or a folder (its latest checkpoint); a clear error otherwise."""
    if tf.gfile.IsDirectory(checkpoint_path):
        latest = tf.train.latest_checkpoint(checkpoint_path)
        if latest is None:
            raise ValueError('no checkpoint in folder %s' % checkpoint_path)
        return latest
    if not tf.gfile.Exists(checkpoint_path + '.index'):
        raise ValueError('no checkpoint at %s (expected %s.index)' % (checkpoint_path, checkpoint_path))
    return checkpoint_path


def info_path_candidates(checkpoint_prefix):
    """Where a checkpoint's JSON may be: ``<prefix>.json``, then its folder's model_config.json."""
    return (checkpoint_prefix + '.json',
            os.path.join(os.path.dirname(checkpoint_prefix), TRAIN_DIR_FILE))


def with_model_defaults(info):
    """``info`` with `MODEL_DEFAULTS` where it records nothing."""
    return dict(MODEL_DEFAULTS, **info)


def read_checkpoint_info(checkpoint_prefix):
    """The checkpoint's JSON as a dict, or {} when it has none."""
    for path in info_path_candidates(checkpoint_prefix):
        if os.path.exists(path):
            try:
                with open(path) as stream:
                    return json.load(stream)
            except (OSError, ValueError) as error:
                raise ValueError('cannot read checkpoint info %s: %s' % (path, error)) from error
    return {}
