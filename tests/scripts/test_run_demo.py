"""run_demo.py end to end on a tiny budget: every step's output exists and a rerun resumes."""
import json
import os

from tf1zoo.engine import cli, gan_demo, inference
from tf1zoo.scripts import run_demo


def test_demo_writes_summary_metrics_and_pictures_then_skips_done_steps(tmp_path):
    values = cli.parse(run_demo.define_flags, work_dir=str(tmp_path), num_train=3,
                       num_val=1, num_test=2, max_steps=2, batch_size=2,
                       num_detection_images=1)
    summary = run_demo.run(values)
    with open(tmp_path / 'demo_summary.json') as saved:
        assert json.load(saved) == summary
    assert 0.0 <= summary['voc07_mAP'] <= 1.0 and summary['max_steps'] == 2
    # The schedule is recorded as it ran: the defaults' boundaries, the given image count.
    assert summary['lr_boundaries'] == [690, 720] and summary['num_train_images'] == 3
    assert os.path.exists(tmp_path / 'eval' / 'comp4_det_test_star.txt')
    with open(tmp_path / 'detections' / 'detections.json') as detections:
        assert len(json.load(detections)) == 1
    assert len([name for name in os.listdir(tmp_path / 'detections') if name.endswith('.png')]) == 1
    again = run_demo.run(values)
    # Generation, conversion and training were done: the rerun only evaluates and detects.
    assert again['voc07_mAP'] == summary['voc07_mAP']
    assert again['seconds']['train'] < summary['seconds']['train']


def test_dcgan_demo_measures_and_resumes(tmp_path):
    settings = gan_demo.GanDemoSettings(num_train=12, num_test=6, image_size=16,
                                        depth_multiplier=1 / 16, max_steps=4, batch_size=4,
                                        classifier_steps=3, num_samples=12, show_progress=False)
    summary = gan_demo.run(str(tmp_path), settings)
    # A checkpoint at each quarter of the run (and step 0): FID and a grid for each.
    assert sorted(summary['fid_by_step'], key=int) == ['0', '1', '2', '3', '4']
    assert set(summary['sample_grids']) == set(summary['fid_by_step'])
    assert all(os.path.exists(path) for path in summary['sample_grids'].values())
    assert summary['fid_real_floor'] >= 0 and 0 <= summary['classifier_test_accuracy'] <= 1
    assert summary['coverage']['classes_covered'] <= 6
    assert set(summary['probe_accuracy']) == {'discriminator_features', 'discriminator_feature_size',
                                              'raw_pixels'}
    json.dumps(summary)
    again = gan_demo.run(str(tmp_path), settings)
    assert again['fid_by_step'] == summary['fid_by_step']
    assert again['seconds']['train'] < summary['seconds']['train']


def test_run_demo_takes_dcgans_defaults_where_no_flag_is_given():
    values = cli.parse(run_demo.define_flags, model_name='dcgan', max_steps=100)
    settings = run_demo._gan_settings(values)
    assert settings.max_steps == 100 and settings.batch_size == 128
    assert settings.depth_multiplier == gan_demo.GanDemoSettings().depth_multiplier


def test_rfcn_demo_adds_cocos_numbers_that_pycocotools_gives_for_its_results_file(tmp_path):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    values = cli.parse(run_demo.define_flags, work_dir=str(tmp_path), model_name='rfcn_inception_resnet',
                       num_train=3, num_val=1, num_test=2, max_steps=2, depth_multiplier=1 / 16,
                       num_detection_images=1)
    summary = run_demo.run(values)
    assert summary['batch_size'] == 1 and summary['preprocessing'] == 'rfcn_160'
    # Evaluation runs at the scale trained at: the train dir's JSON records it.
    assert inference.model_settings(str(tmp_path / 'train'))[1]['preprocessing_name'] == 'rfcn_160'
    assert 0.0 <= summary['voc07_mAP'] <= 1.0
    with open(tmp_path / 'eval' / 'coco_results.json') as stream:
        results = json.load(stream)
    ground_truth = COCO(str(tmp_path / 'data' / 'annotations' / 'instances_test.json'))
    if results:
        evaluation = COCOeval(ground_truth, ground_truth.loadRes(results), iouType='bbox')
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
        expected = list(evaluation.stats)
    else:
        expected = [0.0] * 12
    assert list(summary['coco_stats'].values()) == expected
    assert len([name for name in os.listdir(tmp_path / 'detections') if name.endswith('.png')]) == 1


def test_yolo_demo_trains_the_body_as_a_classifier_first_then_the_detector_from_it(tmp_path):
    import tensorflow.compat.v1 as tf
    values = cli.parse(run_demo.define_flags, work_dir=str(tmp_path), model_name='yolo_v1',
                       num_train=3, num_val=1, num_test=2, max_steps=2, pretrain_steps=2, batch_size=2,
                       depth_multiplier=1 / 16, num_detection_images=1)
    summary = run_demo.run(values)
    assert summary['optimizer'] == 'momentum' and summary['pretrain_steps'] == 2
    assert 0.0 <= summary['voc07_mAP'] <= 1.0
    pretrained = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(tmp_path / 'pretrain')))
    assert tf.train.latest_checkpoint(str(tmp_path / 'pretrain')).endswith('-2')
    started = tf.train.load_checkpoint(str(tmp_path / 'train' / 'model.ckpt-0'))
    # The detector started from the classifier's convolutions; its head is new: fc1, the
    # classifier's 6 logits there, is the detector's 4,096 units (kept at full width).
    for name in ('yolo_v1/conv1/weights', 'yolo_v1/conv20/weights'):
        assert (started.get_tensor(name) == pretrained.get_tensor(name)).all()
    assert pretrained.get_variable_to_shape_map()['yolo_v1/fc1/weights'][-1] == 6
    assert started.get_variable_to_shape_map()['yolo_v1/fc1/weights'][-1] == 4096
    assert not pretrained.has_tensor('yolo_v1/conv21/weights')
