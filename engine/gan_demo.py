"""The DCGAN main job on the embedded data (``run_demo.py --model_name=dcgan``).

Steps, each skipped when its output is there (an interrupted run resumes):
  1. <work_dir>/data/{train,test}/<class>/: 64 x 64 images of one centred shape each
     (`synthetic_shapes.generate_centred`);
  2. <work_dir>/classifier: the small classifier of the measures, trained on the real train images;
  3. <work_dir>/train: DCGAN trained on the train images (`gan_training`), a checkpoint kept at each
     quarter of the run;
  4. <work_dir>/samples: a grid from fixed z for each kept checkpoint, walks for the last;
  5. the measures (`gan_evaluation`): FID against the held-out images at each kept checkpoint with
     the real-vs-real floor, mode coverage, the discriminator-feature and raw-pixel probes.
The summary (measures, settings, seconds per step) is returned for <work_dir>/demo_summary.json.
"""
import dataclasses
import os

import tensorflow.compat.v1 as tf

from tf1zoo.datasets import synthetic_shapes
from tf1zoo.engine import checkpoint_info, gan_evaluation, gan_sampling, gan_training, train_loop
from tf1zoo.engine.run_steps import run_step, trained_to


@dataclasses.dataclass(frozen=True)
class GanDemoSettings:
    """The demo's budget: data, thinning, steps (checkpoints at each quarter), batch, rates."""

    num_train: int = 3000
    num_test: int = 600
    image_size: int = 64
    depth_multiplier: float = 0.25
    max_steps: int = 800
    batch_size: int = 128
    learning_rate: float = 2e-4
    generator_steps: int = 1
    classifier_steps: int = 400
    num_samples: int = 600
    seed: int = 0
    show_progress: bool = True


def _checkpoint_steps(train_dir):
    state = tf.train.get_checkpoint_state(train_dir)
    paths = list(state.all_model_checkpoint_paths) if state else []
    return sorted(checkpoint_info.checkpoint_step(path) for path in paths)


def _train(settings, data_dir, train_dir):
    setup = gan_training.GanSetup(image_size=settings.image_size,
                                  depth_multiplier=settings.depth_multiplier,
                                  generator_steps=settings.generator_steps)
    config = train_loop.TrainConfig(
        train_dir=train_dir, max_steps=settings.max_steps, batch_size=settings.batch_size,
        learning_rate=settings.learning_rate, optimizer='adam', adam_beta1=0.5,
        save_checkpoint_steps=max(1, settings.max_steps // 4), save_summaries_steps=50,
        max_checkpoints_to_keep=6, show_progress=settings.show_progress)
    dataset_fn = gan_training.image_folder_dataset_fn(os.path.join(data_dir, 'train'), setup,
                                                      settings.batch_size, settings.seed)
    gan_training.train_gan(setup, config, dataset_fn)


def _samples(train_dir, samples_dir):
    written = {}
    for step in _checkpoint_steps(train_dir):
        prefix = os.path.join(train_dir, 'model.ckpt-%d' % step)
        out = gan_sampling.write_samples(prefix, os.path.join(samples_dir, 'step_%d' % step))
        written[step] = out['grid']
    return written


def _measure(settings, data_dir, classifier_dir, train_dir):
    real = gan_evaluation.load_real_images(os.path.join(data_dir, 'train'),
                                           os.path.join(data_dir, 'test'), settings.image_size)
    features = gan_evaluation.real_features(classifier_dir, real)
    by_step = {}
    for step in _checkpoint_steps(train_dir):
        prefix = os.path.join(train_dir, 'model.ckpt-%d' % step)
        samples = gan_evaluation.generated_images(prefix, settings.num_samples, seed=settings.seed)
        by_step[step] = gan_evaluation.feature_distances(classifier_dir, features, samples)
    last = max(by_step)
    return {'fid_by_step': {str(step): round(result['fid'], 3) for step, result in by_step.items()},
            'fid_real_floor': round(by_step[last]['fid_real_floor'], 3),
            'classifier_test_accuracy': by_step[last]['classifier_test_accuracy'],
            'coverage': by_step[last]['coverage'],
            'probe_accuracy': gan_evaluation.probe_accuracies(
                os.path.join(train_dir, 'model.ckpt-%d' % last), real)}


def run(work_dir, settings: GanDemoSettings = GanDemoSettings()):
    """Runs the steps; returns the summary (the caller writes it)."""
    data_dir = os.path.join(work_dir, 'data')
    classifier_dir = os.path.join(work_dir, 'classifier')
    train_dir = os.path.join(work_dir, 'train')
    samples_dir = os.path.join(work_dir, 'samples')
    timings, results = {}, {}
    run_step('generate', os.path.isdir(os.path.join(data_dir, 'test')),
             lambda: synthetic_shapes.generate_centred(data_dir, settings.num_train, settings.num_test,
                                                       settings.image_size, settings.seed,
                                                       show_progress=settings.show_progress), timings)
    run_step('classifier', trained_to(classifier_dir, settings.classifier_steps),
             lambda: gan_evaluation.train_feature_classifier(
                 os.path.join(data_dir, 'train'), classifier_dir, settings.image_size,
                 max_steps=settings.classifier_steps, seed=settings.seed,
                 show_progress=settings.show_progress), timings)
    run_step('train', trained_to(train_dir, settings.max_steps),
             lambda: _train(settings, data_dir, train_dir), timings)
    run_step('samples', False, lambda: results.update(grids=_samples(train_dir, samples_dir)),
             timings)
    run_step('measure', False, lambda: results.update(_measure(settings, data_dir, classifier_dir,
                                                               train_dir)), timings)
    grids = results.pop('grids')
    return dict(results, model_name='dcgan', sample_grids={str(step): path for step, path in grids.items()},
                settings=dataclasses.asdict(settings), seconds=timings, cpu_count=os.cpu_count(),
                TF_ENABLE_ONEDNN_OPTS=os.environ.get('TF_ENABLE_ONEDNN_OPTS'))
