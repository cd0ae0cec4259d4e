"""Trains SSD300 on converted TFRecords (scripts/convert_to_tfrecord.py).

    python scripts/train_ssd.py --dataset_name=pascalvoc_0712 --dataset_dir=data/voc0712 \\
        --train_dir=train/ssd300 --checkpoint_path=checkpoints/vgg_16_reduced \\
        --checkpoint_exclude_scopes=ssd_300_vgg

The defaults are the SSD Caffe release's (examples/ssd/ssd_pascal.py): batch 32, SGD with momentum
0.9, learning rate 1e-3 divided by 10 at steps 80000 and 100000, 120000 steps, weight decay 5e-4.
Training resumes from the latest checkpoint in --train_dir, saves on Ctrl-C and stops with a clear
message when the loss becomes NaN. The model settings, class names and input convention are written
to <train_dir>/model_config.json, which eval_voc.py and detect.py read.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import os

import tensorflow.compat.v1 as tf
from absl import flags

from tf1zoo.datasets import dataset_factory, input_pipeline, standard_fields
from tf1zoo.nets import nets_factory, vgg
from tf1zoo.ops import visualization
from tf1zoo.preprocessing import image_conventions, preprocessing_factory
from tf1zoo.scripts import checkpoint_info, script_flags, train_lib

fields = standard_fields.InputDataFields
FLAGS = flags.FLAGS


def define_flags(flag_values=flags.FLAGS):
    """The script's flags: data, model, optimisation, initialisation, run."""
    define = script_flags.Definer(flag_values)
    # Data.
    define.string('dataset_name', 'pascalvoc_0712', 'Dataset from datasets/dataset_factory.py.')
    define.string('dataset_dir', None, 'Folder of the converted TFRecords.')
    define.string('dataset_split_name', 'trainval', 'Split to train on.')
    define.string('file_pattern', None, 'TFRecord glob overriding the dataset\'s default names.')
    define.integer('shuffle_buffer', 2048, 'Examples in the shuffle buffer.')
    define.enum('preprocessing_name', None, list(preprocessing_factory.KNOWN_PREPROCESSING),
                'Training augmentation; default: the model\'s (ssd_300: the Caffe release\'s).')
    # Model.
    define.string('model_name', 'ssd_vgg_300', 'Model from nets/nets_factory.py.')
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
    # Optimisation.
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
    define.enum('optimizer', 'momentum', ['momentum', 'adam'],
                'Momentum SGD (the paper\'s) or Adam.')
    define.float('momentum', 0.9, 'Momentum.')
    define.float('adam_beta1', 0.9, 'Adam\'s beta1.')
    define.float('clip_gradient_norm', 0.0, 'Clip gradients to this global norm (0: off).')
    define.float('moving_average_decay', 0.0, 'Also keep an exponential moving average of the weights '
                 'with this decay (0: off); eval_voc.py and detect.py then use the averages.')
    # Initialisation.
    define.string('checkpoint_path', None, 'Checkpoint (or folder) to initialise from when '
                        'train_dir has none, e.g. slim\'s vgg_16.ckpt or a converted Caffe base.')
    define.list('checkpoint_exclude_scopes', [], 'Scopes not restored from checkpoint_path.')
    define.list('trainable_scopes', [], 'Scopes to train (default: all).')
    define.bool('ignore_missing_vars', False, 'Keep initial values of variables missing '
                      'from checkpoint_path.')
    # Run.
    define.string('train_dir', None, 'Where checkpoints and summaries are written.')
    define.integer('save_checkpoint_steps', 1000, 'Steps between checkpoints.')
    define.integer('save_summaries_steps', 100, 'Steps between summaries.')
    define.integer('seed', None, 'Seed for a reproducible run (slower input pipeline).')
    define.bool('progress', True, 'Show a progress bar.')
    define.required(['dataset_dir', 'train_dir'])


def resolve_data_format(data_format):
    """'auto' means NCHW (cuDNN's fastest) when a GPU is visible, NHWC otherwise."""
    if data_format != 'auto':
        return data_format
    return 'NCHW' if tf.config.list_physical_devices('GPU') else 'NHWC'


