"""Training DCGAN on the shared loop (`train_loop`): the paper's alternating updates as one train op.

Each step is the paper's iteration (Goodfellow et al. 2014, Algorithm 1 with k = 1, as DCGAN runs
it): one discriminator update on a batch of real images and a batch of G(z), then
``generator_steps`` generator updates, each on fresh z and after the previous update (control
dependencies: the generator's pass reads the discriminator's updated weights). Adam with rate 2e-4
and beta1 0.5 for both networks (DCGAN sec. 4), one optimizer each, each updating only its own
network's variables (scopes ``Discriminator`` and ``Generator``) and its own batch-norm statistics.
The global step counts iterations. In a cluster with ``--sync_replicas`` each update is synchronised on
its own (`_apply`): every worker's D gradients are averaged into one D update before any
worker computes its G gradients, so a synchronous step is the paper's iteration on the replicas'
batches together. TF-GAN (``tensorflow-gan`` 2.1.0, the latest) does not import on
TensorFlow 2.21 (it subclasses ``tf.estimator.SessionRunHook``, and ``tf.estimator`` is gone), so this
is written with TF's own ops instead of its ``gan_model`` / ``gan_train_ops``.

Images are float32 ``[batch, size, size, channels]`` in [-1, 1]; the batch is a dict with ``images``.
"""
import dataclasses
import json
import os

import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.datasets import image_folder, image_records, mnist
from tf1zoo.engine import checkpoint_info, cluster, train_loop
from tf1zoo.nets import dcgan
from tf1zoo.ops import gan_losses

IMAGES = 'images'
GENERATOR_SCOPE = 'Generator'
DISCRIMINATOR_SCOPE = 'Discriminator'
# Fixed z of the sample grid in the TensorBoard summaries (8 x 8 samples).
GRID_SIDE = 8
GRID_SEED = 1234


@dataclasses.dataclass(frozen=True)
class GanSetup:
    """The DCGAN to build: its image size and channels, thinning, G updates per D update."""

    image_size: int = 64
    channels: int = 3
    depth_multiplier: float = 1.0
    generator_steps: int = 1


@dataclasses.dataclass(frozen=True)
class GanTrainOps:
    """The discriminator's update and the generator's (which runs after it when chained)."""

    discriminator: tf.Operation
    generator: tf.Operation
    discriminator_loss: tf.Tensor
    generator_loss: tf.Tensor
    # The SyncReplicasOptimizer hooks of a synchronous cluster's updates (empty otherwise).
    sync_hooks: tuple = ()


def _scope_variables(scope):
    return tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope + '/')


def _new_update_ops(before):
    return [op for op in tf.get_collection(tf.GraphKeys.UPDATE_OPS) if op not in before]


def _generated(setup, batch_size, is_training=True):
    images, _ = dcgan.generator(dcgan.sample_z(batch_size), setup.image_size, setup.channels,
                                setup.depth_multiplier, is_training=is_training,
                                reuse=tf.AUTO_REUSE, scope=GENERATOR_SCOPE)
    return images


def _discriminated(setup, images):
    logits, _ = dcgan.discriminator(images, setup.depth_multiplier, reuse=tf.AUTO_REUSE,
                                    scope=DISCRIMINATOR_SCOPE)
    return logits


def _optimizer(config, learning_rate):
    return tf.train.AdamOptimizer(learning_rate, beta1=config.adam_beta1)


def _gradients(optimizer, loss, scope, dependencies):
    """``loss``'s gradients for ``scope``'s variables, computed after ``dependencies`` have run."""
    with tf.control_dependencies(dependencies):
        return optimizer.compute_gradients(loss, var_list=_scope_variables(scope))


def _apply(optimizer, gradients, step, replication, name):
    """Applies ``gradients``, or with ``--sync_replicas`` averages them over the replicas first
    through a SyncReplicasOptimizer of its own; returns (train op, its hook or None). ``step``: the
    counter this update increments. Called outside any control-dependency context: a synchronous
    update is applied by the chief's queue runner thread, which must not run this step's ops.

    SyncReplicasOptimizer names its token queue ("sync_token_q") and gradient accumulators (after
    their variables) by fixed shared names, so two of them in one graph would share those resources
    on the parameter servers. Each update therefore builds them in a resource container of its own
    (``tf.container``) and counts its updates in ``step`` (its staleness check and tokens read it):
    the global step for the iteration's last update, a counter of its own for the others.
    """
    if not replication.sync_replicas:
        return optimizer.apply_gradients(gradients, global_step=step), None
    synchronised, hook = cluster.synchronous(optimizer, replication)
    # Container names take letters, digits, '.', '-' and '/' only.
    with tf.container('sync-' + name.replace('_', '-')):
        return synchronised.apply_gradients(gradients, global_step=step), hook


