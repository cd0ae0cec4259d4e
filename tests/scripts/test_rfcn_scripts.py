"""train_rfcn.py on the shared loop: one image per step at its own aspect ratio (rfcn_160 on the
embedded shapes), resume, the model's JSON, the release's schedules; rfcn preprocessing's sizes."""
import json
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tiny_shapes

from tf1zoo.datasets import synthetic_shapes
from tf1zoo.datasets.tfrecord_io import DatasetError
from tf1zoo.engine import cli, tfrecord_conversion
from tf1zoo.nets import nets_factory
from tf1zoo.preprocessing import rfcn_preprocessing
from tf1zoo.scripts import detect, eval_coco, eval_voc, train_rfcn


@pytest.fixture(scope='module')
def records(tmp_path_factory):
    return tiny_shapes.make_tiny_records(str(tmp_path_factory.mktemp('rfcn_pipeline')), num_test=1,
                                         seed=5)


def test_train_resume_evaluate_and_detect(records):
    train_dir = os.path.join(records['root'], 'train')
    flag_values = dict(dataset_name='shapes', dataset_dir=records['records'], train_dir=train_dir,
                       depth_multiplier=1 / 16, repeats=['1', '1', '1'], k=3, anchor_base_size=48,
                       preprocessing_name='rfcn_160', schedule='none', progress=False)
    assert tiny_shapes.run_training(train_rfcn, max_steps=2, **flag_values) == 2
    assert tiny_shapes.run_training(train_rfcn, max_steps=3, **flag_values) == 3  # resumes
    with open(os.path.join(train_dir, 'model_config.json')) as config:
        config = json.load(config)
    assert config['model_name'] == 'rfcn_inception_resnet'
    assert config['input_convention'] == 'inception_rgb'
    assert config['model_options'] == {'k': 3, 'anchor_base_size': 48, 'repeats': [1, 1, 1]}
    # The backbone's batch norm is frozen: its beta is not trained.
    reader = tf.train.load_checkpoint(train_dir)
    assert not [name for name in reader.get_variable_to_shape_map() if name.endswith('/Momentum')
                and '/BatchNorm/' in name]
    with pytest.raises(Exception, match='--batch_size must be 1'):
        train_rfcn.main(cli.parse(train_rfcn.define_flags, batch_size=2, **flag_values))
    # eval_voc.py and detect.py pick R-FCN from the JSON and run it one image at a time (any size),
    # whatever --batch_size says.
    metrics = eval_voc.run(cli.parse(
        eval_voc.define_flags, checkpoint_path=train_dir, split='test', voc_dir=records['voc_dir'],
        results_dir=os.path.join(records['root'], 'eval'), batch_size=8))
    assert set(metrics['voc07_11point']['ap']) == set(synthetic_shapes.CLASS_NAMES)
    image = os.path.join(records['voc_dir'], 'JPEGImages', sorted(os.listdir(
        os.path.join(records['voc_dir'], 'JPEGImages')))[0])
    found = detect.run(cli.parse(detect.define_flags, checkpoint_path=train_dir, images=image,
                                 output_dir=os.path.join(records['root'], 'detect'),
                                 write_images=False, batch_size=4))
    (detections,) = found.values()
    assert all(0 <= value <= 1 for detection in detections for value in detection['box'])
    # eval_coco.py: the embedded data's COCO JSON, pycocotools' numbers, the results file.
    results_file = os.path.join(records['root'], 'coco_results.json')
    annotations = os.path.join(records['root'], 'data', 'annotations', 'instances_test.json')
    result = eval_coco.run(cli.parse(
        eval_coco.define_flags, checkpoint_path=train_dir, annotation_file=annotations,
        image_dir=os.path.join(records['voc_dir'], 'JPEGImages'), results_file=results_file))
    assert list(result['stats']) == list(eval_coco.coco_evaluation.STAT_NAMES)
    assert set(result['per_category']) == set(synthetic_shapes.CLASS_NAMES)
    assert result['num_images'] == 1 and 0 <= result['stats']['AP'] <= 1
    with open(results_file) as saved:
        assert len(json.load(saved)) == result['num_detections']
    # The written file evaluates alone to the same numbers.
    again = eval_coco.run(cli.parse(eval_coco.define_flags, annotation_file=annotations,
                                    results_file=results_file))
    assert again['stats'] == result['stats']
    # The same images as TFRecords converted from the COCO JSON: the same detections and numbers.
    coco_records = os.path.join(records['root'], 'coco_records')
    tfrecord_conversion.convert_named(
        'shapes', 'test', coco_records, dataset_format='coco', coco_json=annotations,
        coco_image_dir=os.path.join(records['voc_dir'], 'JPEGImages'), num_shards=1,
        show_progress=False)
    from_records = eval_coco.run(cli.parse(
        eval_coco.define_flags, checkpoint_path=train_dir, annotation_file=annotations,
        tfrecord_pattern=os.path.join(coco_records, 'shapes_test-*'),
        results_file=os.path.join(records['root'], 'coco_results_from_records.json')))
    assert from_records['stats'] == result['stats'] and from_records['num_images'] == 1
    with open(os.path.join(records['root'], 'coco_results_from_records.json')) as saved:
        assert json.load(saved) == json.load(open(results_file))
    # Records of another dataset (VOC-converted: source ids are file names) are refused by name.
    with pytest.raises(DatasetError, match='source_id .* is no image id of'):
        eval_coco.run(cli.parse(
            eval_coco.define_flags, checkpoint_path=train_dir, annotation_file=annotations,
            tfrecord_pattern=os.path.join(records['records'], 'shapes_test-*'),
            results_file=os.path.join(records['root'], 'unused.json')))


