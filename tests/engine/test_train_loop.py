"""The shared training loop: resume, save on Ctrl-C and SIGTERM, NaN stop, learning-rate schedule,
checkpoint init, a train dir of another model, stale temporaries."""
import glob
import os
import re
import signal

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.engine import checkpoint_recovery, cli, inference, train_loop


def _dataset_fn():
    features = np.random.RandomState(0).normal(size=[64, 3]).astype(np.float32)
    targets = features @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    return tf.data.Dataset.from_tensor_slices({'x': features, 'y': targets}).repeat().batch(8)


def _linear_model_fn(batch):
    prediction = slim.fully_connected(batch['x'], 1, activation_fn=None, scope='linear')
    return train_loop.ModelOutputs(losses={'l2': tf.reduce_mean(tf.square(prediction - batch['y']))})


def _config(train_dir, max_steps, **kwargs):
    kwargs = {'learning_rate': 0.05, **kwargs}
    return train_loop.TrainConfig(train_dir=str(train_dir), max_steps=max_steps, batch_size=8,
                                 show_progress=False, save_checkpoint_steps=1000, **kwargs)


def _checkpoint_step(train_dir):
    path = tf.train.latest_checkpoint(str(train_dir))
    return None if path is None else int(path.rsplit('-', 1)[1])


def test_training_reduces_loss_and_resumes_from_the_saved_step(tmp_path):
    assert train_loop.train(_config(tmp_path, 40), _dataset_fn, _linear_model_fn) == 40
    assert _checkpoint_step(tmp_path) == 40
    assert train_loop.train(_config(tmp_path, 80), _dataset_fn, _linear_model_fn) == 80
    assert _checkpoint_step(tmp_path) == 80
    weights = tf.train.load_checkpoint(str(tmp_path)).get_tensor('linear/weights')
    np.testing.assert_allclose(weights[:, 0], [1.0, -2.0, 0.5], atol=0.1)


class _InterruptAt(tf.train.SessionRunHook):
    def __init__(self, step):
        self._step = step

    def after_run(self, run_context, run_values):
        if run_context.session.run(tf.train.get_global_step()) >= self._step:
            raise KeyboardInterrupt


def test_ctrl_c_saves_a_checkpoint_at_the_current_step_and_raises(tmp_path):
    with pytest.raises(train_loop.TrainingInterrupted,
                       match=r'interrupted \(SIGINT\) at step 7, checkpoint saved in') as raised:
        train_loop.train(_config(tmp_path, 100), _dataset_fn, _linear_model_fn,
                         extra_hooks=[_InterruptAt(7)])
    assert raised.value.step == 7 and _checkpoint_step(tmp_path) == 7
    assert cli.interrupted_exit_status(raised.value) == 130


class _SignalAt(tf.train.SessionRunHook):
    def __init__(self, step, signum):
        self._step, self._signum = step, signum

    def after_run(self, run_context, run_values):
        if run_context.session.run(tf.train.get_global_step()) == self._step:
            os.kill(os.getpid(), self._signum)


def test_sigterm_is_handled_as_ctrl_c(tmp_path):
    previous = signal.signal(signal.SIGTERM, cli._raise_terminated)
    try:
        with pytest.raises(train_loop.TrainingInterrupted, match=r'\(SIGTERM\) at step 5') as raised:
            train_loop.train(_config(tmp_path, 100), _dataset_fn, _linear_model_fn,
                             extra_hooks=[_SignalAt(5, signal.SIGTERM)])
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert _checkpoint_step(tmp_path) == 5 and cli.interrupted_exit_status(raised.value) == 143


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_last_good_checkpoint(tmp_path):
    def exploding_model_fn(batch):
        outputs = _linear_model_fn(batch)
        step = tf.train.get_or_create_global_step()
        loss = tf.where(step >= 5, np.float32(np.nan), outputs.losses['l2'])
        return train_loop.ModelOutputs(losses={'l2': loss})

    with pytest.raises(train_loop.NaNLossError, match='NaN'):
        train_loop.train(_config(tmp_path, 50), _dataset_fn, exploding_model_fn)
    assert _checkpoint_step(tmp_path) is not None and _checkpoint_step(tmp_path) < 5


