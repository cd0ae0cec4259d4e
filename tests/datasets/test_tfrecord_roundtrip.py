"""VOC XML and COCO JSON through the converter, TFRecords and tf.data back to the same annotations."""
import glob
import json
import os
import shutil
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from pycocotools import coco as pycocotools_coco

from tf1zoo.datasets import input_pipeline, pascalvoc, synthetic_shapes
from tf1zoo.datasets.tfrecord_io import DatasetError
from tf1zoo.engine import tfrecord_conversion
from tf1zoo.ops import standard_fields as fields

F = fields.InputDataFields


@pytest.fixture(scope='module')
def shapes_dir(tmp_path_factory):
    output_dir = str(tmp_path_factory.mktemp('shapes'))
    synthetic_shapes.generate(output_dir, num_train=5, num_val=1, num_test=3, seed=11,
                              num_workers=1, show_progress=False)
    return output_dir


def _read_all(pattern, batch_size=1, **kwargs):
    with tf.Graph().as_default(), tf.Session() as session:
        batch = input_pipeline.make_one_shot_batch(
            input_pipeline.build_dataset(pattern, batch_size, **kwargs))
        batches = []
        while True:
            try:
                batches.append(session.run(batch))
            except tf.errors.OutOfRangeError:
                return batches


def _xml_truth(voc_dir, image_id):
    root = ElementTree.parse(os.path.join(voc_dir, 'Annotations', image_id + '.xml')).getroot()
    width, height = int(root.findtext('size/width')), int(root.findtext('size/height'))
    boxes, labels, difficult, truncated = [], [], [], []
    for obj in root.findall('object'):
        xmin, ymin, xmax, ymax = (float(obj.findtext('bndbox/' + t)) for t in
                                  ('xmin', 'ymin', 'xmax', 'ymax'))
        boxes.append([(ymin - 1) / height, (xmin - 1) / width, ymax / height, xmax / width])
        labels.append(synthetic_shapes.CLASS_NAMES.index(obj.findtext('name')) + 1)
        difficult.append(obj.findtext('difficult') == '1')
        truncated.append(obj.findtext('truncated') == '1')
    return (height, width), np.array(boxes), labels, difficult, truncated


def test_voc_round_trip_keeps_boxes_labels_and_flags(shapes_dir, tmp_path):
    voc_dir = os.path.join(shapes_dir, 'VOCshapes')
    summary = tfrecord_conversion.convert_named('shapes', 'trainval', str(tmp_path), voc_dir=voc_dir,
                                          num_shards=2, num_workers=2, show_progress=False)
    assert summary.num_examples == 6 and summary.shard_sizes == (3, 3)
    seen = set()
    for batch in _read_all(os.path.join(str(tmp_path), 'shapes_trainval-*.tfrecord')):
        image_id = batch[F.source_id][0].decode()
        seen.add(image_id)
        shape, boxes, labels, difficult, truncated = _xml_truth(voc_dir, image_id)
        assert tuple(batch[F.original_image_shape][0][:2]) == shape
        assert batch[F.image][0].shape[:2] == shape
        np.testing.assert_allclose(batch[F.groundtruth_boxes][0], boxes, atol=1e-6)
        np.testing.assert_array_equal(batch[F.groundtruth_classes][0], labels)
        np.testing.assert_array_equal(batch[F.groundtruth_difficult][0], difficult)
        np.testing.assert_array_equal(batch[F.groundtruth_truncated][0], truncated)
    assert len(seen) == 6


def test_coco_round_trip_keeps_boxes_and_crowd_flags(shapes_dir, tmp_path):
    json_path = os.path.join(shapes_dir, 'annotations', 'instances_test.json')
    with open(json_path) as source:
        coco_json = json.load(source)
    coco_json['annotations'][0]['iscrowd'] = 1
    edited = str(tmp_path / 'instances_test.json')
    with open(edited, 'w') as output:
        json.dump(coco_json, output)
    tfrecord_conversion.convert_named('shapes', 'test', str(tmp_path / 'records'), dataset_format='coco',
                                coco_json=edited, num_shards=1, show_progress=False,
                                coco_image_dir=os.path.join(shapes_dir, 'VOCshapes', 'JPEGImages'))
    coco = pycocotools_coco.COCO(edited)
    by_file = {image['file_name']: image for image in coco.loadImgs(coco.getImgIds())}
    batches = _read_all(str(tmp_path / 'records' / '*.tfrecord'))
    assert len(batches) == 3
    for batch in batches:
        image = by_file[batch[F.filename][0].decode()]
        annotations = coco.loadAnns(coco.getAnnIds(imgIds=image['id'], iscrowd=None))
        h, w = image['height'], image['width']
        expected = [[a['bbox'][1] / h, a['bbox'][0] / w, (a['bbox'][1] + a['bbox'][3]) / h,
                     (a['bbox'][0] + a['bbox'][2]) / w] for a in annotations]
        np.testing.assert_allclose(batch[F.groundtruth_boxes][0], expected, atol=1e-6)
        np.testing.assert_array_equal(batch[F.groundtruth_classes][0],
                                      [a['category_id'] for a in annotations])
        np.testing.assert_array_equal(batch[F.groundtruth_is_crowd][0],
                                      [bool(a['iscrowd']) for a in annotations])