def test_defaults_are_the_papers():
    values = cli.parse(train_rfcn.define_flags, dataset_dir='unused', train_dir='unused')
    assert (values.batch_size, values.learning_rate, values.momentum, values.weight_decay, values.k) == (
        1, 1e-3, 0.9, 5e-4, 7)
    assert train_rfcn.SCHEDULES['voc'] == (220000, 160000)
    spec = nets_factory.get_model_spec('rfcn_inception_resnet')
    assert (spec.preprocessing_name, spec.backbone_scope, spec.head_scopes) == (
        'rfcn_600', 'InceptionResnetV2', ('RFCN',))


@pytest.mark.parametrize('shape,expected', [((375, 500), (600, 800)), ((500, 375), (800, 600)),
                                            ((200, 1000), (200, 1000)), ((480, 640), (600, 800)),
                                            ((100, 333), (300, 1000)), ((99, 1001), (99, 1000))])
def test_shorter_side_600_longer_at_most_1000(shape, expected):
    with tf.Graph().as_default(), tf.Session() as session:
        assert tuple(session.run(rfcn_preprocessing.resized_shape(*shape))) == expected


def test_the_training_flip_moves_boxes_with_the_image():
    image = np.zeros((4, 8, 3), np.uint8)
    image[:, :2] = 255  # the left quarter
    boxes = np.array([[0.0, 0.0, 1.0, 0.25]], np.float32)
    flipped = set()
    with tf.Graph().as_default(), tf.Session() as session:
        for seed in range(6):
            out = session.run(rfcn_preprocessing.rfcn_train_preprocess(
                {'image': tf.constant(image), 'groundtruth_boxes': tf.constant(boxes)},
                shorter_side=4, longer_cap=8, seed=seed))
            bright_left = out['image'][:, 0, 0].mean() > 0
            box = tuple(out['groundtruth_boxes'][0].round(3))
            assert box == ((0.0, 0.0, 1.0, 0.25) if bright_left else (0.0, 0.75, 1.0, 1.0))
            flipped.add(bright_left)
    assert flipped == {True, False}
