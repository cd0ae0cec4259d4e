"""The training loop every train CLI shares (SSD, RefineDet, and the models to come).

A caller (`detector_training`, from a train CLI's flags) fills a ``TrainConfig`` and hands ``train()``
two callables: one that builds the input ``tf.data.Dataset`` and one that builds the model's losses
from a batch. This module owns the rest, in TF1 style: the global step, the learning-rate schedule,
``MomentumOptimizer``, initialisation from a checkpoint (slim's ``vgg_16.ckpt`` or a converted Caffe
base) with exclude / trainable scopes, and a ``MonitoredTrainingSession`` that resumes from the
latest checkpoint in ``train_dir``, saves periodically and on Ctrl-C or SIGTERM (then raises
`TrainingInterrupted`), stops with a clear message when the loss becomes NaN (with the newest finite
checkpoint as the latest, `checkpoint_recovery`), shows a tqdm progress bar and writes TensorBoard
summaries.
"""
import dataclasses
import os
import time
from typing import Callable, Optional, Sequence

import tensorflow.compat.v1 as tf
import tf_slim as slim
import tqdm

from tf1zoo.engine import checkpoint_info, checkpoint_recovery, cluster, model_clones
from tf1zoo.ops import tf_errors


@dataclasses.dataclass
class TrainConfig:
    """What a training run needs besides the model and the data (`training_flags` fills it from flags)."""

    train_dir: str
    max_steps: int
    batch_size: int
    learning_rate: float = 1e-3
    # 'piecewise': the rate is multiplied by lr_decay_factor at each of lr_boundaries (the papers');
    # 'cosine': a half cosine from learning_rate down to learning_rate * lr_decay_factor at max_steps.
    lr_schedule: str = 'piecewise'
    lr_boundaries: Sequence[int] = ()
    lr_decay_factor: float = 0.1
    # Linear warm-up from learning_rate * warmup_factor over the first warmup_steps steps.
    warmup_steps: int = 0
    warmup_factor: float = 1.0 / 3
    momentum: float = 0.9
    optimizer: str = 'momentum'
    adam_beta1: float = 0.9  # Adam's own; DCGAN's paper sets 0.5
    # Clip gradients to this global norm (0: no clipping); steadies from-scratch training.
    clip_gradient_norm: float = 0.0
    # Keep an exponential moving average of the trained variables with this decay (0: none); the
    # averages are saved beside them and inference restores them in their place.
    moving_average_decay: float = 0.0
    checkpoint_path: Optional[str] = None
    checkpoint_exclude_scopes: Sequence[str] = ()
    trainable_scopes: Sequence[str] = ()
    ignore_missing_vars: bool = False
    save_checkpoint_steps: int = 1000
    save_summaries_steps: int = 100
    max_checkpoints_to_keep: int = 5
    seed: Optional[int] = None
    show_progress: bool = True
    # In-graph replication (`model_clones`): the batch split over this many copies of the model,
    # one per GPU (or all on the CPU), their gradients summed.
    num_clones: int = 1
    # Between-graph replication on a cluster (`cluster`); None trains in this process alone.
    cluster: Optional['cluster.ClusterConfig'] = None


@dataclasses.dataclass
class ModelOutputs:
    """What a model's loss builder returns: named scalar losses, and optionally summary images."""

    losses: dict
    summary_images: Optional[tf.Tensor] = None
    # A model with its own update (a GAN: one optimizer per network, run in turn) builds the train
    # op itself, incrementing the global step once per step; the loop then adds no optimizer.
    train_op: Optional[tf.Operation] = None
    # Such a model's SyncReplicasOptimizer hooks when it synchronises its updates in a cluster with
    # --sync_replicas (one per update); without them --sync_replicas is refused for it.
    sync_hooks: tuple = ()