def test_a_divergence_saved_every_step_leaves_a_sound_latest_checkpoint_to_resume_from(tmp_path):
    # The recipe: momentum 0.99 at rate 1e3, a save every step. The saver runs before the NaN
    # guard sees the step's loss, so non-finite variables reach checkpoints first.
    diverging = _config(tmp_path, 50, learning_rate=1e3, momentum=0.99)
    diverging.save_checkpoint_steps = 1
    with pytest.raises(train_loop.NaNLossError, match=r'from before the divergence: lower '
                                                      r'--learning_rate') as raised:
        train_loop.train(diverging, _dataset_fn, _linear_model_fn)
    nan_step = int(re.search(r'at step (\d+)', str(raised.value)).group(1))
    set_aside = sorted(glob.glob(str(tmp_path / (checkpoint_recovery.NONFINITE_PREFIX + '*.index'))))
    assert any(checkpoint_recovery.nonfinite_variables(index[:-len('.index')]) for index in set_aside), \
        'the premise: a checkpoint with non-finite variables was written'
    assert 'hold a NaN or an inf' in str(raised.value)
    for index in set_aside:
        assert int(index[:-len('.index')].rsplit('-', 1)[1]) >= nan_step
    latest = tf.train.latest_checkpoint(str(tmp_path))
    assert int(latest.rsplit('-', 1)[1]) < nan_step
    assert checkpoint_recovery.nonfinite_variables(latest) == []
    # Resuming as the message advises works: the run goes on from that checkpoint to the end.
    resumed = _config(tmp_path, 40, learning_rate=0.01)
    assert train_loop.train(resumed, _dataset_fn, _linear_model_fn) == 40
    assert checkpoint_recovery.nonfinite_variables(tf.train.latest_checkpoint(str(tmp_path))) == []


def test_temporaries_of_an_interrupted_save_are_removed_at_start(tmp_path):
    stale = [tmp_path / 'model.ckpt-5.data-00000-of-00001.tempstate7311',
             tmp_path / 'model.ckpt-5.meta.tmp4e1f0c', tmp_path / '.model_config.json.x1y2.tmp']
    for path in stale:
        path.write_bytes(b'half a checkpoint')
    train_loop.train(_config(tmp_path, 3), _dataset_fn, _linear_model_fn)
    assert not any(path.exists() for path in stale)


def test_a_train_dir_of_another_model_is_refused_in_one_line_and_left_alone(tmp_path):
    train_loop.train(_config(tmp_path, 3), _dataset_fn, _linear_model_fn)
    before = sorted(os.listdir(tmp_path))

    def other_model_fn(batch):
        hidden = slim.fully_connected(batch['x'], 4, scope='hidden')
        prediction = slim.fully_connected(hidden, 1, activation_fn=None, scope='out')
        return train_loop.ModelOutputs(losses={'l2': tf.reduce_mean(tf.square(prediction - batch['y']))})

    written = []
    with pytest.raises(train_loop.TrainDirError, match=r'holds model\.ckpt-3, which does not restore'):
        train_loop.train(_config(tmp_path, 6), _dataset_fn, other_model_fn,
                         after_restore=lambda: written.append(True))
    assert not written and sorted(os.listdir(tmp_path)) == before
    train_loop.train(_config(tmp_path, 6), _dataset_fn, _linear_model_fn,
                     after_restore=lambda: written.append(True))
    assert written == [True]