def test_padded_batches_and_seeded_shuffling(shapes_dir, tmp_path):
    voc_dir = os.path.join(shapes_dir, 'VOCshapes')
    tfrecord_conversion.convert_named('shapes', 'trainval', str(tmp_path), voc_dir=voc_dir, num_shards=3,
                                show_progress=False)
    pattern = os.path.join(str(tmp_path), '*.tfrecord')
    resize = lambda d: dict(d, image=tf.image.resize(d[F.image], [32, 32]))  # noqa: E731
    batches = _read_all(pattern, batch_size=4, preprocess_fn=resize)
    assert [len(b[F.source_id]) for b in batches] == [4, 2]
    for batch in batches:
        counts = batch[F.num_groundtruth_boxes]
        for row, count in enumerate(counts):
            assert not batch[F.groundtruth_boxes][row, count:].any()
            assert not batch[F.groundtruth_classes][row, count:].any()
            assert (batch[F.groundtruth_classes][row, :count] > 0).all()

    def order(seed):
        with tf.Graph().as_default(), tf.Session() as session:
            batch = input_pipeline.make_one_shot_batch(input_pipeline.build_dataset(
                pattern, 2, preprocess_fn=resize, is_training=True, seed=seed))
            return [list(session.run(batch[F.source_id])) for _ in range(6)]
    assert order(5) == order(5)
    assert order(5) != order(6)


def test_bad_xml_is_named_and_a_failed_conversion_leaves_no_shard(shapes_dir, tmp_path):
    voc_dir = str(tmp_path / 'VOCbad')
    shutil.copytree(os.path.join(shapes_dir, 'VOCshapes'), voc_dir)
    bad = sorted(glob.glob(os.path.join(voc_dir, 'Annotations', '*.xml')))[2]
    with open(bad, 'w') as xml_file:
        xml_file.write('<annotation><size><width>10</width>')
    output_dir = str(tmp_path / 'records')
    with pytest.raises(DatasetError, match=os.path.basename(bad)):
        tfrecord_conversion.convert_named('shapes', 'train', output_dir, voc_dir=voc_dir, num_shards=2,
                                    show_progress=False)
    assert not os.listdir(output_dir)
    summary = tfrecord_conversion.convert_named('shapes', 'train', output_dir, voc_dir=voc_dir,
                                          num_shards=2, skip_bad=True, show_progress=False)
    assert summary.num_examples == 4 and [s.path for s in summary.skipped] == [bad]


def test_corrupt_jpeg_missing_image_and_empty_split(shapes_dir, tmp_path):
    voc_dir = str(tmp_path / 'VOCbad')
    shutil.copytree(os.path.join(shapes_dir, 'VOCshapes'), voc_dir)
    images = sorted(glob.glob(os.path.join(voc_dir, 'JPEGImages', '*.jpg')))
    with open(images[0], 'wb') as jpeg:
        jpeg.write(b'\xff\xd8\xff\xe0 not really a jpeg')
    os.remove(images[1])
    for path in images[:2]:
        with open(os.path.join(voc_dir, 'ImageSets', 'Main', 'one.txt'), 'w') as split:
            split.write(os.path.basename(path)[:-len('.jpg')] + '\n')
        with pytest.raises(DatasetError, match=os.path.basename(path)):
            list(_iterate(voc_dir, 'one'))
    open(os.path.join(voc_dir, 'ImageSets', 'Main', 'empty.txt'), 'w').close()
    with pytest.raises(DatasetError, match='empty.txt'):
        list(_iterate(voc_dir, 'empty'))


def _iterate(voc_dir, split):
    return pascalvoc.iterate_examples(voc_dir, split, synthetic_shapes.CLASS_NAMES)


