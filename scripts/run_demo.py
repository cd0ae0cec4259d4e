"""The main job on the embedded data: generate, convert, train a thin SSD300 (or RefineDet320, YOLO
v1 or R-FCN) on the CPU, evaluate, detect.

    python scripts/run_demo.py --work_dir=work_dirs/shapes

Steps, each skipped when its output is already there (so an interrupted run resumes):
  1. <work_dir>/data/VOCshapes: the embedded VOC-format dataset (datasets/synthetic_shapes.py; smooth
     backgrounds unless --distractors);
  2. <work_dir>/tfrecords: its trainval and test splits as TFRecords;
  3. <work_dir>/train: SSD300 at --depth_multiplier, with batch norm (--batch_norm), trained from
     scratch on the shared loop (engine/detector_training.py, what train_ssd.py runs);
  4. <work_dir>/eval: devkit results files and VOC07 / VOC12 mAP on the held-out test split (R-FCN:
     also COCO's twelve numbers by pycocotools, on the split's COCO JSON);
  5. <work_dir>/detections: detect.py's JSON and PNGs on a few test images.
Each step is a library call (``tf1zoo.engine``), the same the single-purpose CLIs make.
``--model_name=dcgan`` runs DCGAN's steps instead (engine/gan_demo.py: centred-shape images, the
measures' classifier, DCGAN, sample grids, FID / coverage / feature probes).
<work_dir>/demo_summary.json records the mAP, the settings and the time of each step.
"""
import os

# oneDNN's CPU kernels train the thin demo net about 2x faster than the Eigen kernels TF's x86 wheel
# falls back to on CPUs without AVX-512 VNNI (0.93 vs 1.9 s per batch of 16 at depth 0.125, 2 cores);
# the full-width net is slower on them there (README, "Speed"), so only the demo's command line turns
# them on (not an importer such as the tests). Must precede TensorFlow's import.
if __name__ == '__main__':
    os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')

from tf1zoo.ops import compat  # noqa: E402, F401, I001  (TF 2.21 graph-mode set-up; precedes TF)

# isort: split
import json

import tensorflow.compat.v1 as tf
from absl import flags

from tf1zoo.datasets import dataset_factory, pascalvoc, synthetic_shapes
from tf1zoo.engine import (
    checkpoint_info,
    classifier_pretraining,
    cli,
    coco_evaluation,
    detection,
    detector_training,
    gan_demo,
    inference,
    tfrecord_conversion,
    train_loop,
    voc_evaluation,
)
from tf1zoo.engine.run_steps import run_step, trained_to

FLAGS = flags.FLAGS
DATASET = 'shapes'
# Each model's recipe for the CPU budget, used where a flag is left unset. SSD300 / RefineDet320:
# SSD's photometric distortion, flip and resize, without zoom-out or crop, at each model's input
# size. A shape's class is its whole outline, so crops that cut objects (a triangle minus a corner
# looks like a quadrilateral) teach wrong labels: with crops, VOC07 mAP 0.28-0.36 after 820 steps
# (Adam 1e-3) on 700 images; without, 0.52 (docs/experiments.md). 740 steps at Adam 3e-3 score as
# 820 did (0.734-0.780 in four runs vs 0.739-0.766) and leave room for a slow VM; the net learns
# faster the higher Adam's rate, up to about 3e-3 (0.55-0.64 at 1e-3, 0.68-0.75 at 2e-3, 0.72 at
# 5e-3); late decay, since the net still learns fast at the end (x0.1 at 560 and 680: 0.388).
_SSD_RECIPE = {'max_steps': 740, 'learning_rate': 3e-3, 'lr_boundaries': ['690', '720'],
               'warmup_steps': 50, 'draw_threshold': 0.4}
