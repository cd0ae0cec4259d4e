"""Your own dataset through the CLIs alone: classes the repository has never heard of, named by a
label map (VOC layout) or by a COCO JSON's categories, converted, trained on, evaluated and detected
with, the class names carried from the label map into the records' JSON and the checkpoint's."""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tiny_shapes
from absl import flags

from tf1zoo.datasets import synthetic_shapes, tfrecord_io
from tf1zoo.engine import cli
from tf1zoo.scripts import convert_to_tfrecord, detect, eval_voc, train_ssd

# The embedded shapes under names no registered dataset has; the label map lists them in another
# order (alphabetical, ids with gaps), which is what numbers them.
RENAMED = {'circle': 'bagel', 'square': 'window', 'triangle': 'sail', 'star': 'starfish',
           'hexagon': 'nut', 'cross': 'plus sign'}
LABEL_MAP_ORDER = tuple(sorted(RENAMED.values()))
SCRIPTS_DIR = os.path.join(os.path.dirname(convert_to_tfrecord.__file__))


def _rename_voc_classes(voc_dir):
    for name in os.listdir(os.path.join(voc_dir, 'Annotations')):
        path = os.path.join(voc_dir, 'Annotations', name)
        with open(path) as stream:
            xml = stream.read()
        xml = re.sub(r'<name>(\w+)</name>', lambda match: '<name>%s</name>' % RENAMED[match.group(1)],
                     xml)
        with open(path, 'w') as stream:
            stream.write(xml)


def _write_label_map(path):
    # ids 10, 20, ... in alphabetical order, written in reverse: the ids decide, not the file order.
    items = ["item {\n  id: %d\n  name: '%s'\n  display_name: '%s'\n}\n" % ((index + 1) * 10, name,
                                                                         name.title())
             for index, name in enumerate(LABEL_MAP_ORDER)]
    with open(path, 'w') as stream:
        stream.write(''.join(reversed(items)))