class NaNLossError(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint in train_dir is kept."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) stopped training after the checkpoint of ``step`` was saved."""

    def __init__(self, step, train_dir, signal_name='SIGINT'):
        super().__init__('interrupted (%s) at step %s, checkpoint saved in %s; the same command '
                         'resumes' % (signal_name, step, train_dir))
        self.step = step
        self.train_dir = train_dir
        self.signal_name = signal_name


class TrainDirError(ValueError):
    """The train dir's checkpoint does not restore into the model being trained."""


def configure_learning_rate(config, global_step):
    """The decay schedule (piecewise as the SSD paper's 1e-3 -> 1e-4 -> 1e-5, or cosine), then an optional
    linear warm-up."""
    if config.lr_schedule == 'cosine':
        rate = tf.train.cosine_decay(config.learning_rate, global_step, config.max_steps,
                                     alpha=config.lr_decay_factor)
    elif config.lr_schedule == 'piecewise':
        rate = _piecewise_rate(config, global_step)
    else:
        raise ValueError('unknown learning-rate schedule %r (piecewise or cosine)' % config.lr_schedule)
    if config.warmup_steps > 0:
        progress = tf.minimum(tf.cast(global_step, tf.float32) / config.warmup_steps, 1.0)
        rate = rate * (config.warmup_factor + (1.0 - config.warmup_factor) * progress)
    return tf.identity(rate, name='learning_rate')


def _piecewise_rate(config, global_step):
    if not config.lr_boundaries:
        return tf.constant(config.learning_rate)
    values = [config.learning_rate * config.lr_decay_factor ** i
              for i in range(len(config.lr_boundaries) + 1)]
    # Caffe's "multistep" policy applies the new rate at the boundary step itself.
    boundaries = [tf.cast(b - 1, global_step.dtype) for b in config.lr_boundaries]
    return tf.train.piecewise_constant(global_step, boundaries, values)


def configure_optimizer(config, learning_rate):
    """SGD with momentum (the detectors' papers), or Adam (DCGAN's, with beta1 0.5)."""
    if config.optimizer == 'momentum':
        return tf.train.MomentumOptimizer(learning_rate, config.momentum)
    if config.optimizer == 'adam':
        return tf.train.AdamOptimizer(learning_rate, beta1=config.adam_beta1)
    raise ValueError('optimizer must be "momentum" or "adam", not %r' % config.optimizer)


def variables_to_train(trainable_scopes):
    """Trainable variables under any of the scopes (all of them when no scope is given)."""
    if not trainable_scopes:
        return tf.trainable_variables()
    selected = []
    for scope in trainable_scopes:
        selected.extend(tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope.strip()))
    if not selected:
        raise ValueError('no trainable variable under --trainable_scopes=%s' % ','.join(trainable_scopes))
    return selected


def checkpoint_init_fn(checkpoint_path, exclude_scopes=(), ignore_missing_vars=False):
    """An init_fn that restores the model's variables from a checkpoint by name.

    Variables under ``exclude_scopes`` are left to their initialisers (e.g. ``vgg_16/fc6,vgg_16/fc7`` for
    slim's vgg_16.ckpt, whose fc layers are fully connected). A variable missing from the checkpoint is an
    error unless ``ignore_missing_vars``; a shape mismatch is always an error naming both shapes.

    Returns:
      A function (scaffold, session) -> None, or None when checkpoint_path is empty.
    """
    if not checkpoint_path:
        return None
    if tf.gfile.IsDirectory(checkpoint_path):
        checkpoint_path = tf.train.latest_checkpoint(checkpoint_path)
        if checkpoint_path is None:
            raise ValueError('no checkpoint in directory %s' % checkpoint_path)
    reader = tf.train.load_checkpoint(checkpoint_path)
    stored_shapes = reader.get_variable_to_shape_map()
    exclusions = [scope.strip() for scope in exclude_scopes if scope.strip()]
    restore, missing, mismatched = [], [], []
    for var in slim.get_model_variables():
        name = var.op.name
        if any(name == s or name.startswith(s + '/') for s in exclusions):
            continue
        if name not in stored_shapes:
            missing.append(name)
        elif list(stored_shapes[name]) != var.shape.as_list():
            mismatched.append('%s: checkpoint %s, model %s' % (name, stored_shapes[name],
                                                                var.shape.as_list()))
        else:
            restore.append(var)
    if mismatched:
        raise ValueError('%s does not fit the model (exclude these scopes with '
                         '--checkpoint_exclude_scopes):\n  %s'
                         % (checkpoint_path, '\n  '.join(mismatched)))
    if missing and not ignore_missing_vars:
        raise ValueError('%s lacks %d model variables (pass --ignore_missing_vars to keep their '
                         'initial values):\n  %s' % (checkpoint_path, len(missing),
                                                     '\n  '.join(missing)))
    if not restore:
        raise ValueError('no variable of the model is in %s' % checkpoint_path)
    saver = tf.train.Saver(restore)
    tf.logging.info('Initialising %d variables from %s', len(restore), checkpoint_path)
    return lambda scaffold, session: saver.restore(session, checkpoint_path)


