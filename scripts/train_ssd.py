"""Trains SSD300 on converted TFRecords (scripts/convert_to_tfrecord.py).

    python scripts/train_ssd.py --dataset_name=pascalvoc_0712 --dataset_dir=data/voc0712 \\
        --train_dir=train/ssd300 --checkpoint_path=checkpoints/vgg_16_reduced \\
        --checkpoint_exclude_scopes=ssd_300_vgg

The defaults are the SSD Caffe release's (examples/ssd/ssd_pascal.py): batch 32, SGD with momentum
0.9, learning rate 1e-3 divided by 10 at steps 80000 and 100000, 120000 steps, weight decay 5e-4.
Training resumes from the latest checkpoint in --train_dir, saves on Ctrl-C and stops with a clear
message when the loss becomes NaN. The model settings, class names and input convention are written
to <train_dir>/model_config.json, which eval_voc.py and detect.py read. Your own dataset: convert it
under its own --dataset_name with a label map, then pass that name here.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import tensorflow.compat.v1 as tf
from absl import flags

from tf1zoo.engine import cli, training_flags

MODEL_NAME = 'ssd_vgg_300'


def define_flags(flag_values=flags.FLAGS):
    """Data, model, optimisation, initialisation and run flags (engine/training_flags.py)."""
    training_flags.define_detector_training_flags(flag_values, MODEL_NAME)


def main(values):
    tf.logging.set_verbosity(tf.logging.INFO)
    # The data, the detector and the run from the flags, then the shared loop: it resumes from
    # --train_dir and writes model_config.json beside the checkpoints.
    step = training_flags.train_detector_from_flags(values)
    print('Trained to step %d; checkpoints in %s' % (step, values.train_dir))


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
