"""train_refinedet.py on the shared loop, then eval_voc.py and detect.py selected by the model name."""
import json
import os

import pytest
import tiny_shapes

from tf1zoo.datasets import synthetic_shapes
from tf1zoo.engine import cli
from tf1zoo.scripts import detect, eval_voc, train_refinedet

THIN = 0.125


@pytest.fixture(scope='module')
def records(tmp_path_factory):
    return tiny_shapes.make_tiny_records(str(tmp_path_factory.mktemp('refinedet_pipeline')),
                                         num_test=2, seed=9)


def _train(records, train_dir, max_steps):
    return tiny_shapes.run_training(
        train_refinedet, dataset_name='shapes', dataset_dir=records, train_dir=train_dir,
        depth_multiplier=THIN, batch_size=2, max_steps=max_steps, progress=False)


def test_train_resume_evaluate_and_detect(records):
    train_dir = os.path.join(records['root'], 'train')
    assert _train(records['records'], train_dir, 2) == 2
    assert _train(records['records'], train_dir, 3) == 3  # resumes from step 2
    with open(os.path.join(train_dir, 'model_config.json')) as config:
        assert json.load(config)['model_name'] == 'refinedet320'
    metrics = eval_voc.run(cli.parse(
        eval_voc.define_flags, checkpoint_path=train_dir, dataset_name='shapes', split='test',
        voc_dir=records['voc_dir'], results_dir=os.path.join(records['root'], 'eval'), keep_top_k=20))
    assert set(metrics) == {'voc07_11point', 'voc12_area'}
    image = os.path.join(records['voc_dir'], 'JPEGImages', sorted(os.listdir(
        os.path.join(records['voc_dir'], 'JPEGImages')))[0])
    detections = detect.run(cli.parse(
        detect.define_flags, checkpoint_path=train_dir, images=image,
        output_dir=os.path.join(records['root'], 'detect'), keep_top_k=3, select_threshold=0.0))
    (records_of_image,) = detections.values()
    assert len(records_of_image) == 3
    assert all(record['class_name'] in synthetic_shapes.CLASS_NAMES for record in records_of_image)
