"""Trains RefineDet320 on converted TFRecords, with train_ssd.py's flags and the shared training loop.

    python scripts/train_refinedet.py --dataset_name=pascalvoc_0712 --dataset_dir=data/voc0712 \\
        --train_dir=train/refinedet320 --checkpoint_path=checkpoints/vgg16_reduced \\
        --checkpoint_exclude_scopes=refinedet320 --ignore_missing_vars

The defaults are the RefineDet release's for VOC (examples/refinedet/VGG16_VOC2007_320.py, the same
schedule as SSD's): batch 32, SGD with momentum 0.9, learning rate 1e-3 divided by 10 at steps 80000
and 100000, 120000 steps, weight decay 5e-4, SSD's augmentation at 320 x 320. Everything else (resume,
Ctrl-C, the NaN guard, progress, summaries, model_config.json for eval_voc.py and detect.py) is
train_ssd.py's and train_lib's; the model's four losses (ARM and ODM, localisation and
classification) are summed and written to TensorBoard one by one.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
from absl import flags

from tf1zoo.scripts import script_flags, train_ssd

FLAGS = flags.FLAGS
MODEL_NAME = 'refinedet320'


def define_flags(flag_values=flags.FLAGS):
    """train_ssd.py's flags with RefineDet320 as the model."""
    train_ssd.define_flags(flag_values)
    flag_values.set_default('model_name', MODEL_NAME)


def run(values):
    """Trains as the flags say; returns the global step reached."""
    return train_ssd.run(values)


if __name__ == '__main__':
    script_flags.run_as_program(define_flags, train_ssd.main)
