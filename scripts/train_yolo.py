"""Trains YOLO v1 on converted TFRecords, with the paper's recipe, on the shared training loop.

    python scripts/train_yolo.py --dataset_name=pascalvoc_0712 --dataset_dir=data/voc0712 \\
        --train_dir=train/yolo_v1 --checkpoint_path=checkpoints/darknet_imagenet \\
        --checkpoint_exclude_scopes=yolo_v1/conv21,yolo_v1/conv22,yolo_v1/conv23,yolo_v1/conv24,yolo_v1/fc1,yolo_v1/fc2

The defaults are the paper's (Redmon et al. 2016, sec. 2.2): batch 64, Momentum 0.9, weight decay
5e-4, the learning rate raised from 1e-3 to 1e-2 over the first epochs (--warmup_epochs), 1e-2 for 75
epochs, 1e-3 for 30, 1e-4 for 30 (--epochs_per_rate), counted in steps from the split's size;
``--max_steps`` (with ``--lr_boundaries``) replaces the epoch schedule. The augmentation is
``yolo_448`` (random scaling and translation of up to 20%, exposure and saturation up to 1.5x in HSV,
flips), the input darknet's RGB in [0, 1]. Resume, Ctrl-C, the NaN guard, progress, summaries and
model_config.json are the shared loop's; the four terms of Eq. (3) go to TensorBoard one by one.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import dataclasses

import tensorflow.compat.v1 as tf
from absl import flags

from tf1zoo.datasets import dataset_factory
from tf1zoo.engine import cli, detector_training, training_flags

MODEL_NAME = 'yolo_v1'
# The paper's rates: the peak after the warm-up, then its tenth, then its hundredth.
PAPER_EPOCHS_PER_RATE = ['75', '30', '30']


def define_flags(flag_values=flags.FLAGS):
    """The shared training flags with the paper's defaults, and its schedule in epochs."""
    training_flags.define_detector_training_flags(flag_values, MODEL_NAME)
    define = cli.Definer(flag_values)
    define.float('warmup_epochs', 2.0, 'Epochs over which the rate rises linearly from '
                 'learning_rate * warmup_factor (1e-3) to learning_rate (1e-2); darknet\'s own cfg '
                 'reaches the peak after 600 batches of 64, about 2.3 epochs of VOC07+12.')
    define.float('dropout', 0.5, 'Dropout probability after fc1 (the paper\'s 0.5).')
    define.list('epochs_per_rate', PAPER_EPOCHS_PER_RATE, 'Epochs at the peak rate (the warm-up '
                'included), then at each tenth of it (the paper: 75, 30, 30).')
    for name, value in (('batch_size', 64), ('learning_rate', 1e-2), ('warmup_factor', 0.1),
                        ('max_steps', 0), ('lr_boundaries', [])):
        flag_values.set_default(name, value)
    flag_values['max_steps'].help = 'Steps to train for; 0 (the default): the epoch schedule.'


def main(values):
    tf.logging.set_verbosity(tf.logging.INFO)
    # 1. The data, the detector and the run from the flags.
    data, model, train = training_flags.detector_training_configs(values)
    model = dataclasses.replace(model, model_options={'dropout': values.dropout})
    # 2. The paper's schedule in steps, from the split's size (unless --max_steps is given).
    if not values.max_steps:
        split = dataset_factory.get_split(data.dataset_name, data.split, data.dataset_dir,
                                          data.file_pattern)
        train = training_flags.epoch_schedule(train, split.num_samples, values.warmup_epochs,
                                              values.epochs_per_rate)
    # 3. Train on the shared loop: it resumes from --train_dir and writes model_config.json.
    step = detector_training.train_detector(data, model, train)
    print('Trained to step %d; checkpoints in %s' % (step, values.train_dir))


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