class ProgressHook(tf.train.SessionRunHook):
    """A tqdm bar over the steps, showing the loss and images per second."""

    def __init__(self, total_loss, max_steps, batch_size, enabled=True):
        self._fetches = {'loss': total_loss}
        self._global_step = tf.train.get_global_step()
        self._step_before = None
        self._max_steps = max_steps
        self._batch_size = batch_size
        self._enabled = enabled
        self._bar = None
        self._last_time = None
        self.last_step = None
        self.steps_run = 0  # by this process (in a cluster: this worker's share of the steps)

    def after_create_session(self, session, coord):
        self.last_step = int(session.run(tf.train.get_global_step()))
        self._bar = tqdm.tqdm(total=self._max_steps, initial=self.last_step, unit='step',
                              dynamic_ncols=True, disable=not self._enabled)
        self._last_time = time.time()

    def before_run(self, run_context):
        # Read before the step: a read fetched with the train op may see the step before or after
        # its increment, and the NaN stop needs the exact step.
        self._step_before = int(run_context.session.run(self._global_step))
        return tf.train.SessionRunArgs(self._fetches)

    def after_run(self, run_context, run_values):
        step = self._step_before + 1
        self.steps_run += 1
        now = time.time()
        images_per_sec = self._batch_size * (step - self.last_step) / max(now - self._last_time, 1e-9)
        self._bar.set_postfix(loss='%.4f' % run_values.results['loss'],
                              img_per_s='%.1f' % images_per_sec)
        self._bar.update(step - self.last_step)
        self.last_step, self._last_time = step, now

    def end(self, session):
        # In a cluster the other workers' steps count too: the step reached is read, not counted.
        self.last_step = int(session.run(self._global_step))
        self._bar.close()


def _clip_by_global_norm(max_norm):
    """A transform of (gradient, variable) pairs clipping to a global norm; None when max_norm <= 0.

    (tf-slim's own clip_gradient_norms breaks on TF 2.21: it looks for ops.IndexedSlices.)
    """
    if max_norm <= 0:
        return None

    def transform(grads_and_vars):
        grads, variables = zip(*grads_and_vars)
        clipped, _ = tf.clip_by_global_norm(grads, max_norm)
        return list(zip(clipped, variables))

    return transform


def _update_moving_averages_after(train_op, variables, decay, global_step):
    """Makes the train op also update the variables' moving averages, after the gradient step.

    ``tf.train.ExponentialMovingAverage`` names each average ``<variable>/ExponentialMovingAverage``;
    with ``num_updates`` its decay is min(decay, (1 + step) / (10 + step)), so the averages of a short
    run are not dominated by the initial weights.
    """
    averages = tf.train.ExponentialMovingAverage(decay, num_updates=global_step)
    with tf.control_dependencies([train_op]):
        update = averages.apply(variables)
    with tf.control_dependencies([update]):
        return tf.identity(train_op)


