"""In-graph replication (--num_clones): two clones on the CPU give one clone's loss and gradients
with the whole batch; batch norm's statistics come from the first clone's half; through the loop,
two clones train to the same weights as one."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.engine import model_clones, train_loop

_FEATURES = np.random.RandomState(0).normal(size=[64, 3]).astype(np.float32)
_TARGETS = _FEATURES @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3
_INITIAL_WEIGHTS = np.array([[0.2], [0.1], [-0.4]], np.float32)


def _linear_model_fn(batch):
    prediction = slim.fully_connected(
        batch['x'], 1, activation_fn=None, scope='linear',
        weights_initializer=tf.constant_initializer(_INITIAL_WEIGHTS),
        weights_regularizer=slim.l2_regularizer(0.01))
    error = prediction - batch['y']
    return train_loop.ModelOutputs(losses={'l2': tf.reduce_mean(tf.square(error)),
                                           'l1': tf.reduce_mean(tf.abs(error))})


def _loss_and_gradients(num_clones):
    with tf.Graph().as_default():
        batch = {'x': tf.constant(_FEATURES[:8]), 'y': tf.constant(_TARGETS[:8])}
        optimizer = tf.train.GradientDescentOptimizer(1.0)
        if num_clones == 1:
            outputs = _linear_model_fn(batch)
            total = tf.add_n(list(outputs.losses.values())) + tf.losses.get_regularization_loss()
            pairs = optimizer.compute_gradients(total)
        else:
            clones = model_clones.build_clones(_linear_model_fn, batch, num_clones)
            regularization = tf.losses.get_regularization_loss()
            total = tf.add_n(list(model_clones.mean_losses(clones).values())) + regularization
            pairs = model_clones.summed_gradients(optimizer, clones, regularization,
                                                  tf.trainable_variables())
        names = [variable.op.name for _, variable in pairs]
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            loss, gradients = session.run([total, [gradient for gradient, _ in pairs]])
        return loss, dict(zip(names, gradients)), len(tf.trainable_variables())


def test_two_clones_give_the_whole_batch_loss_and_gradients():
    whole_loss, whole_gradients, whole_count = _loss_and_gradients(1)
    cloned_loss, cloned_gradients, cloned_count = _loss_and_gradients(2)
    assert cloned_count == whole_count == 2  # shared, not copied
    assert cloned_loss == pytest.approx(whole_loss, rel=1e-6)
    assert sorted(cloned_gradients) == ['linear/biases', 'linear/weights']
    for name, gradient in whole_gradients.items():
        np.testing.assert_allclose(cloned_gradients[name], gradient, rtol=1e-5, atol=1e-7)
    # The weights' gradient by hand: d/dw of mean (e^2) + mean |e| + 0.01 * 0.5 * |w|^2.
    error = _FEATURES[:8] @ _INITIAL_WEIGHTS - _TARGETS[:8]
    by_hand = (_FEATURES[:8].T @ (2 * error + np.sign(error))) / 8 + 0.01 * _INITIAL_WEIGHTS
    np.testing.assert_allclose(cloned_gradients['linear/weights'], by_hand, rtol=1e-5)


def test_a_batch_that_does_not_split_evenly_is_refused():
    with tf.Graph().as_default():
        batch = {'x': tf.zeros([6, 3]), 'y': tf.zeros([6, 1])}
        with pytest.raises(ValueError, match='batch_size=6 does not split into --num_clones=4'):
            model_clones.split_batch(batch, 4)


def test_a_model_that_does_not_share_its_variables_is_refused():
    def unshared_model_fn(batch):
        weights = tf.Variable(tf.ones([3, 1]))
        return train_loop.ModelOutputs(losses={'l2': tf.reduce_mean(batch['x'] @ weights)})

    with tf.Graph().as_default():
        batch = {'x': tf.zeros([4, 3])}
        with pytest.raises(ValueError, match='clone 1 made 1 trainable variables of its own'):
            model_clones.build_clones(unshared_model_fn, batch, 2)


def _dataset_fn():
    return tf.data.Dataset.from_tensor_slices({'x': _FEATURES, 'y': _TARGETS}).repeat().batch(8)


def _config(train_dir, num_clones, max_steps=3):
    return train_loop.TrainConfig(train_dir=str(train_dir), max_steps=max_steps, batch_size=8,
                                  learning_rate=0.05, show_progress=False, num_clones=num_clones,
                                  clip_gradient_norm=10.0)


def _variables(train_dir):
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(train_dir)))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def test_two_clones_train_to_the_weights_of_one(tmp_path):
    assert train_loop.train(_config(tmp_path / 'one', 1), _dataset_fn, _linear_model_fn) == 3
    assert train_loop.train(_config(tmp_path / 'two', 2), _dataset_fn, _linear_model_fn) == 3
    one, two = _variables(tmp_path / 'one'), _variables(tmp_path / 'two')
    assert sorted(one) == sorted(two)  # the same checkpoint: clones add no variables
    for name in ('linear/weights', 'linear/biases', 'linear/weights/Momentum'):
        np.testing.assert_allclose(two[name], one[name], rtol=1e-5, atol=1e-7)
    assert not np.allclose(one['linear/weights'], _INITIAL_WEIGHTS)


def test_batch_norm_statistics_come_from_the_first_clone(tmp_path):
    def normalised_model_fn(batch):
        # As an image of 1x1 pixels: the nets' (fused) batch norm.
        images = tf.reshape(batch['x'], [-1, 1, 1, 3])
        normalised = slim.batch_norm(images, decay=0.5, is_training=True, scope='norm')
        return _linear_model_fn({'x': tf.reshape(normalised, [-1, 3]), 'y': batch['y']})

    train_loop.train(_config(tmp_path, 2, max_steps=1), _dataset_fn, normalised_model_fn)
    moving_mean = _variables(tmp_path)['norm/moving_mean']
    # From 0 with decay 0.5, after one step: half the mean of the first clone's 4 examples.
    np.testing.assert_allclose(moving_mean, 0.5 * _FEATURES[:4].mean(axis=0), rtol=1e-5)