def test_a_finished_run_started_again_does_nothing(tmp_path):
    assert train_loop.train(_config(tmp_path, 5), _dataset_fn, _linear_model_fn) == 5
    before = {name: os.path.getmtime(tmp_path / name) for name in os.listdir(tmp_path)}
    for _ in range(2):
        assert train_loop.train(_config(tmp_path, 5), _dataset_fn, _linear_model_fn) == 5
    assert _checkpoint_step(tmp_path) == 5
    assert {name: os.path.getmtime(tmp_path / name) for name in os.listdir(tmp_path)} == before
    # A lower --max_steps than reached is as finished; a higher one trains on.
    assert train_loop.train(_config(tmp_path, 3), _dataset_fn, _linear_model_fn) == 5
    assert train_loop.train(_config(tmp_path, 7), _dataset_fn, _linear_model_fn) == 7


@pytest.mark.parametrize('first, then', [('momentum', 'adam'), ('adam', 'momentum')])
def test_resuming_with_another_optimizer_is_refused_naming_both(tmp_path, first, then):
    train_loop.train(_config(tmp_path, 2, optimizer=first), _dataset_fn, _linear_model_fn)
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(train_loop.TrainDirError,
                       match=r'trained with --optimizer=%s; this run asks for %s.*resume with '
                             r'--optimizer=%s' % (first, then, first)):
        train_loop.train(_config(tmp_path, 4, optimizer=then), _dataset_fn, _linear_model_fn)
    assert sorted(os.listdir(tmp_path)) == before


def test_piecewise_schedule_with_warmup():
    config = _config('unused', 10, lr_boundaries=(10, 20), warmup_steps=4, warmup_factor=0.25)
    with tf.Graph().as_default():
        step = tf.placeholder(tf.int64, [])
        rate = train_loop.configure_learning_rate(config, step)
        with tf.Session() as sess:
            got = [sess.run(rate, {step: s}) for s in (0, 2, 4, 9, 10, 19, 20)]
    np.testing.assert_allclose(got, [0.0125, 0.03125, 0.05, 0.05, 0.005, 0.005, 0.0005], rtol=1e-6)


class _RecordWeights(tf.train.SessionRunHook):
    """The linear model's weights before the first step and after each step."""

    def __init__(self):
        self.values = []

    def after_create_session(self, session, coord):
        self._weights = slim.get_unique_variable('linear/weights')
        self.values.append(session.run(self._weights))

    def after_run(self, run_context, run_values):
        self.values.append(run_context.session.run(self._weights))


def test_moving_averages_follow_the_weights_and_inference_restores_them(tmp_path):
    decay, steps = 0.9, 30
    recorder = _RecordWeights()
    train_loop.train(_config(tmp_path, steps, moving_average_decay=decay), _dataset_fn, _linear_model_fn,
                    extra_hooks=[recorder])
    # tf.train.ExponentialMovingAverage with num_updates: starts at the initial weights; after step n
    # (the global step once incremented) it decays by min(decay, (1 + n) / (10 + n)).
    expected = recorder.values[0]
    for step, weights in enumerate(recorder.values[1:], start=1):
        rate = min(decay, (1.0 + step) / (10.0 + step))
        expected = rate * expected + (1 - rate) * weights
    reader = tf.train.load_checkpoint(str(tmp_path))
    np.testing.assert_allclose(reader.get_tensor('linear/weights/ExponentialMovingAverage'), expected,
                               rtol=1e-5)
    assert not np.allclose(expected, recorder.values[-1], rtol=1e-3)
    with tf.Graph().as_default():
        _linear_model_fn({'x': tf.zeros([1, 3]), 'y': tf.zeros([1, 1])})
        weights = slim.get_unique_variable('linear/weights')
        prefix = tf.train.latest_checkpoint(str(tmp_path))
        averaged = inference.variables_to_restore(prefix)
        plain = inference.variables_to_restore(prefix, use_moving_averages=False)
        with tf.Session() as session:
            tf.train.Saver(averaged).restore(session, prefix)
            np.testing.assert_allclose(session.run(weights), expected, rtol=1e-5)
            tf.train.Saver(plain).restore(session, prefix)
            np.testing.assert_allclose(session.run(weights), recorder.values[-1], rtol=1e-6)