# YOLO v1: the paper's two stages. First the 20 convolutions as a classifier of the training
# split's object crops (the paper's ImageNet stage; `classifier_pretraining`, 400 steps of 64 crops
# at 112 x 112, Adam 3e-3: 0.88 accuracy), then the detector from it with the paper's Momentum (1e-3,
# gradients clipped to a global norm of 20: 5e-3 diverged). The paper's augmentation without its
# jittered crop (the same reason as SSD's), batch norm on the convolutions and fc1, no dropout, fc1
# at the paper's 4,096 units in the thin net (its per-cell weights are what learns slowest; Adam
# keeps them at chance) and fc2 started at zero: VOC07 mAP 0.062 in 642 s on the Xeon part, 0.0017
# with a random fc2 (docs/experiments.md, "YOLO v1 on the embedded data").
_YOLO_RECIPE = {'max_steps': 1200, 'learning_rate': 1e-3, 'lr_boundaries': ['1080', '1164'],
                'warmup_steps': 50, 'draw_threshold': 0.2, 'optimizer': 'momentum',
                'clip_gradient_norm': 20.0, 'pretrain_steps': 400,
                'model_options': {'dropout': 0.0, 'thin_connected': False, 'zero_init_output': True}}
# The first stage's classifier (`classifier_pretraining`) for a recipe with 'pretrain_steps'.
_PRETRAIN_CROP_SIZE, _PRETRAIN_BATCH_SIZE, _PRETRAIN_LEARNING_RATE = 112, 64, 3e-3
# R-FCN: the paper's one image per step and its only augmentation (a flip), the images at a shorter
# side of 160 (rfcn_160: the stride-16 maps are 10 x 15 to 10 x 17 cells) and anchors of 32, 64 and
# 128 pixels (the objects' sizes there), one block of each kind in the thin backbone, and the seed
# port's k = 3 bins (7 x 7 bins would split an object of 2-5 cells into sub-pixel bins), and no weight
# decay: under Adam the paper's 5e-4 pulled the class maps' weights (small, noisy gradients from one
# image's RoIs) to the background prior, so the head called every RoI background (VOC07 mAP 0.128
# after 8,000 steps; without it 0.192 after 8,000, 0.441 after 16,000 and 0.576 (COCO AP 0.231) after
# these 24,000 steps, 1,011 s of training, 17.5 minutes for the whole job on the Xeon part;
# docs/experiments.md, "R-FCN").
_RFCN_RECIPE = {'max_steps': 24000, 'learning_rate': 1e-3, 'lr_boundaries': ['21000', '22800'],
                'warmup_steps': 50, 'draw_threshold': 0.5, 'batch_size': 1, 'weight_decay': 0.0,
                'preprocessing_name': 'rfcn_160',
                'model_options': {'k': 3, 'anchor_base_size': 64, 'repeats': [1, 1, 1]}}
_DEMO_RECIPES = {
    'ssd_vgg_300': dict(_SSD_RECIPE, preprocessing_name='ssd_300_whole_image'),
    'refinedet320': dict(_SSD_RECIPE, preprocessing_name='refinedet_320_whole_image'),
    'yolo_v1': dict(_YOLO_RECIPE, preprocessing_name='yolo_448_whole_image'),
    'rfcn_inception_resnet': _RFCN_RECIPE,
}
_RECIPE_FLAGS = ('max_steps', 'learning_rate', 'lr_boundaries', 'warmup_steps', 'draw_threshold',
                 'preprocessing_name', 'batch_size', 'optimizer', 'pretrain_steps', 'weight_decay')
# The models evaluated with COCO's metric too (pycocotools on the test split's COCO JSON).
_COCO_EVALUATED = ('rfcn_inception_resnet',)


