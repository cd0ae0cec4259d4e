"""The flags every detector's train CLI shares, in groups, and the configs they make.

A train CLI defines its flags with `define_detector_training_flags` (or the groups one by one),
overrides the defaults its paper sets (``flag_values.set_default``), and turns the parsed values
into `detector_training.TrainingData`, `detector_training.DetectorSetup` and
`train_loop.TrainConfig` with `detector_training_configs`. Defaults are the SSD Caffe release's
(examples/ssd/ssd_pascal.py): batch 32, Momentum 0.9, lr 1e-3 x0.1 at 80k and 100k, 120k steps,
weight decay 5e-4.
"""
import dataclasses

import numpy as np

from tf1zoo.engine import cli, cluster, detector_training, train_loop
from tf1zoo.nets import vgg
from tf1zoo.ops import image_conventions
from tf1zoo.preprocessing import preprocessing_factory


def define_data_flags(define):
    define.string('dataset_name', 'pascalvoc_0712', 'A registered dataset (datasets/dataset_factory.py) '
                  'or the name your own was converted under (convert_to_tfrecord.py --label_map).')
    define.string('dataset_dir', None, 'Folder of the converted TFRecords.')
    define.string('dataset_split_name', 'trainval', 'Split to train on.')
    define.string('file_pattern', None, 'TFRecord glob overriding the dataset\'s default names.')
    define.integer('shuffle_buffer', 2048, 'Examples in the shuffle buffer.')
    define.enum('preprocessing_name', None, list(preprocessing_factory.KNOWN_PREPROCESSING),
                'Training augmentation; default: the model\'s (ssd_300: the Caffe release\'s).')
    define.bool('skip_corrupt_records', False, 'Skip records that do not read, parse or decode '
                'instead of stopping; every record is checked first (reads and decodes the split '
                'once) and the skipped ones reported by shard. A record that does not read ends its '
                'shard for TFRecord readers: the records after it are skipped too.')


def define_model_flags(define, model_name):
    define.string('model_name', model_name, 'Model from nets/nets_factory.py.')
    define.float('depth_multiplier', 1.0, 'Thins the net (1.0 is the paper\'s).')
    define.enum('data_format', 'auto', ['auto', 'NHWC', 'NCHW'],
                'Convolution layout; auto is NCHW on a GPU and NHWC on a CPU.')
    define.enum('input_convention', None, list(image_conventions.KNOWN_CONVENTIONS),
                'Channel order and mean of the input; default: the one recorded with '
                '--checkpoint_path, else the model\'s (Caffe BGR for SSD). slim\'s vgg_16.ckpt '
                'records none and needs slim_rgb.')
    define.float('weight_decay', 0.0005, 'L2 weight decay.')
    define.enum('weights_init', 'xavier', list(vgg.WEIGHT_INITIALIZERS),
                'Initializer of layers not restored from a checkpoint: xavier (Caffe\'s) or he '
                '(for training the VGG body from scratch).')
    define.bool('batch_norm', False, 'Batch norm after every body and extra-layer convolution '
                '(ScratchDet\'s recipe for training from scratch; not in the released models).')


def define_optimization_flags(define):
    define.integer('batch_size', 32, 'Images per step.')
    define.integer('max_steps', 120000, 'Steps to train for.')
    define.float('learning_rate', 1e-3, 'Initial learning rate.')
    define.enum('lr_schedule', 'piecewise', ['piecewise', 'cosine'],
                'piecewise: x lr_decay_factor at each of lr_boundaries (the paper\'s); cosine: a half '
                'cosine down to learning_rate * lr_decay_factor at max_steps.')
    define.list('lr_boundaries', ['80000', '100000'], 'Steps at which the rate is decayed (piecewise).')
    define.float('lr_decay_factor', 0.1, 'Decay factor at each boundary; cosine: the final fraction.')
    define.integer('warmup_steps', 0, 'Linear warm-up steps.')
    define.float('warmup_factor', 1.0 / 3, 'Warm-up starts at learning_rate times this.')
    define.enum('optimizer', 'momentum', ['momentum', 'adam'], 'Momentum SGD (the paper\'s) or Adam.')
    define.float('momentum', 0.9, 'Momentum.')
    define.float('adam_beta1', 0.9, 'Adam\'s beta1.')
    define.float('clip_gradient_norm', 0.0, 'Clip gradients to this global norm (0: off).')
    define.float('moving_average_decay', 0.0, 'Also keep an exponential moving average of the weights '
                 'with this decay (0: off); eval_voc.py and detect.py then use the averages.')
    define.integer('num_clones', 1, 'Copies of the model the batch is split over, one per GPU (all on '
                   'the CPU where there are fewer GPUs), their gradients summed on the CPU and batch '
                   'norm\'s statistics taken from the first (tf-slim\'s model_deploy); --batch_size is '
                   'the whole batch.')


def define_initialisation_flags(define):
    define.string('checkpoint_path', None, 'Checkpoint (or folder) to initialise from when train_dir '
                  'has none, e.g. slim\'s vgg_16.ckpt or a converted Caffe base.')
    define.list('checkpoint_exclude_scopes', [], 'Scopes not restored from checkpoint_path.')
    define.list('trainable_scopes', [], 'Scopes to train (default: all).')
    define.bool('ignore_missing_vars', False, 'Keep initial values of variables missing from '
                'checkpoint_path.')