def build_train_op(config, clone_outputs, replication=None):
    """Total loss (model losses + weight decay), learning rate, optimizer and the train op.

    ``clone_outputs``: the `ModelOutputs` of each clone of the model (`model_clones`), one without
    ``--num_clones``; with several, their losses are averaged and their gradients summed.
    ``replication``: the `cluster.ClusterConfig`; with ``sync_replicas`` the optimizer is wrapped in
    a SyncReplicasOptimizer, whose hook is returned in a list (else an empty one) beside the train
    op and total loss; a model with its own update returns its own (`ModelOutputs.sync_hooks`).
    """
    replication = replication or cluster.ClusterConfig()
    global_step = tf.train.get_or_create_global_step()
    outputs = clone_outputs[0]
    losses = outputs.losses if len(clone_outputs) == 1 else model_clones.mean_losses(clone_outputs)
    model_loss = tf.add_n(list(losses.values()), name='model_loss')
    regularization = tf.losses.get_regularization_loss()
    total_loss = tf.identity(model_loss + regularization, name='total_loss')
    learning_rate = configure_learning_rate(config, global_step)
    trained = variables_to_train(config.trainable_scopes)
    sync_hooks = []
    if outputs.train_op is not None:
        if config.clip_gradient_norm > 0 or config.trainable_scopes or len(clone_outputs) > 1:
            raise ValueError('this model builds its own update: clip_gradient_norm, '
                             'trainable_scopes and num_clones do not apply to it')
        if replication.sync_replicas and not outputs.sync_hooks:
            raise ValueError('this model builds its own update and does not synchronise it: '
                             'sync_replicas does not apply to it')
        train_op, sync_hooks = outputs.train_op, list(outputs.sync_hooks)
    elif len(clone_outputs) == 1:
        optimizer, sync_hook = cluster.synchronous(configure_optimizer(config, learning_rate),
                                                   replication)
        sync_hooks = [sync_hook] if sync_hook is not None else []
        train_op = slim.training.create_train_op(
            total_loss, optimizer, global_step=global_step,
            variables_to_train=trained,
            transform_grads_fn=_clip_by_global_norm(config.clip_gradient_norm), check_numerics=False)
    else:
        train_op = _cloned_train_op(config, configure_optimizer(config, learning_rate), clone_outputs,
                                    regularization, total_loss, trained, global_step)
    if config.moving_average_decay > 0:
        train_op = _update_moving_averages_after(train_op, trained, config.moving_average_decay,
                                                 global_step)
    for name, loss in losses.items():
        tf.summary.scalar('losses/' + name, loss)
    tf.summary.scalar('losses/regularization', regularization)
    tf.summary.scalar('losses/total', total_loss)
    tf.summary.scalar('learning_rate', learning_rate)
    if outputs.summary_images is not None:
        tf.summary.image('images_gt_and_predictions', outputs.summary_images, max_outputs=4)
    return train_op, total_loss, sync_hooks


def _cloned_train_op(config, optimizer, clone_outputs, regularization, total_loss, trained,
                     global_step):
    """model_deploy's update: the clones' gradients summed on the parameter device, optionally
    clipped, applied once; batch norm's statistics from clone 0. Evaluates to the total loss, as
    slim's create_train_op does."""
    gradients = model_clones.summed_gradients(optimizer, clone_outputs, regularization, trained)
    clip = _clip_by_global_norm(config.clip_gradient_norm)
    if clip is not None:
        gradients = clip(gradients)
    apply = optimizer.apply_gradients(gradients, global_step=global_step)
    with tf.control_dependencies([apply] + model_clones.first_clone_update_ops()):
        return tf.identity(total_loss, name='train_op')


def build_model(config, model_fn, batch):
    """The model's `ModelOutputs` on ``batch``, once per clone (a list of one without clones)."""
    if config.num_clones > 1:
        return model_clones.build_clones(model_fn, batch, config.num_clones)
    return [model_fn(batch)]


