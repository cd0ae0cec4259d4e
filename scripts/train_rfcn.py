"""Trains R-FCN on Inception-ResNet-v2 on converted TFRecords, with the paper's recipe, on the shared
training loop.

    python scripts/train_rfcn.py --dataset_name=pascalvoc_0712 --dataset_dir=data/voc0712 \\
        --train_dir=train/rfcn --checkpoint_path=checkpoints/inception_resnet_v2_2016_08_30.ckpt \\
        --checkpoint_exclude_scopes=RFCN

The defaults are the paper's and its release's (Dai et al. 2016, sec. 4.1; py-R-FCN's
rfcn_end2end_ohem): one image per step, shorter side 600 and longer at most 1000 (``rfcn_600``: no
square warp; a horizontal flip), Momentum 0.9, weight decay 5e-4, rate 1e-3 then 1e-4, OHEM with B =
128 of 300 proposals, k = 7. ``--schedule`` sets the steps: ``voc`` is the release's VOC07+12 solver
(110k iterations of two images, the rate dropped after 80k: 220k steps of one image, the drop at
160k), ``coco`` its COCO run (490k steps of one image, the drop at 350k as the release's script
notes; its solver starts at 5e-4); ``none`` keeps --max_steps and --lr_boundaries. The backbone
starts from slim's ImageNet checkpoint (``--checkpoint_path``; the new layers under ``RFCN`` are
excluded), its batch norm frozen. Resume, Ctrl-C, the NaN guard, progress, summaries and
model_config.json are the shared loop's.
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import dataclasses

import tensorflow.compat.v1 as tf
from absl import flags

from tf1zoo.engine import cli, detector_training, training_flags
from tf1zoo.nets import rfcn_inception_resnet

MODEL_NAME = 'rfcn_inception_resnet'
# (max_steps, the step of the drop to 1e-4) in steps of one image.
SCHEDULES = {'voc': (220000, 160000), 'coco': (490000, 350000)}


def define_flags(flag_values=flags.FLAGS):
    """The shared training flags with the paper's defaults, and R-FCN's own."""
    training_flags.define_detector_training_flags(flag_values, MODEL_NAME)
    define = cli.Definer(flag_values)
    define.enum('schedule', 'voc', sorted(SCHEDULES) + ['none'], 'The release\'s steps for VOC07+12 '
                'or COCO; none: --max_steps and --lr_boundaries.')
    define.integer('k', rfcn_inception_resnet.DEFAULT_K, 'Position-sensitive bins per side (the '
                   'paper: 7; the seed port: 3).')
    define.integer('anchor_base_size', 256, 'Anchors of 0.5, 1 and 2 times this many pixels (the '
                   'paper: 128, 256, 512).')
    define.list('repeats', ['10', '20', '9'], 'block35, block17 and block8 counts of the backbone '
                '(fewer: thin test nets).')
    for name, value in (('batch_size', 1), ('learning_rate', 1e-3), ('data_format', 'NHWC')):
        flag_values.set_default(name, value)


def main(values):
    tf.logging.set_verbosity(tf.logging.INFO)
    if values.batch_size != 1:
        raise ValueError('--batch_size must be 1: R-FCN trains on one image of any size per step')
    # 1. The data, the detector and the run from the flags.
    data, model, train = training_flags.detector_training_configs(values)
    model = dataclasses.replace(model, model_options={
        'k': values.k, 'anchor_base_size': values.anchor_base_size,
        'repeats': [int(count) for count in values.repeats]})
    # 2. The release's schedule in steps of one image (unless --schedule=none).
    if values.schedule != 'none':
        max_steps, drop = SCHEDULES[values.schedule]
        train = dataclasses.replace(train, max_steps=max_steps, lr_boundaries=(drop,))
    # 3. Train on the shared loop: it resumes from --train_dir and writes model_config.json.
    step = detector_training.train_detector(data, model, train)
    print('Trained to step %d; checkpoints in %s' % (step, values.train_dir))


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