def _update_counter(name, replication, is_last):
    """The global step for the last update of an iteration; for another, only in a synchronous
    cluster (which needs a step per update), a non-trainable counter of its own; else None."""
    if is_last:
        return tf.train.get_or_create_global_step()
    if not replication.sync_replicas:
        return None
    return tf.get_variable('sync_updates/' + name, [], tf.int64, tf.zeros_initializer(), trainable=False)


def gan_train_ops(setup: GanSetup, config: train_loop.TrainConfig, real_images, learning_rate,
                  chained=True) -> GanTrainOps:
    """The D update, then the G update(s), inside `dcgan.dcgan_arg_scope`; ``chained``: the first G
    update waits for D's and each later one for the previous (False: independent, for tests)."""
    replication = config.cluster or cluster.ClusterConfig()
    batch_size = real_images.shape.as_list()[0]
    before = list(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
    real_logits = _discriminated(setup, real_images)
    fake_logits = _discriminated(setup, _generated(setup, batch_size))
    d_loss = gan_losses.discriminator_loss(real_logits, fake_logits)
    # Each update moves its own network's statistics only (G's here would move in D's update).
    d_updates = [op for op in _new_update_ops(before) if op.name.startswith(DISCRIMINATOR_SCOPE)]
    d_optimizer = _optimizer(config, learning_rate)
    d_train, d_hook = _apply(
        d_optimizer, _gradients(d_optimizer, d_loss, DISCRIMINATOR_SCOPE, d_updates),
        _update_counter('discriminator', replication, is_last=False), replication, 'discriminator')
    hooks = [d_hook]
    g_optimizer = _optimizer(config, learning_rate)  # one Adam (one set of moments) for every G update
    previous, g_loss = d_train, None
    for index in range(setup.generator_steps):
        with tf.control_dependencies([previous] if chained else []):
            before = list(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
            g_loss = gan_losses.generator_loss(_discriminated(setup, _generated(setup, batch_size)))
        g_updates = [op for op in _new_update_ops(before) if op.name.startswith(GENERATOR_SCOPE)]
        name = 'generator_%d' % (index + 1)
        previous, g_hook = _apply(
            g_optimizer, _gradients(g_optimizer, g_loss, GENERATOR_SCOPE, g_updates),
            _update_counter(name, replication, index == setup.generator_steps - 1), replication, name)
        hooks.append(g_hook)
    return GanTrainOps(discriminator=d_train, generator=previous, discriminator_loss=d_loss,
                       generator_loss=g_loss, sync_hooks=tuple(hook for hook in hooks if hook))


def sample_grid(setup: GanSetup, side=GRID_SIDE, seed=GRID_SEED):
    """uint8 ``[1, side * size, side * size, channels]``: G on fixed z (training-mode batch norm, so
    early grids are meaningful), tiled row by row."""
    z = tf.random.stateless_uniform([side * side, dcgan.Z_DIM], [seed, 0], -1.0, 1.0)
    before = list(tf.get_collection(tf.GraphKeys.UPDATE_OPS))
    images, _ = dcgan.generator(z, setup.image_size, setup.channels, setup.depth_multiplier,
                                reuse=tf.AUTO_REUSE, scope=GENERATOR_SCOPE)
    for op in _new_update_ops(before):  # the grid's pass must not move the statistics
        tf.get_default_graph().get_collection_ref(tf.GraphKeys.UPDATE_OPS).remove(op)
    return tile_images(images, side)


def tile_images(images, side):
    """float ``[side * side, h, w, c]`` in [-1, 1] -> uint8 ``[1, side * h, side * w, c]``."""
    _, height, width, channels = images.shape.as_list()
    grid = tf.reshape(images, [side, side, height, width, channels])
    grid = tf.reshape(tf.transpose(grid, [0, 2, 1, 3, 4]), [1, side * height, side * width, channels])
    return tf.cast(tf.round((tf.clip_by_value(grid, -1.0, 1.0) + 1.0) * 127.5), tf.uint8)


def make_model_fn(setup: GanSetup, config: train_loop.TrainConfig):
    """(batch) -> `train_loop.ModelOutputs` with the chained D / G train op and a sample grid."""

    def model_fn(batch):
        with slim.arg_scope(dcgan.dcgan_arg_scope(is_training=True)):
            learning_rate = train_loop.configure_learning_rate(config, tf.train.get_or_create_global_step())
            ops = gan_train_ops(setup, config, batch[IMAGES], learning_rate)
            grid = sample_grid(setup)
        return train_loop.ModelOutputs(
            losses={'discriminator_loss': ops.discriminator_loss,
                    'generator_loss': ops.generator_loss},
            summary_images=grid, train_op=ops.generator, sync_hooks=ops.sync_hooks)

    return model_fn


def gan_config(setup: GanSetup):
    """What sample_dcgan.py needs to rebuild the generator (the train dir's model_config.json)."""
    return {'model_name': 'dcgan', 'image_size': setup.image_size, 'channels': setup.channels,
            'depth_multiplier': setup.depth_multiplier, 'z_dim': dcgan.Z_DIM,
            'generator_steps': setup.generator_steps}


def _check_same_gan(train_dir, config):
    path = os.path.join(train_dir, checkpoint_info.TRAIN_DIR_FILE)
    if not os.path.exists(path):
        return
    with open(path, encoding='utf-8') as stream:
        previous = json.load(stream)
    changed = ['%s: %r -> %r' % (key, previous.get(key), config[key])
               for key in ('model_name', 'image_size', 'channels', 'depth_multiplier')
               if previous.get(key) != config[key]]
    if changed:
        raise train_loop.TrainDirError('--train_dir holds a run of another model (%s): %s; use a '
                                       'new --train_dir' % (path, ', '.join(changed)))


def image_folder_dataset_fn(image_dir, setup: GanSetup, batch_size, seed=None, crop_size=None):
    """() -> batches of ``{'images': float32 [batch, size, size, 3] in [-1, 1]}`` from a folder tree
    (the centred ``crop_size`` or largest square, resized: how the paper's data were prepared)."""
    if setup.channels != 3:
        raise ValueError('image folders give RGB images: channels must be 3, got %d' % setup.channels)
    image_folder.list_image_files(image_dir)  # a missing or empty folder fails here, named
    return lambda: image_folder.build_image_dataset(
        image_dir, setup.image_size, batch_size, seed=seed,
        crop_size=crop_size).map(lambda images: {IMAGES: images})


def record_dataset_fn(dataset_dir, name, setup: GanSetup, batch_size, seed=None, crop_size=None):
    """() -> batches of ``{'images': ...}`` from an image folder or MNIST converted to TFRecords
    (`image_records`; the split must be whole; MNIST's need a 32 x 32 grayscale ``setup``)."""
    files = image_records.record_files(dataset_dir, name)
    channels = image_records.record_channels(dataset_dir, name)
    if channels != setup.channels:
        raise ValueError('%s/%s holds %d-channel images; the DCGAN to train has %d channels'
                         % (dataset_dir, name, channels, setup.channels))
    return lambda: image_records.build_record_dataset(
        files, setup.image_size, batch_size, seed=seed, crop_size=crop_size, channels=channels).map(
        lambda images, labels: {IMAGES: images})


def mnist_dataset_fn(images_path, setup: GanSetup, batch_size, seed=None):
    """() -> batches of ``{'images': float32 [batch, 32, 32, 1]}``: MNIST's digits padded to 32."""
    if (setup.image_size, setup.channels) != (mnist.MNIST_PADDED_SIZE, 1):
        raise ValueError('MNIST trains a 32 x 32 grayscale DCGAN, not %d x %d x %d'
                         % (setup.image_size, setup.image_size, setup.channels))
    mnist.read_mnist(images_path)  # a malformed file fails here, named
    return lambda: mnist.build_mnist_dataset(images_path, batch_size, seed=seed).map(
        lambda images: {IMAGES: images})


def train_gan(setup: GanSetup, config: train_loop.TrainConfig, dataset_fn):
    """Trains on ``dataset_fn``'s batches of ``{'images': ...}``; returns the step reached. The
    train dir's model_config.json is written once its checkpoint (if any) has restored.

    Raises:
      train_loop.TrainDirError: the train dir holds another model's run (nothing is written).
      train_loop.NaNLossError, train_loop.TrainingInterrupted: as `train_loop.train`.
    """
    config_json = gan_config(setup)
    _check_same_gan(config.train_dir, config_json)

    def write_config():
        checkpoint_info.write_json_atomically(
            os.path.join(config.train_dir, checkpoint_info.TRAIN_DIR_FILE), config_json)

    return train_loop.train(config, dataset_fn, make_model_fn(setup, config),
                            after_restore=write_config)