def model_config(values, data_format):
    """What eval_voc.py and detect.py need to rebuild the trained model."""
    spec = dataset_factory.get_dataset_spec(values.dataset_name)
    model_spec = nets_factory.get_model_spec(values.model_name)
    return {'model_name': values.model_name, 'depth_multiplier': values.depth_multiplier,
            'batch_norm': values.batch_norm,
            'num_classes': spec.num_classes, 'class_names': list(spec.class_names),
            'input_convention': _input_convention(values, model_spec),
            'dataset_name': values.dataset_name, 'data_format': data_format}


def _input_convention(values, model_spec):
    """--input_convention, else the one recorded with --checkpoint_path (a converted Caffe base records
    caffe_bgr), else the model's default. slim's vgg_16.ckpt records none: pass slim_rgb with it."""
    if values.input_convention:
        return values.input_convention
    if values.checkpoint_path:
        prefix = checkpoint_info.resolve_checkpoint(values.checkpoint_path)
        recorded = checkpoint_info.read_checkpoint_info(prefix).get('input_convention')
        if recorded:
            return recorded
    return model_spec.default_convention


def make_dataset_fn(values, config):
    """() -> the training tf.data.Dataset of augmented, padded batches."""
    model_spec = nets_factory.get_model_spec(config['model_name'])
    preprocess = preprocessing_factory.get_preprocessing(values.preprocessing_name
                                                         or model_spec.preprocessing_name)
    split = dataset_factory.get_split(values.dataset_name, values.dataset_split_name,
                                      values.dataset_dir, values.file_pattern)

    def preprocess_fn(tensor_dict):
        return preprocess(tensor_dict, is_training=True, convention=config['input_convention'],
                          seed=values.seed)

    return lambda: input_pipeline.build_dataset(
        list(split.files), values.batch_size, preprocess_fn, is_training=True, seed=values.seed,
        shuffle_buffer=values.shuffle_buffer)


def make_model_fn(config, weight_decay, weights_init='xavier'):
    """(batch) -> `train_lib.ModelOutputs`: the MultiBox losses and a summary of boxes."""
    detector = nets_factory.get_model_spec(config['model_name']).build(
        config['num_classes'], depth_multiplier=config['depth_multiplier'],
        data_format=config['data_format'], weight_decay=weight_decay, weights_init=weights_init,
        batch_norm=config['batch_norm'])

    def model_fn(batch):
        images = batch[fields.image]
        predictions, _ = detector.predict(images, is_training=True)
        losses = detector.loss(predictions, batch)
        detections = detector.postprocess(predictions, keep_top_k=20, score_threshold=0.3)
        pictures = visualization.groundtruth_and_detection_images(
            image_conventions.denormalize_image(images, config['input_convention']),
            batch[fields.groundtruth_boxes], detections['detection_boxes'])
        return train_lib.ModelOutputs(losses=losses, summary_images=pictures)

    return model_fn


def train_config(values):
    return train_lib.TrainConfig(
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
        show_progress=values.progress)


def run(values):
    """Trains as the flags say; returns the global step reached."""
    config = model_config(values, resolve_data_format(values.data_format))
    previous_path = os.path.join(values.train_dir, checkpoint_info.TRAIN_DIR_FILE)
    if os.path.exists(previous_path):
        previous = checkpoint_info.read_checkpoint_info(os.path.join(values.train_dir, 'model'))
        _check_same_model(previous, config, previous_path)
    checkpoint_info.write_json_atomically(previous_path, config)
    return train_lib.train(train_config(values), make_dataset_fn(values, config),
                           make_model_fn(config, values.weight_decay, values.weights_init))


def _check_same_model(previous, config, path):
    """Resuming with another model or dataset would silently mix two runs: refuse it."""
    keys = ('model_name', 'depth_multiplier', 'batch_norm', 'num_classes', 'input_convention')
    previous = checkpoint_info.with_model_defaults(previous)
    changed = ['%s: %r -> %r' % (key, previous.get(key), config[key])
               for key in keys if previous.get(key) != config[key]]
    if changed:
        raise ValueError('--train_dir holds a run of another model (%s): %s; use a new --train_dir'
                         % (path, ', '.join(changed)))


def main(values):
    tf.logging.set_verbosity(tf.logging.INFO)
    step = run(values)
    print('Trained to step %d; checkpoints in %s' % (step, values.train_dir))


if __name__ == '__main__':
    script_flags.run_as_program(define_flags, main)