class _AfterRestoreHook(tf.train.SessionRunHook):
    """Calls ``callback()`` once the session exists, i.e. once the train dir's checkpoint (if any)
    restored into this graph: what a run records about itself is written only for a run that fits."""

    def __init__(self, callback):
        self._callback = callback

    def after_create_session(self, session, coord):
        self._callback()


def train(config: TrainConfig, dataset_fn: Callable, model_fn: Callable[..., ModelOutputs],
          extra_hooks=(), after_restore: Optional[Callable[[], None]] = None):
    """Builds the graph and runs the training loop until ``config.max_steps``.

    Args:
      config: the run's settings.
      dataset_fn: () -> tf.data.Dataset of batched tensor dicts.
      model_fn: (batch tensor dict) -> ModelOutputs.
      extra_hooks: further SessionRunHooks (e.g. evaluation or profiling).
      after_restore: called once the session is created and the train dir's checkpoint restored
        (detector_training writes model_config.json there).

    Returns:
      The global step reached, config.max_steps.

    Raises:
      NaNLossError: the loss became NaN; the newest checkpoint from before it is the latest.
      TrainingInterrupted: Ctrl-C or SIGTERM; the current step was saved.
      TrainDirError: the train dir's checkpoint is another model's.
    """
    replication = (config.cluster or cluster.ClusterConfig()).check()
    server = None
    if replication.distributed:
        if config.num_clones > 1:
            raise cluster.ClusterError('--num_clones does not combine with a cluster: start one '
                                       'worker task per device instead')
        server = cluster.start_server(replication, _session_config(replication))
        if replication.job_name == 'ps':
            return cluster.serve_until_workers_done(replication, server)
    with tf.Graph().as_default():
        if config.seed is not None:
            tf.set_random_seed(config.seed)
        with tf.device(cluster.device_setter(replication) if server else None):
            # First, so that round robin puts it on parameter server 0 (`cluster`).
            tf.train.get_or_create_global_step()
            batch = tf.data.make_one_shot_iterator(dataset_fn()).get_next()
            train_op, total_loss, sync_hooks = build_train_op(
                config, build_model(config, model_fn, batch), replication)
            scaffold = tf.train.Scaffold(
                init_fn=checkpoint_init_fn(config.checkpoint_path, config.checkpoint_exclude_scopes,
                                           config.ignore_missing_vars),
                saver=tf.train.Saver(max_to_keep=config.max_checkpoints_to_keep))
        progress = ProgressHook(total_loss, config.max_steps, config.batch_size,
                                config.show_progress)
        hooks = [tf.train.StopAtStepHook(last_step=config.max_steps),
                 tf.train.NanTensorHook(total_loss, fail_on_nan_loss=True), progress]
        hooks.extend(sync_hooks)
        hooks.extend(extra_hooks)
        if after_restore is not None and replication.is_chief:
            hooks.append(_AfterRestoreHook(after_restore))
        if server is None:
            return _run_loop(config, scaffold, hooks, train_op, progress)
        try:
            step = _run_loop(config, scaffold, hooks, train_op, progress, server, replication)
        finally:
            cluster.signal_done(replication, server, _session_config(replication))
        tf.logging.info('worker %d ran %d steps; the global step is %d', replication.task_index,
                        progress.steps_run, step)
        return step


def _session_config(replication=None):
    session_config = tf.ConfigProto(allow_soft_placement=True)
    session_config.gpu_options.allow_growth = True
    if replication is not None and replication.job_name == 'worker':
        # A worker talks to the parameter servers and itself only: it neither waits for the other
        # workers to be up nor depends on them staying up.
        session_config.device_filters[:] = ['/job:ps', replication.task_device]
    return session_config