def define_flags(flag_values=flags.FLAGS):
    define = cli.Definer(flag_values)
    define.string('work_dir', 'work_dirs/shapes', 'Where data, checkpoints and results go.')
    # Without crops the 700-image trainval split is learnt faster than it generalises (VOC07 mAP 0.66
    # on it, 0.52 on test, Adam 1e-3); 3,000 training images cost ~30 s more to generate and gave
    # 0.55-0.64 (four runs).
    define.integer('num_train', 3000, 'Training images generated.')
    define.integer('num_val', 100, 'Validation images generated (trainval = train + val).')
    define.integer('num_test', 200, 'Held-out test images generated.')
    define.integer('seed', 0, 'Seed of the generated data.')
    define.bool('distractors', False, 'Generate the harder data: textured backgrounds, clutter strokes, '
                'outlined and textured objects (README: 15 minutes are not enough for it).')
    define.enum('model_name', 'ssd_vgg_300', list(_DEMO_RECIPES) + ['dcgan'],
                'Detector to train (the README compares them on the same budget), or dcgan (the '
                'centred-shapes images, engine/gan_demo.py).')
    define.float('depth_multiplier', 0.125, 'Thinning of the net (1.0 is the paper\'s net).')
    # From scratch, the plain (Caffe) VGG16 body learns too slowly for the budget: VOC07 mAP 0.27
    # without batch norm, 0.43 with it after the same 850 steps (README, "Results"); it costs ~25%
    # more per step.
    define.bool('batch_norm', True, 'Batch norm after every body and extra-layer convolution.')
    define.integer('batch_size', None, 'Training batch size (default: the model\'s recipe; 16, R-FCN '
                   'the paper\'s 1).')
    define.integer('max_steps', None, 'Training steps (default: the model\'s recipe; SSD300 740, '
                   '0.5-1.1 s each on 2 cores with oneDNN and batch norm).')
    # From scratch on a CPU budget: Adam (Momentum 1e-3, the paper's, barely moves a thin
    # xavier-initialised VGG in 800 steps) and no zoom-out (it needs twice the iterations).
    define.enum('optimizer', None, ['adam', 'momentum'], 'Optimizer (default: the model\'s recipe; '
                'Adam, YOLO v1 the paper\'s Momentum).')
    define.float('learning_rate', None, 'Peak learning rate (default: the model\'s recipe; SSD300 '
                 '3e-3).')
    # A cosine decay scored 0.367 where the late steps scored 0.388 and better.
    define.enum('lr_schedule', 'piecewise', ['piecewise', 'cosine'], 'Learning-rate decay.')
    define.list('lr_boundaries', None, 'Steps where the rate drops (piecewise; default: the model\'s '
                'recipe, SSD300 690 and 720).')
    define.float('lr_decay_factor', 0.1, 'Decay at each boundary; cosine: the final fraction of the peak.')
    # An average lags a net that still improves this fast: 0.640 with decay 0.99 vs 0.678 without.
    define.float('moving_average_decay', 0.0, 'Evaluate a moving average of the weights with this '
                 'decay (0: the weights themselves).')
    define.float('weight_decay', None, 'L2 weight decay (default: the model\'s recipe; the papers\' '
                 '5e-4).')
    define.integer('pretrain_steps', None, 'Steps of the first stage (the body as a classifier of the '
                   'training objects\' crops) for a model whose recipe has one (YOLO v1: 400).')
    define.integer('warmup_steps', None, 'Linear warm-up steps (default: the recipe\'s 50).')
    define.string('preprocessing_name', None, 'Training augmentation (default: the model\'s '
                  'augmentation without zoom-out or crop).')
    define.integer('num_detection_images', 4, 'Test images drawn with their detections.')
    # SSD300's short run scores modestly: on the four pictures (4, 4, 1 and 1 objects) 0.4 drew 4-5,
    # 4-5, 1 and 1 boxes in three runs; detect.py's 0.5 drew 3-4 on the first; 0.25 drew 6-7 on each
    # of the first two.
    define.float('draw_threshold', None, 'Least score of a box drawn in the pictures (default: the '
                 'recipe\'s; SSD300 0.4).')


def resolved(values):
    """The run's settings: the model's recipe, with the flags that are set in place of its values."""
    recipe = dict({'batch_size': 16, 'optimizer': 'adam', 'weight_decay': 5e-4},
                  **_DEMO_RECIPES[values.model_name])
    return dict(recipe, **{name: values[name].value for name in _RECIPE_FLAGS
                           if values[name].value is not None})


def _generate(values, data_dir):
    synthetic_shapes.generate(data_dir, values.num_train, values.num_val, values.num_test,
                              seed=values.seed, distractors=values.distractors)


def _convert(voc_dir, records_dir):
    source = tfrecord_conversion.dataset_source(DATASET)
    for split in ('trainval', 'test'):
        tfrecord_conversion.convert(source, split, records_dir, (voc_dir,), num_shards=2)