@pytest.fixture(scope='module')
def pets(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('own_dataset'))
    synthetic_shapes.generate(os.path.join(root, 'data'), num_train=4, num_val=1, num_test=3, seed=21,
                              num_workers=1, show_progress=False)
    voc_dir = os.path.join(root, 'data', 'VOCshapes')
    _rename_voc_classes(voc_dir)
    label_map = os.path.join(root, 'pets_label_map.pbtxt')
    _write_label_map(label_map)
    records = os.path.join(root, 'records')
    # The command line itself, once: a fresh process, flags only.
    completed = subprocess.run(
        [sys.executable, os.path.join(SCRIPTS_DIR, 'convert_to_tfrecord.py'), '--dataset_name=pets',
         '--label_map=' + label_map, '--voc_dir=' + voc_dir, '--split=trainval',
         '--output_dir=' + records, '--num_shards=1', '--num_workers=1'],
        capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert 'of 6 classes' in completed.stdout and 'plus sign' in completed.stdout
    convert_to_tfrecord.main(cli.parse(convert_to_tfrecord.define_flags, dataset_name='pets',
                                       label_map=label_map, voc_dir=voc_dir, split='test',
                                       output_dir=records, num_shards=1, num_workers=1))
    train_dir = os.path.join(root, 'train')
    step = tiny_shapes.run_training(train_ssd, dataset_name='pets', dataset_dir=records,
                                    train_dir=train_dir, depth_multiplier=0.125, batch_size=2,
                                    max_steps=2, progress=False)
    assert step == 2
    return {'root': root, 'voc_dir': voc_dir, 'records': records, 'train_dir': train_dir,
            'label_map': label_map}


def test_the_split_json_and_the_records_carry_the_label_maps_classes(pets):
    with open(os.path.join(pets['records'], 'pets_trainval.json')) as stream:
        info = json.load(stream)
    assert info['class_names'] == list(LABEL_MAP_ORDER)
    assert info['num_examples'] == 5 and info['shards'] == [
        {'file': 'pets_trainval-00000-of-00001.tfrecord', 'num_examples': 5}]
    # Every object's 1-based label is its name's place in the label map's id order.
    for serialized in tf.io.tf_record_iterator(os.path.join(pets['records'], info['shards'][0]['file'])):
        features = tf.train.Example.FromString(serialized).features.feature
        labels = list(features['image/object/class/label'].int64_list.value)
        names = [name.decode() for name in features['image/object/class/text'].bytes_list.value]
        assert names and labels == [LABEL_MAP_ORDER.index(name) + 1 for name in names]


def test_the_checkpoint_records_the_classes_and_evaluation_names_them(pets):
    with open(os.path.join(pets['train_dir'], 'model_config.json')) as stream:
        config = json.load(stream)
    assert config['class_names'] == list(LABEL_MAP_ORDER) and config['num_classes'] == 7
    assert config['dataset_name'] == 'pets'
    # No --dataset_name, no class list: the checkpoint's JSON names the classes.
    metrics = {}
    for source, inputs in (('records', {'tfrecord_pattern': os.path.join(pets['records'], 'pets_test-*')}),
                           ('voc', {'voc_dir': pets['voc_dir']})):
        results_dir = os.path.join(pets['root'], 'eval_' + source)
        metrics[source] = eval_voc.run(cli.parse(
            eval_voc.define_flags, checkpoint_path=pets['train_dir'], split='test',
            results_dir=results_dir, keep_top_k=20, **inputs))
        assert sorted(os.listdir(results_dir)) == sorted(
            ['comp4_det_test_%s.txt' % name for name in LABEL_MAP_ORDER] + ['voc_eval.json'])
    assert metrics['records'] == metrics['voc']
    assert list(metrics['voc']['voc12_area']['ap']) == list(LABEL_MAP_ORDER)


def test_detection_names_the_new_classes(pets):
    images = os.path.join(pets['voc_dir'], 'JPEGImages')
    image = os.path.join(images, sorted(os.listdir(images))[0])
    detections = detect.run(cli.parse(detect.define_flags, checkpoint_path=pets['train_dir'],
                                      images=image, output_dir=os.path.join(pets['root'], 'detect'),
                                      keep_top_k=5, select_threshold=0.0, write_images=False))
    (found,) = detections.values()
    assert len(found) == 5
    for detection in found:
        assert detection['class_name'] == LABEL_MAP_ORDER[detection['class_id'] - 1]


def test_a_coco_json_names_its_own_classes_or_the_label_maps_order(pets, tmp_path):
    data_dir = os.path.join(pets['root'], 'data')
    with open(os.path.join(data_dir, 'annotations', 'instances_test.json')) as stream:
        coco = json.load(stream)
    # Sparse category ids in another order than the names: 7 = window, 3 = bagel, ...
    new_ids = {1: 3, 2: 7, 3: 5, 4: 9, 5: 1, 6: 4}
    for category in coco['categories']:
        category['name'] = RENAMED[category['name']]
        category['id'] = new_ids[category['id']]
    for annotation in coco['annotations']:
        annotation['category_id'] = new_ids[annotation['category_id']]
    json_path = str(tmp_path / 'instances_test.json')
    with open(json_path, 'w') as stream:
        json.dump(coco, stream)
    image_dir = os.path.join(pets['voc_dir'], 'JPEGImages')
    by_id = {category['id']: category['name'] for category in coco['categories']}
    for name, label_map, expected in (('pets_coco', None, tuple(by_id[i] for i in sorted(by_id))),
                                      ('pets_coco_mapped', pets['label_map'], LABEL_MAP_ORDER)):
        convert_to_tfrecord.main(cli.parse(
            convert_to_tfrecord.define_flags, dataset_name=name, dataset_format='coco',
            label_map=label_map, coco_json=json_path, coco_image_dir=image_dir, split='test',
            output_dir=str(tmp_path), num_shards=1, num_workers=1))
        with open(str(tmp_path / ('%s_test.json' % name))) as stream:
            assert tuple(json.load(stream)['class_names']) == expected
        labels, names = [], []
        for serialized in tf.io.tf_record_iterator(str(tmp_path / ('%s_test-00000-of-00001.tfrecord'
                                                                   % name))):
            features = tf.train.Example.FromString(serialized).features.feature
            labels += list(features['image/object/class/label'].int64_list.value)
            names += [text.decode() for text in features['image/object/class/text'].bytes_list.value]
        assert labels == [expected.index(text) + 1 for text in names]
    assert tuple(by_id[i] for i in sorted(by_id))[:2] == ('nut', 'bagel')  # ids 1 and 3


def test_a_new_dataset_without_its_classes_is_refused_with_one_clear_message(pets):
    with pytest.raises(flags.IllegalFlagValueError, match='--label_map'):
        cli.parse(convert_to_tfrecord.define_flags, dataset_name='pets2', voc_dir=pets['voc_dir'],
                  split='test', output_dir=os.path.join(pets['root'], 'unused'))
    # A class of the XML that the label map does not list names the file and the object.
    short_map = os.path.join(pets['root'], 'short.txt')
    with open(short_map, 'w') as stream:
        stream.write('bagel\nwindow\n')
    with pytest.raises(tfrecord_io.DatasetError, match=r'\.xml: object \d+ \(\'\w+'):
        convert_to_tfrecord.main(cli.parse(convert_to_tfrecord.define_flags, dataset_name='pets3',
                                           label_map=short_map, voc_dir=pets['voc_dir'], split='test',
                                           output_dir=os.path.join(pets['root'], 'short')))
    # Training on a name nobody converted says where the classes were looked for.
    with pytest.raises(ValueError, match='pets4_trainval.json'):
        tiny_shapes.run_training(train_ssd, dataset_name='pets4', dataset_dir=pets['records'],
                                 train_dir=os.path.join(pets['root'], 'train4'), max_steps=1,
                                 progress=False)
    assert not os.path.exists(os.path.join(pets['root'], 'train4', 'model_config.json'))
    np.testing.assert_equal(sorted(os.listdir(pets['records'])), sorted(
        ['pets_trainval-00000-of-00001.tfrecord', 'pets_trainval.json',
         'pets_test-00000-of-00001.tfrecord', 'pets_test.json']))