def test_cosine_schedule_with_warmup():
    config = _config('unused', 100, learning_rate=0.1, lr_schedule='cosine', lr_decay_factor=0.01,
                     warmup_steps=10, warmup_factor=0.5)
    with tf.Graph().as_default():
        step = tf.placeholder(tf.int64, [])
        rate = train_loop.configure_learning_rate(config, step)
        with tf.Session() as sess:
            steps = (0, 5, 50, 100, 150)
            got = [sess.run(rate, {step: s}) for s in steps]
    # 0.1 * (alpha + (1 - alpha) * (1 + cos(pi * t / 100)) / 2), times the warm-up ramp 0.5 -> 1.
    cosine = [0.1 * (0.01 + 0.99 * (1 + np.cos(np.pi * min(s, 100) / 100)) / 2) for s in steps]
    ramp = [0.5 + 0.5 * min(s / 10, 1.0) for s in steps]
    np.testing.assert_allclose(got, np.multiply(cosine, ramp), rtol=1e-5)
    np.testing.assert_allclose(got[3:], [0.001, 0.001], rtol=1e-5)


def test_checkpoint_init_reports_shape_mismatches_and_missing_variables(tmp_path):
    with tf.Graph().as_default():
        slim.model_variable('net/a', shape=[3, 2])
        slim.model_variable('net/b', shape=[4])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            prefix = tf.train.Saver().save(sess, str(tmp_path / 'model.ckpt'))
    with tf.Graph().as_default():
        slim.model_variable('net/a', shape=[3, 5])
        slim.model_variable('net/b', shape=[4])
        slim.model_variable('net/c', shape=[1])
        with pytest.raises(ValueError, match=r'net/a: checkpoint \[3, 2\], model \[3, 5\]'):
            train_loop.checkpoint_init_fn(prefix)
        with pytest.raises(ValueError, match='net/c'):
            train_loop.checkpoint_init_fn(prefix, exclude_scopes=['net/a'])
        assert train_loop.checkpoint_init_fn(prefix, exclude_scopes=['net/a'],
                                            ignore_missing_vars=True) is not None


def test_a_checkpoint_with_the_same_names_but_other_shapes_is_refused(tmp_path):
    # Resource variables restore without a shape check: another thinning or class count must be
    # refused before the session exists, not at the first step.
    train_loop.train(_config(tmp_path, 2), _dataset_fn, _linear_model_fn)

    def wider_model_fn(batch):
        prediction = slim.fully_connected(batch['x'], 2, activation_fn=None, scope='linear')
        return train_loop.ModelOutputs(losses={'l2': tf.reduce_mean(tf.square(prediction - batch['y']))})

    written = []
    with pytest.raises(train_loop.TrainDirError, match=r'linear/\w+ is \[\d*,? ?\d*\] there, '):
        train_loop.train(_config(tmp_path, 4), _dataset_fn, wider_model_fn,
                         after_restore=lambda: written.append(True))
    assert not written


def test_a_restarted_chief_finds_the_live_model_on_the_parameter_servers():
    """A cluster whose variables are initialised on the servers (its chief was started again) is
    continued from them, at their global step; a new one (nothing initialised) is not."""
    server = tf.distribute.Server.create_local_server()
    with tf.Graph().as_default():
        global_step = tf.train.get_or_create_global_step()
        tf.get_variable('weights', [2], initializer=tf.ones_initializer())
        assert train_loop._live_step_on_parameter_servers(server, None) is None
        with tf.Session(server.target) as session:
            session.run(tf.global_variables_initializer())
            session.run(global_step.assign(7))
        assert train_loop._live_step_on_parameter_servers(server, None) == 7
    assert train_loop._live_step_on_parameter_servers(None, None) is None