def _pretrain(values, recipe, records_dir, pretrain_dir):
    """The paper's first stage (YOLO v1): the body as a classifier of the training objects' crops."""
    spec = dataset_factory.get_dataset_spec(DATASET)
    files = tf.io.gfile.glob(dataset_factory.file_pattern(spec, records_dir, 'trainval'))
    config = classifier_pretraining.PretrainingConfig(
        num_classes=spec.num_classes - 1, depth_multiplier=values.depth_multiplier,
        batch_norm=values.batch_norm, crop_size=_PRETRAIN_CROP_SIZE)
    train = train_loop.TrainConfig(
        train_dir=pretrain_dir, max_steps=recipe['pretrain_steps'], batch_size=_PRETRAIN_BATCH_SIZE,
        learning_rate=_PRETRAIN_LEARNING_RATE, optimizer='adam', lr_boundaries=[],
        save_checkpoint_steps=recipe['pretrain_steps'], save_summaries_steps=100, seed=values.seed)
    classifier_pretraining.pretrain_classifier(files, config, train)


def _train(values, recipe, records_dir, train_dir, pretrain_dir=None):
    data = detector_training.TrainingData(dataset_name=DATASET, dataset_dir=records_dir,
                                          preprocessing_name=recipe['preprocessing_name'])
    model = detector_training.DetectorSetup(model_name=values.model_name,
                                            depth_multiplier=values.depth_multiplier,
                                            batch_norm=values.batch_norm,
                                            weight_decay=recipe['weight_decay'],
                                            model_options=recipe.get('model_options', {}))
    train = train_loop.TrainConfig(
        train_dir=train_dir, max_steps=recipe['max_steps'], batch_size=recipe['batch_size'],
        learning_rate=recipe['learning_rate'], optimizer=recipe['optimizer'],
        lr_schedule=values.lr_schedule, lr_boundaries=[int(step) for step in recipe['lr_boundaries']],
        lr_decay_factor=values.lr_decay_factor, moving_average_decay=values.moving_average_decay,
        warmup_steps=recipe['warmup_steps'], save_checkpoint_steps=500, save_summaries_steps=100,
        clip_gradient_norm=recipe.get('clip_gradient_norm', 0.0),
        checkpoint_path=pretrain_dir,
        checkpoint_exclude_scopes=classifier_pretraining.NOT_PRETRAINED if pretrain_dir else ())
    detector_training.train_detector(data, model, train)


def _evaluate(records_dir, train_dir, eval_dir):
    spec = dataset_factory.get_dataset_spec(DATASET)
    images = voc_evaluation.EvaluationImages(
        split='test', tfrecord_pattern=dataset_factory.file_pattern(spec, records_dir, 'test'))
    return voc_evaluation.evaluate_checkpoint(train_dir, images, eval_dir,
                                              output_json=os.path.join(eval_dir, 'voc_eval.json'))


def _evaluate_coco(data_dir, voc_dir, train_dir, eval_dir):
    """pycocotools' twelve numbers on the test split (its COCO JSON, written with the data)."""
    result = coco_evaluation.evaluate_checkpoint(
        train_dir, os.path.join(data_dir, 'annotations', 'instances_test.json'),
        os.path.join(voc_dir, 'JPEGImages'), os.path.join(eval_dir, 'coco_results.json'))
    checkpoint_info.write_json_atomically(os.path.join(eval_dir, 'coco_eval.json'), result)
    return result


def _detect(values, recipe, voc_dir, train_dir, output_dir):
    image_ids = pascalvoc.read_image_ids(voc_dir, 'test')[:values.num_detection_images]
    paths = [os.path.join(voc_dir, 'JPEGImages', image_id + '.jpg') for image_id in image_ids]
    prefix, settings = inference.model_settings(train_dir)
    detection.detect_images(prefix, settings, paths, output_dir,
                            draw_threshold=recipe['draw_threshold'])