def _run_loop(config, scaffold, hooks, train_op, progress, server=None, replication=None):
    """Runs the train op until the stop hook says so; ``server``: this worker's in a cluster."""
    is_chief = replication is None or replication.is_chief
    if is_chief and tf.io.gfile.isdir(config.train_dir):
        for path in checkpoint_recovery.remove_stale_temp_files(config.train_dir):
            tf.logging.info('Removed %s, left by an interrupted save', path)
    interrupted = None
    # In a cluster the chief must create the session even when there is nothing to train (the
    # other workers wait for it): the loop below then runs no step.
    finished = _finished_step(config) if server is None else None
    if finished is not None:
        tf.logging.info('%s is already trained to step %d (--max_steps=%d): nothing to do',
                        config.train_dir, finished, config.max_steps)
        return finished
    try:
        with _monitored_session(config, scaffold, hooks, _session_config(replication), server,
                                is_chief) as session:
            # The step the session starts from is exact (a cluster's chief of a finished run
            # must still create the session, then run nothing).
            while not session.should_stop() and progress.last_step < config.max_steps:
                try:
                    session.run(train_op)
                except KeyboardInterrupt as interrupt:
                    # Leaving the block normally lets the checkpoint hook save the current step.
                    tf.logging.warning('Interrupted: saving a checkpoint in %s', config.train_dir)
                    interrupted = interrupt
                    break
    except tf.train.NanLossDuringTrainingError:
        raise NaNLossError(_nan_stop_message(config.train_dir, progress.last_step)) from None
    if interrupted is not None:
        latest = tf.train.latest_checkpoint(config.train_dir)
        raise TrainingInterrupted(checkpoint_info.checkpoint_step(latest) if latest else progress.last_step,
                                  config.train_dir, getattr(interrupted, 'signal_name', 'SIGINT'))
    return progress.last_step


def _finished_step(config):
    """The train dir's latest step when it has reached ``max_steps`` (once its checkpoint is seen to
    fit this graph), else None: a finished run started again must do nothing, and
    ``StopAtStepHook`` only stops after a step has run."""
    latest = tf.train.latest_checkpoint(config.train_dir)
    if latest is None:
        return None
    _check_checkpoint_fits(config.train_dir, latest, config.optimizer)
    step = checkpoint_info.checkpoint_step(latest)
    return step if step is not None and step >= config.max_steps else None


def _monitored_session(config, scaffold, hooks, session_config, server=None, is_chief=True):
    """The MonitoredTrainingSession (on ``server`` in a cluster, where only the chief restores and
    saves); a train dir checkpoint that does not fit the graph (another model's) is one clear
    `TrainDirError` instead of TensorFlow's restore traceback."""
    latest = tf.train.latest_checkpoint(config.train_dir) if is_chief else None
    if latest is not None:
        _check_checkpoint_fits(config.train_dir, latest, config.optimizer)
    live_step = _live_step_on_parameter_servers(server, session_config) if is_chief else None
    checkpoint_dir = config.train_dir
    if live_step is not None:
        # A chief started again while the parameter servers kept running: their variables are the
        # model as trained up to now (by the other workers too), newer than the last checkpoint.
        # Restoring it would rewind the global step under a synchronous cluster's gradient
        # accumulators and lose every step since the save: keep them instead (no init, no restore),
        # and save into the train dir through hooks of our own.
        tf.logging.info('The parameter servers hold the live model at global step %d: continuing '
                        'from it, not from %s', live_step, latest)
        scaffold = tf.train.Scaffold(init_op=tf.no_op(), saver=scaffold.saver)
        hooks = list(hooks) + _saving_hooks(config, scaffold)
        checkpoint_dir = None
    try:
        return tf.train.MonitoredTrainingSession(
            master=server.target if server is not None else '', is_chief=is_chief,
            checkpoint_dir=checkpoint_dir, scaffold=scaffold, hooks=hooks,
            save_checkpoint_steps=config.save_checkpoint_steps,
            save_summaries_steps=config.save_summaries_steps,
            log_step_count_steps=None, config=session_config,
            # A synchronous cluster's token queue runner waits on the parameter servers for
            # gradients no worker will send once training is over: do not wait long for it.
            stop_grace_period_secs=10 if server is not None else 120)
    except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError) as error:
        if latest is None:
            raise
        raise _does_not_restore(config.train_dir, latest, tf_errors.kernel_message(error)) from None


