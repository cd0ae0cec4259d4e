"""train_yolo.py on the shared loop with the paper's schedule in epochs, then eval_voc.py and detect.py
picking YOLO v1 from the checkpoint's JSON with its deploy thresholds."""
import json
import os

import pytest
import tensorflow.compat.v1 as tf
import tiny_shapes

from tf1zoo.datasets import synthetic_shapes
from tf1zoo.engine import cli, train_loop, training_flags
from tf1zoo.scripts import detect, eval_voc, train_yolo


@pytest.fixture(scope='module')
def records(tmp_path_factory):
    return tiny_shapes.make_tiny_records(str(tmp_path_factory.mktemp('yolo_pipeline')), num_test=2,
                                         seed=11)


def test_the_papers_schedule_in_steps():
    # 5 trainval images at batch 2: 3 steps an epoch; 75 + 30 + 30 epochs, warm-up over 2.
    train = train_loop.TrainConfig(train_dir='unused', max_steps=0, batch_size=2, learning_rate=1e-2,
                                   warmup_factor=0.1)
    schedule = training_flags.epoch_schedule(train, 5, 2.0, train_yolo.PAPER_EPOCHS_PER_RATE)
    assert (schedule.max_steps, list(schedule.lr_boundaries), schedule.warmup_steps) == (405, [225, 315], 6)
    with tf.Graph().as_default(), tf.Session() as session:
        step = tf.placeholder(tf.int64, [])
        rate = train_loop.configure_learning_rate(schedule, step)
        rates = [session.run(rate, {step: s}) for s in (0, 6, 224, 225, 315, 404)]
    assert rates == pytest.approx([1e-3, 1e-2, 1e-2, 1e-3, 1e-4, 1e-4])


def test_train_resume_evaluate_and_detect(records):
    train_dir = os.path.join(records['root'], 'train')
    flag_values = dict(dataset_name='shapes', dataset_dir=records['records'], train_dir=train_dir,
                       depth_multiplier=1 / 16, batch_size=2, progress=False,
                       # The paper's 1e-2 can diverge in the first steps from a random init
                       # (without batch norm or the ImageNet classifier); this test is the pipeline's.
                       learning_rate=1e-5)
    assert tiny_shapes.run_training(train_yolo, max_steps=2, **flag_values) == 2
    assert tiny_shapes.run_training(train_yolo, max_steps=3, **flag_values) == 3  # resumes
    with open(os.path.join(train_dir, 'model_config.json')) as config:
        config = json.load(config)
    assert config['model_name'] == 'yolo_v1' and config['input_convention'] == 'darknet_rgb'
    assert config['model_options'] == {'dropout': 0.5}
    values = cli.parse(train_yolo.define_flags, dataset_dir='unused', train_dir='unused')
    assert (values.batch_size, values.learning_rate, values.momentum, values.weight_decay) == (
        64, 1e-2, 0.9, 5e-4)
    metrics = eval_voc.run(cli.parse(
        eval_voc.define_flags, checkpoint_path=train_dir, split='test', voc_dir=records['voc_dir'],
        results_dir=os.path.join(records['root'], 'eval')))
    assert set(metrics['voc07_11point']['ap']) == set(synthetic_shapes.CLASS_NAMES)
    image = os.path.join(records['voc_dir'], 'JPEGImages', sorted(os.listdir(
        os.path.join(records['voc_dir'], 'JPEGImages')))[0])
    found = detect.run(cli.parse(detect.define_flags, checkpoint_path=train_dir, images=image,
                                 output_dir=os.path.join(records['root'], 'detect'),
                                 write_images=False))
    (detections,) = found.values()
    assert all(detection['score'] > 0.2 for detection in detections)  # darknet's test threshold
