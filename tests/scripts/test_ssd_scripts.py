"""train_ssd.py -> eval_voc.py -> detect.py on a tiny embedded dataset: the contracts between them."""
import json
import os

import numpy as np
import pytest
import tiny_shapes

from tf1zoo.datasets import synthetic_shapes
from tf1zoo.engine import cli, inference
from tf1zoo.scripts import detect, eval_voc, train_ssd

THIN = 0.125


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    paths = tiny_shapes.make_tiny_records(str(tmp_path_factory.mktemp('pipeline')), num_test=3,
                                          seed=5)
    train_dir = os.path.join(paths['root'], 'train')
    assert _train(paths['records'], train_dir, max_steps=2) == 2
    return dict(paths, train_dir=train_dir)


def _train(records, train_dir, max_steps, **extra):
    flag_values = dict(dataset_name='shapes', dataset_dir=records, train_dir=train_dir,
                       depth_multiplier=THIN, batch_size=2, max_steps=max_steps, progress=False)
    return tiny_shapes.run_training(train_ssd, **dict(flag_values, **extra))


def test_training_resumes_and_refuses_another_model(trained):
    assert _train(trained['records'], trained['train_dir'], max_steps=3) == 3
    with open(os.path.join(trained['train_dir'], 'model_config.json')) as config:
        assert json.load(config)['class_names'] == list(synthetic_shapes.CLASS_NAMES)
    with pytest.raises(ValueError, match='depth_multiplier'):
        _train(trained['records'], trained['train_dir'], max_steps=4, depth_multiplier=0.25)


def test_batch_norm_run_is_recorded_rebuilt_for_detection_and_kept_on_resume(trained):
    train_dir = os.path.join(trained['root'], 'train_batch_norm')
    assert _train(trained['records'], train_dir, max_steps=1,
                  batch_norm=True) == 1
    with open(os.path.join(train_dir, 'model_config.json')) as config:
        assert json.load(config)['batch_norm'] is True
    _, settings = inference.model_settings(train_dir)
    assert settings['batch_norm'] is True
    # Restoring builds the same variables (moving statistics included), else the restore fails.
    output_dir = os.path.join(trained['root'], 'detections_batch_norm')
    image = os.path.join(trained['voc_dir'], 'JPEGImages', sorted(os.listdir(
        os.path.join(trained['voc_dir'], 'JPEGImages')))[0])
    detect.run(cli.parse(detect.define_flags, checkpoint_path=train_dir, images=image,
                                  output_dir=output_dir, keep_top_k=2))
    assert os.path.exists(os.path.join(output_dir, 'detections.json'))
    with pytest.raises(ValueError, match='batch_norm'):
        _train(trained['records'], train_dir, max_steps=2)
    _, plain = inference.model_settings(trained['train_dir'])
    assert plain['batch_norm'] is False


def test_eval_writes_devkit_results_the_same_from_records_and_from_the_voc_folder(trained):
    outputs = {}
    for source in ('records', 'voc'):
        results_dir = os.path.join(trained['root'], 'eval_' + source)
        inputs = ({'tfrecord_pattern': os.path.join(trained['records'], 'shapes_test-*')}
                  if source == 'records' else {'voc_dir': trained['voc_dir']})
        outputs[source] = eval_voc.run(cli.parse(
            eval_voc.define_flags, checkpoint_path=trained['train_dir'], split='test',
            results_dir=results_dir, dataset_name='shapes', keep_top_k=50, **inputs))
        for name in synthetic_shapes.CLASS_NAMES:
            with open(os.path.join(results_dir, 'comp4_det_test_%s.txt' % name)) as results:
                for line in results:
                    image_id, score, *box = line.split()
                    assert image_id.startswith('shapes_') and 0 <= float(score) <= 1
                    xmin, ymin, xmax, ymax = map(float, box)
                    assert 1 <= xmin <= xmax and 1 <= ymin <= ymax
    assert outputs['records'] == outputs['voc']
    assert set(outputs['voc']) == {'voc07_11point', 'voc12_area'}


def test_detect_writes_json_and_pictures(trained):
    images = os.path.join(trained['voc_dir'], 'JPEGImages')
    names = sorted(os.listdir(images))[:2]
    output_dir = os.path.join(trained['root'], 'detections')
    detect.run(cli.parse(
        detect.define_flags, checkpoint_path=trained['train_dir'],
        images=','.join(os.path.join(images, name) for name in names), output_dir=output_dir,
        keep_top_k=3, select_threshold=0.0, draw_threshold=0.0))
    with open(os.path.join(output_dir, 'detections.json')) as saved:
        detections = json.load(saved)
    assert sorted(detections) == names
    for name in names:
        assert len(detections[name]) == 3
        for detection in detections[name]:
            assert synthetic_shapes.CLASS_NAMES[detection['class_id'] - 1] == detection['class_name']
            assert np.all((np.array(detection['box']) >= 0) & (np.array(detection['box']) <= 1))
        assert os.path.exists(os.path.join(output_dir, name[:-len('.jpg')] + '.png'))


def test_detect_with_winograd_convolutions_finds_the_same_boxes(trained):
    images = os.path.join(trained['voc_dir'], 'JPEGImages')
    path = os.path.join(images, sorted(os.listdir(images))[0])
    found = {}
    for choice in ('off', 'adaptive'):
        output_dir = os.path.join(trained['root'], 'detections_winograd_' + choice)
        found[choice] = detect.run(cli.parse(
            detect.define_flags, checkpoint_path=trained['train_dir'], images=path,
            output_dir=output_dir, winograd=choice, keep_top_k=5, select_threshold=0.0,
            write_images=False))
    (direct,), (fast,) = found['off'].values(), found['adaptive'].values()
    assert [d['class_id'] for d in fast] == [d['class_id'] for d in direct]
    np.testing.assert_allclose([d['score'] for d in fast], [d['score'] for d in direct], atol=1e-4)
    np.testing.assert_allclose([d['box'] for d in fast], [d['box'] for d in direct], atol=1e-4)


def test_winograd_auto_follows_the_cpu_kernels(monkeypatch):
    gpus = []
    monkeypatch.setattr(inference.tf.config, 'list_physical_devices', lambda kind=None: gpus)
    monkeypatch.setattr(inference.compat, 'onednn_enabled', lambda: True)
    assert inference.winograd_tile_size('auto') == 'adaptive'
    gpus.append('a GPU')
    assert inference.winograd_tile_size('auto') is None
    gpus.clear()
    monkeypatch.setattr(inference.compat, 'onednn_enabled', lambda: False)
    assert inference.winograd_tile_size('auto') is None
    assert inference.winograd_tile_size('off') is None
    assert inference.winograd_tile_size('2') == 2
    assert inference.winograd_tile_size('adaptive') == 'adaptive'