def test_unparsable_coco_json_is_named(tmp_path):
    path = str(tmp_path / 'instances_val.json')
    with open(path, 'w') as broken:
        broken.write('{"images": [')
    with pytest.raises(DatasetError, match='instances_val.json'):
        tfrecord_conversion.convert_named('shapes', 'val', str(tmp_path / 'out'), dataset_format='coco',
                                    coco_json=path, coco_image_dir=str(tmp_path),
                                    show_progress=False)


def test_corrupt_tfrecord_raises_or_is_skipped(shapes_dir, tmp_path):
    tfrecord_conversion.convert_named('shapes', 'test', str(tmp_path), voc_dir=os.path.join(
        shapes_dir, 'VOCshapes'), num_shards=1, show_progress=False)
    path = glob.glob(os.path.join(str(tmp_path), '*.tfrecord'))[0]
    with open(path, 'r+b') as record:
        record.seek(os.path.getsize(path) // 2)
        record.write(b'\x00' * 64)
    with pytest.raises(tf.errors.DataLossError):
        _read_all(path)
    assert len(_read_all(path, ignore_errors=True)) < 3


def _damage_middle_third(path):
    """Random bytes over the middle third of a JPEG: OpenCV still decodes it, TensorFlow does not."""
    with open(path, 'r+b') as jpeg:
        data = bytearray(jpeg.read())
        third = len(data) // 3
        data[third:2 * third] = np.random.RandomState(1).randint(0, 256, third, np.uint8).tobytes()
        jpeg.seek(0)
        jpeg.write(bytes(data))


def test_a_jpeg_that_opencv_reads_but_the_pipeline_cannot_is_refused(shapes_dir, tmp_path):
    voc_dir = str(tmp_path / 'VOCbad')
    shutil.copytree(os.path.join(shapes_dir, 'VOCshapes'), voc_dir)
    bad = sorted(glob.glob(os.path.join(voc_dir, 'JPEGImages', '*.jpg')))[1]
    _damage_middle_third(bad)
    # The premise: the converter's former check (OpenCV) accepts the file.
    import cv2
    assert cv2.imread(bad) is not None
    output_dir = str(tmp_path / 'records')
    with pytest.raises(DatasetError, match=os.path.basename(bad) + ".*TensorFlow's decoder"):
        tfrecord_conversion.convert_named('shapes', 'trainval', output_dir, voc_dir=voc_dir,
                                          num_shards=1, show_progress=False)
    summary = tfrecord_conversion.convert_named('shapes', 'trainval', output_dir, voc_dir=voc_dir,
                                                num_shards=1, skip_bad=True, show_progress=False)
    assert [s.path for s in summary.skipped] == [bad] and summary.num_examples == 5
    assert len(_read_all(os.path.join(output_dir, '*.tfrecord'))) == 5  # every record decodes


def test_a_split_line_that_is_not_utf8_is_named_with_its_line(shapes_dir, tmp_path):
    voc_dir = str(tmp_path / 'VOCbad')
    shutil.copytree(os.path.join(shapes_dir, 'VOCshapes'), voc_dir)
    split_path = os.path.join(voc_dir, 'ImageSets', 'Main', 'val.txt')
    with open(split_path, 'wb') as split:
        split.write(b'000001\nima\xe9ge\n')
    with pytest.raises(DatasetError, match=r'val\.txt: line 2 is not UTF-8 text \(byte 0xe9'):
        tfrecord_conversion.convert_named('shapes', 'val', str(tmp_path / 'out'), voc_dir=voc_dir,
                                          skip_bad=True, show_progress=False)


def test_skip_bad_with_every_file_bad_lists_them_all(shapes_dir, tmp_path):
    voc_dir = str(tmp_path / 'VOCbad')
    shutil.copytree(os.path.join(shapes_dir, 'VOCshapes'), voc_dir)
    test_ids = pascalvoc.read_image_ids(voc_dir, 'test')
    for image_id in test_ids:
        os.remove(os.path.join(voc_dir, 'JPEGImages', image_id + '.jpg'))
    with pytest.raises(DatasetError) as raised:
        tfrecord_conversion.convert_named('shapes', 'test', str(tmp_path / 'out'), voc_dir=voc_dir,
                                          skip_bad=True, show_progress=False)
    message = str(raised.value)
    assert 'all %d files were skipped' % len(test_ids) in message
    for image_id in test_ids:
        assert '%s.jpg: cannot read image' % image_id in message