def _live_step_on_parameter_servers(server, session_config):
    """The global step on the parameter servers when every variable there is already initialised
    (a cluster whose chief was started again), else None (a new cluster, or no cluster)."""
    if server is None:
        return None
    uninitialized = tf.report_uninitialized_variables(tf.global_variables())
    with tf.Session(server.target, config=session_config) as session:
        if len(session.run(uninitialized)):
            return None
        return int(session.run(tf.train.get_global_step()))


def _saving_hooks(config, scaffold):
    """What MonitoredTrainingSession adds for a ``checkpoint_dir``: checkpoints and summaries."""
    return [tf.train.CheckpointSaverHook(config.train_dir, save_steps=config.save_checkpoint_steps,
                                         scaffold=scaffold),
            tf.train.SummarySaverHook(save_steps=config.save_summaries_steps,
                                      output_dir=config.train_dir, scaffold=scaffold)]


def _check_checkpoint_fits(train_dir, latest, optimizer=None):
    """Refuses a train-dir checkpoint whose variables have other shapes than the graph's, or lack
    some: resource variables restore without a shape check, so another model's run (other classes,
    other thinning) would otherwise restore and fail at the first step, after its config was
    overwritten. A run resumed with another ``--optimizer`` lacks only the optimizer's slots: said
    as such."""
    shapes = tf.train.load_checkpoint(latest).get_variable_to_shape_map()
    trained_with = _optimizer_of_checkpoint(shapes)
    if optimizer and trained_with and trained_with != optimizer:
        raise TrainDirError('%s holds %s, trained with --optimizer=%s; this run asks for %s, whose '
                            'slot variables it lacks: resume with --optimizer=%s, or use a new '
                            '--train_dir' % (train_dir, os.path.basename(latest), trained_with,
                                             optimizer, trained_with))
    for variable in tf.global_variables():
        name = variable.op.name
        if name not in shapes:
            problem = '%s is not in it' % name
        elif list(shapes[name]) != variable.shape.as_list():
            problem = '%s is %s there, %s in this model' % (name, list(shapes[name]),
                                                              variable.shape.as_list())
        else:
            continue
        raise _does_not_restore(train_dir, latest, problem)


# The slot variables each optimizer of `configure_optimizer` adds, by the end of their names.
_OPTIMIZER_SLOT_SUFFIXES = {'momentum': ('/Momentum',), 'adam': ('/Adam', '/Adam_1', 'beta1_power')}


def _optimizer_of_checkpoint(names):
    """'momentum' or 'adam' from a checkpoint's variable names; None for neither (a model with its
    own update, such as DCGAN's two Adams, or none saved) or both."""
    found = {optimizer for optimizer, suffixes in _OPTIMIZER_SLOT_SUFFIXES.items()
             if any(name.endswith(suffixes) for name in names)}
    return found.pop() if len(found) == 1 else None


def _does_not_restore(train_dir, latest, problem):
    return TrainDirError('%s holds %s, which does not restore into this model (%s): another '
                         'model\'s run? Use a new --train_dir' % (train_dir, os.path.basename(latest),
                                                                    problem))


def _nan_stop_message(train_dir, step):
    """``step``: the global step of the run whose loss was NaN (the progress hook's last step)."""
    latest, set_aside = checkpoint_recovery.set_aside_diverged_checkpoints(train_dir, nan_step=step)
    message = 'the loss became NaN or infinite at step %s; stopping. ' % step
    if set_aside:
        message += 'Set aside, as renamed: %s. ' % '; '.join(
            '%s.* (%s)' % (os.path.basename(prefix), why) for prefix, why in set_aside)
    if latest:
        message += ('The latest checkpoint in %s is now %s, from before the divergence: lower '
                    '--learning_rate or add --warmup_steps, then resume.'
                    % (train_dir, os.path.basename(latest)))
    else:
        message += ('No checkpoint from before the divergence is left in %s: lower --learning_rate '
                    'or add --warmup_steps and start again.' % train_dir)
    return message