def define_run_flags(define):
    define.string('train_dir', None, 'Where checkpoints and summaries are written.')
    define.integer('save_checkpoint_steps', 1000, 'Steps between checkpoints.')
    define.integer('save_summaries_steps', 100, 'Steps between summaries.')
    define.integer('seed', None, 'Seed for a reproducible run (slower input pipeline).')
    define.bool('progress', True, 'Show a progress bar.')
    define_cluster_flags(define)


def define_cluster_flags(define):
    """Between-graph replication (engine/cluster.py): every task of the cluster runs the same command
    with its own --job_name and --task_index, or with TF_CONFIG set by a cluster manager."""
    define.list('ps_hosts', [], 'Parameter servers of a cluster, host:port,... (empty: no cluster).')
    define.list('worker_hosts', [], 'Workers of a cluster, host:port,...; worker 0 is the chief, which '
                'alone writes checkpoints and summaries to --train_dir.')
    define.enum('job_name', None, ['ps', 'worker'], 'This task\'s job in the cluster; without the '
                'cluster flags, TF_CONFIG ({"cluster": ..., "task": ...}) is read when set.')
    define.integer('task_index', 0, 'This task\'s index in its job.')
    define.bool('sync_replicas', False, 'Synchronous updates (SyncReplicasOptimizer): the gradients '
                'of --replicas_to_aggregate worker steps are averaged into one global step; '
                'default: asynchronous, every worker step is one.')
    define.integer('replicas_to_aggregate', None, 'Gradients per synchronous update (default: one '
                   'per worker).')


def define_detector_training_flags(flag_values, model_name):
    """All groups: data, model (``model_name`` the default), optimisation, initialisation, run."""
    define = cli.Definer(flag_values)
    define_data_flags(define)
    define_model_flags(define, model_name)
    define_optimization_flags(define)
    define_initialisation_flags(define)
    define_run_flags(define)
    define.required(['dataset_dir', 'train_dir'])


def training_data(values):
    return detector_training.TrainingData(
        dataset_name=values.dataset_name, dataset_dir=values.dataset_dir,
        split=values.dataset_split_name, file_pattern=values.file_pattern,
        shuffle_buffer=values.shuffle_buffer, preprocessing_name=values.preprocessing_name,
        skip_corrupt_records=values.skip_corrupt_records)


def detector_setup(values):
    return detector_training.DetectorSetup(
        model_name=values.model_name, depth_multiplier=values.depth_multiplier,
        batch_norm=values.batch_norm, data_format=values.data_format,
        input_convention=values.input_convention, weight_decay=values.weight_decay,
        weights_init=values.weights_init)


def train_config(values):
    return train_loop.TrainConfig(
        train_dir=values.train_dir, max_steps=values.max_steps, batch_size=values.batch_size,
        learning_rate=values.learning_rate, lr_schedule=values.lr_schedule,
        lr_boundaries=[int(step) for step in values.lr_boundaries],
        lr_decay_factor=values.lr_decay_factor, warmup_steps=values.warmup_steps,
        warmup_factor=values.warmup_factor, momentum=values.momentum,
        optimizer=values.optimizer, adam_beta1=values.adam_beta1,
        clip_gradient_norm=values.clip_gradient_norm,
        moving_average_decay=values.moving_average_decay,
        checkpoint_path=values.checkpoint_path,
        checkpoint_exclude_scopes=values.checkpoint_exclude_scopes,
        trainable_scopes=values.trainable_scopes, ignore_missing_vars=values.ignore_missing_vars,
        save_checkpoint_steps=values.save_checkpoint_steps,
        save_summaries_steps=values.save_summaries_steps, seed=values.seed,
        show_progress=values.progress, num_clones=values.num_clones,
        cluster=cluster.from_flags(values.ps_hosts, values.worker_hosts, values.job_name,
                                   values.task_index, values.sync_replicas,
                                   values.replicas_to_aggregate))


def detector_training_configs(values):
    """(TrainingData, DetectorSetup, TrainConfig) from `define_detector_training_flags`' values."""
    return training_data(values), detector_setup(values), train_config(values)


def train_detector_from_flags(values):
    """Trains as `define_detector_training_flags`' values say; returns the global step reached."""
    data, model, train = detector_training_configs(values)
    return detector_training.train_detector(data, model, train)


def epoch_schedule(train, num_examples, warmup_epochs, epochs_per_rate, decay_factor=0.1):
    """``train`` with its steps from a schedule in epochs: ``epochs_per_rate[0]`` epochs at the peak
    rate (the first ``warmup_epochs`` of them a linear warm-up from ``warmup_factor`` of it), then
    ``epochs_per_rate[i]`` at ``decay_factor ** i`` of it. An epoch is ``ceil(num_examples /
    batch_size)`` steps.

    YOLO v1 (sec. 2.2): 75 epochs at 1e-2 after raising the rate from 1e-3 over the first epochs,
    then 30 at 1e-3 and 30 at 1e-4, about 135 in all.
    """
    steps_per_epoch = -(-int(num_examples) // train.batch_size)
    ends = np.cumsum([float(epochs) for epochs in epochs_per_rate]) * steps_per_epoch
    return dataclasses.replace(
        train, max_steps=int(round(ends[-1])), lr_schedule='piecewise',
        lr_boundaries=[int(round(end)) for end in ends[:-1]], lr_decay_factor=decay_factor,
        warmup_steps=int(round(warmup_epochs * steps_per_epoch)))