def _gan_settings(values):
    """DCGAN's demo settings: its own defaults (engine/gan_demo.py) where a flag is not given."""
    given = {name: values[name].value for name in ('num_train', 'num_test', 'depth_multiplier',
                                                   'batch_size', 'max_steps', 'learning_rate', 'seed')
             if values[name].present}
    return gan_demo.GanDemoSettings(**given)


def run(values):
    """Runs the five steps; returns the summary written to <work_dir>/demo_summary.json."""
    if values.model_name == 'dcgan':
        summary = gan_demo.run(values.work_dir, _gan_settings(values))
        checkpoint_info.write_json_atomically(os.path.join(values.work_dir, 'demo_summary.json'),
                                              summary)
        print(json.dumps(summary, indent=2))
        return summary
    data_dir = os.path.join(values.work_dir, 'data')
    voc_dir = os.path.join(data_dir, 'VOCshapes')
    records_dir = os.path.join(values.work_dir, 'tfrecords')
    train_dir = os.path.join(values.work_dir, 'train')
    eval_dir = os.path.join(values.work_dir, 'eval')
    detections_dir = os.path.join(values.work_dir, 'detections')
    recipe = resolved(values)
    timings = {}
    run_step('generate', os.path.exists(os.path.join(voc_dir, 'ImageSets', 'Main', 'test.txt')),
             lambda: _generate(values, data_dir), timings)
    run_step('convert', bool(tf.io.gfile.glob(os.path.join(records_dir, '*_test-*.tfrecord'))),
             lambda: _convert(voc_dir, records_dir), timings)
    pretrain_dir = None
    if recipe.get('pretrain_steps'):
        pretrain_dir = os.path.join(values.work_dir, 'pretrain')
        run_step('pretrain', trained_to(pretrain_dir, recipe['pretrain_steps']),
                 lambda: _pretrain(values, recipe, records_dir, pretrain_dir), timings)
    run_step('train', trained_to(train_dir, recipe['max_steps']),
             lambda: _train(values, recipe, records_dir, train_dir, pretrain_dir), timings)
    results = {}
    run_step('evaluate', False, lambda: results.update(_evaluate(records_dir, train_dir, eval_dir)),
             timings)
    coco = {}
    if values.model_name in _COCO_EVALUATED:
        run_step('evaluate_coco', False,
                 lambda: coco.update(_evaluate_coco(data_dir, voc_dir, train_dir, eval_dir)), timings)
    run_step('detect', False, lambda: _detect(values, recipe, voc_dir, train_dir, detections_dir),
             timings)
    summary = {'voc07_mAP': results['voc07_11point']['mAP'], 'voc12_mAP': results['voc12_area']['mAP'],
               'model_name': values.model_name,
               'depth_multiplier': values.depth_multiplier, 'batch_norm': values.batch_norm,
               'distractors': values.distractors, 'max_steps': recipe['max_steps'],
               'batch_size': recipe['batch_size'], 'optimizer': recipe['optimizer'],
               'clip_gradient_norm': recipe.get('clip_gradient_norm', 0.0),
               'weight_decay': recipe['weight_decay'],
               'pretrain_steps': recipe.get('pretrain_steps', 0),
               'learning_rate': recipe['learning_rate'], 'lr_schedule': values.lr_schedule,
               'lr_boundaries': [int(step) for step in recipe['lr_boundaries']],
               'lr_decay_factor': values.lr_decay_factor, 'warmup_steps': recipe['warmup_steps'],
               'num_train_images': values.num_train,
               'moving_average_decay': values.moving_average_decay,
               'preprocessing': recipe['preprocessing_name'],
               'seconds': timings, 'cpu_count': os.cpu_count(),
               'TF_ENABLE_ONEDNN_OPTS': os.environ.get('TF_ENABLE_ONEDNN_OPTS')}
    if coco:
        summary['coco_stats'] = coco['stats']
    checkpoint_info.write_json_atomically(os.path.join(values.work_dir, 'demo_summary.json'), summary)
    print(json.dumps(summary, indent=2))
    return summary


def main(values):
    tf.logging.set_verbosity(tf.logging.INFO)
    run(values)


if __name__ == '__main__':
    cli.run_as_program(define_flags, main)
