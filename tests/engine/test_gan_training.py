"""DCGAN's training step: each network's update moves only its own variables; the chained step runs
on the shared loop (global step, checkpoints, sample-grid summaries)."""
import glob

import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.engine import gan_training, train_loop
from tf1zoo.nets import dcgan

SETUP = gan_training.GanSetup(image_size=16, channels=3, depth_multiplier=1 / 16)


def _config(train_dir, max_steps=3):
    return train_loop.TrainConfig(train_dir=str(train_dir), max_steps=max_steps, batch_size=4,
                                  learning_rate=2e-4, optimizer='adam', adam_beta1=0.5,
                                  show_progress=False, save_summaries_steps=1)


def _real_images(batch_size=4):
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, (batch_size, SETUP.image_size, SETUP.image_size, 3)).astype(np.float32)


def _values(session, scope):
    return {v.op.name: session.run(v) for v in tf.global_variables(scope)}


def test_a_discriminator_update_moves_only_d_and_a_generator_update_only_g(tmp_path):
    with tf.Graph().as_default():
        with slim.arg_scope(dcgan.dcgan_arg_scope(is_training=True)):
            ops = gan_training.gan_train_ops(SETUP, _config(tmp_path), tf.constant(_real_images()),
                                             learning_rate=0.01, chained=False)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            for update, moved, still in ((ops.discriminator, 'Discriminator', 'Generator'),
                                         (ops.generator, 'Generator', 'Discriminator')):
                before = {scope: _values(session, scope) for scope in (moved, still)}
                session.run(update)
                after = {scope: _values(session, scope) for scope in (moved, still)}
                trained = [name for name in before[moved] if name.endswith('weights')]
                assert trained and all(not np.array_equal(before[moved][name], after[moved][name])
                                       for name in trained), moved
                assert all(np.array_equal(before[still][name], after[still][name])
                           for name in before[still] if 'Adam' not in name), still


def test_chained_training_on_the_shared_loop(tmp_path):
    def dataset_fn():
        return tf.data.Dataset.from_tensors({gan_training.IMAGES: _real_images()}).repeat()

    assert gan_training.train_gan(SETUP, _config(tmp_path, max_steps=3), dataset_fn) == 3
    reader = tf.train.load_checkpoint(str(tmp_path))
    assert reader.get_tensor('global_step') == 3
    names = set(reader.get_variable_to_shape_map())
    assert 'Generator/deconv2/weights' in names and 'Discriminator/logit/weights' in names
    tags = set()
    for path in glob.glob(str(tmp_path / 'events.*')):
        for event in tf.train.summary_iterator(path):
            tags.update(value.tag for value in event.summary.value)
    assert {'losses/discriminator_loss', 'losses/generator_loss'} <= tags
    assert any(tag.startswith('images_gt_and_predictions') for tag in tags)


def test_the_grid_tiles_row_by_row():
    with tf.Graph().as_default(), tf.Session() as session:
        images = np.zeros([4, 2, 2, 1], np.float32) - 1
        images[1] = 1  # top right
        grid = session.run(gan_training.tile_images(tf.constant(images), 2))
    assert grid.shape == (1, 4, 4, 1)
    np.testing.assert_array_equal(grid[0, :, :, 0], [[0, 0, 255, 255], [0, 0, 255, 255],
                                                     [0, 0, 0, 0], [0, 0, 0, 0]])
