"""Trains RefineDet320 on converted TFRecords, with train_ssd.py's flags and the shared training loop.

    python scripts/train_refinedet.py --dataset_name=pascalvoc_0712 --dataset_dir=data/voc0712 \\
        --train_dir=train/refinedet320 --checkpoint_path=checkpoints/vgg16_reduced \\
        --checkpoint_exclude_scopes=refinedet320 --ignore_missing_vars

The defaults are the RefineDet release's for VOC (examples/refinedet/VGG16_VOC2007_320.py, the same
schedule as SSD's): batch 32, SGD with momentum 0.9, learning rate 1e-3 divided by 10 at steps 80000
and 100000, 120000 steps, weight decay 5e-4, SSD's augmentation at 320 x 320. Everything else (resume,
Ctrl-C, the NaN guard, progress, summaries, model_config.json for eval_voc.py and detect.py) is the
shared loop's; the model's four losses (ARM and ODM, localisation and classification) are summed and
written to TensorBoard one by one.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import tensorflow.compat.v1 as tf
from absl import flags

from tf1zoo.engine import cli, training_flags

MODEL_NAME = 'refinedet320'


def define_flags(flag_values=flags.FLAGS):
    """train_ssd.py's flags (engine/training_flags.py) with RefineDet320 as the model."""
    training_flags.define_detector_training_flags(flag_values, MODEL_NAME)


def main(values):
    tf.logging.set_verbosity(tf.logging.INFO)
    # The data, the detector and the run from the flags, then the shared loop: it resumes from
    # --train_dir and writes model_config.json beside the checkpoints.
    step = training_flags.train_detector_from_flags(values)
    print('Trained to step %d; checkpoints in %s' % (step, values.train_dir))


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
