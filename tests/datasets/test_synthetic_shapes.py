"""The embedded dataset: real VOC layout, COCO JSON with the same boxes, tight boxes, determinism."""
import filecmp
import json
import os
import xml.etree.ElementTree as ElementTree

import cv2
import numpy as np
import pytest
from pycocotools import coco as pycocotools_coco

from tf1zoo.datasets import pascalvoc, synthetic_shapes

COUNTS = dict(num_train=14, num_val=4, num_test=8)
# The harder variant exercises every drawing path (textures, outlines, clutter).
DISTRACTORS = dict(distractors=True)


@pytest.fixture(scope='module')
def dataset_dir(tmp_path_factory):
    output_dir = str(tmp_path_factory.mktemp('shapes'))
    synthetic_shapes.generate(output_dir, seed=3, num_workers=2, show_progress=False, **COUNTS,
                              **DISTRACTORS)
    return output_dir


def _voc_dir(output_dir):
    return os.path.join(output_dir, synthetic_shapes.VOC_FOLDER)


def _objects(voc_dir, image_id):
    root = ElementTree.parse(os.path.join(voc_dir, 'Annotations', image_id + '.xml')).getroot()
    size = (int(root.findtext('size/width')), int(root.findtext('size/height')))
    objects = []
    for element in root.findall('object'):
        box = tuple(int(element.findtext('bndbox/' + tag)) for tag in ('xmin', 'ymin', 'xmax', 'ymax'))
        objects.append((element.findtext('name'), box, element.findtext('truncated') == '1',
                        element.findtext('difficult') == '1'))
    return size, objects


def test_box_from_mask_is_the_tight_one_based_box():
    mask = np.zeros((6, 8), np.uint8)
    mask[2:4, 1:6] = 255   # rows 2-3, columns 1-5 (0-based)
    mask[5, 7] = 127       # below the coverage threshold: not part of the object
    assert synthetic_shapes.box_from_mask(mask) == (2, 3, 6, 4)
    assert synthetic_shapes.box_from_mask(np.zeros((3, 3), np.uint8)) is None


def test_voc_layout_and_boxes_inside_the_image(dataset_dir):
    voc_dir = _voc_dir(dataset_dir)
    splits = {split: pascalvoc.read_image_ids(voc_dir, split) for split in ('train', 'val', 'test')}
    assert [len(splits[s]) for s in ('train', 'val', 'test')] == [14, 4, 8]
    assert pascalvoc.read_image_ids(voc_dir, 'trainval') == splits['train'] + splits['val']
    all_ids = sum(splits.values(), [])
    assert len(set(all_ids)) == len(all_ids)
    for image_id in all_ids:
        (width, height), objects = _objects(voc_dir, image_id)
        assert os.path.exists(os.path.join(voc_dir, 'JPEGImages', image_id + '.jpg'))
        assert 1 <= len(objects) <= synthetic_shapes.MAX_OBJECTS
        for _, (xmin, ymin, xmax, ymax), _, _ in objects:
            assert 1 <= xmin <= xmax <= width and 1 <= ymin <= ymax <= height
        # The repository's own reader accepts every file.
        record = pascalvoc.parse_annotation(
            os.path.join(voc_dir, 'Annotations', image_id + '.xml'), synthetic_shapes.CLASS_NAMES)
        assert len(record.objects) == len(objects)


def test_classes_flags_and_per_class_image_sets_agree_with_xml(dataset_dir):
    voc_dir = _voc_dir(dataset_dir)
    seen = set()
    flags = {'truncated': 0, 'difficult': 0}
    for split in ('train', 'val', 'trainval', 'test'):
        ids = pascalvoc.read_image_ids(voc_dir, split)
        objects = {image_id: _objects(voc_dir, image_id)[1] for image_id in ids}
        for name in synthetic_shapes.CLASS_NAMES:
            path = os.path.join(voc_dir, 'ImageSets', 'Main', '%s_%s.txt' % (name, split))
            with open(path) as lines:
                labels = dict((line.split()[0], int(line.split()[1])) for line in lines)
            assert list(labels) == ids
            for image_id in ids:
                mine = [difficult for n, _, _, difficult in objects[image_id] if n == name]
                expected = -1 if not mine else (0 if all(mine) else 1)
                assert labels[image_id] == expected, (name, image_id)
        if split != 'trainval':
            for image_objects in objects.values():
                seen.update(name for name, _, _, _ in image_objects)
                flags['truncated'] += sum(obj[2] for obj in image_objects)
                flags['difficult'] += sum(obj[3] for obj in image_objects)
    assert seen == set(synthetic_shapes.CLASS_NAMES)
    assert flags['truncated'] > 0 and flags['difficult'] > 0


def test_coco_json_annotates_the_same_boxes(dataset_dir):
    voc_dir = _voc_dir(dataset_dir)
    for split in ('train', 'test', 'trainval'):
        coco = pycocotools_coco.COCO(
            os.path.join(dataset_dir, 'annotations', 'instances_%s.json' % split))
        names = {c['id']: c['name'] for c in coco.loadCats(coco.getCatIds())}
        assert [names[i] for i in sorted(names)] == list(synthetic_shapes.CLASS_NAMES)
        image_ids = pascalvoc.read_image_ids(voc_dir, split)
        assert len(coco.getImgIds()) == len(image_ids)
        for image in coco.loadImgs(coco.getImgIds()):
            image_id = image['file_name'][:-len('.jpg')]
            (width, height), objects = _objects(voc_dir, image_id)
            assert (image['width'], image['height']) == (width, height)
            from_coco = sorted(
                (names[a['category_id']], (round(a['bbox'][0]) + 1, round(a['bbox'][1]) + 1,
                                           round(a['bbox'][0] + a['bbox'][2]),
                                           round(a['bbox'][1] + a['bbox'][3])))
                for a in coco.loadAnns(coco.getAnnIds(imgIds=image['id'])))
            assert from_coco == sorted((name, box) for name, box, _, _ in objects)


def test_same_seed_same_bytes_other_seed_differs(dataset_dir, tmp_path):
    again = str(tmp_path / 'again')
    synthetic_shapes.generate(again, seed=3, num_workers=1, show_progress=False, **COUNTS,
                              **DISTRACTORS)
    for sub in ('VOCshapes/Annotations', 'VOCshapes/JPEGImages', 'VOCshapes/ImageSets/Main',
                'annotations'):
        names = sorted(os.listdir(os.path.join(dataset_dir, sub)))
        assert names == sorted(os.listdir(os.path.join(again, sub)))
        _, mismatch, errors = filecmp.cmpfiles(os.path.join(dataset_dir, sub),
                                               os.path.join(again, sub), names, shallow=False)
        assert not mismatch and not errors, sub
    other = str(tmp_path / 'other')
    synthetic_shapes.generate(other, seed=4, num_workers=1, show_progress=False, num_train=1,
                              num_val=1, num_test=1)
    with open(os.path.join(dataset_dir, 'annotations', 'instances_train.json')) as a, \
            open(os.path.join(other, 'annotations', 'instances_train.json')) as b:
        assert json.load(a)['annotations'][0] != json.load(b)['annotations'][0]


def test_rendered_box_is_tight_on_a_plain_background():
    """Paint solid untruncated shapes on a flat background: the changed pixels span the box."""
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(40):
        placed = synthetic_shapes._place_object(rng, 120, 100, [])
        if placed is None or placed[3] or placed[0].style != 'solid':
            continue
        placement, coverage, box, _ = placed
        image = np.full((100, 120, 3), 128.0, np.float32)
        synthetic_shapes._paint(rng, image, coverage, placement)
        # Pixels changed by more than half the object's contrast belong to it.
        change = np.abs(image - 128.0).max(axis=2)
        changed = np.argwhere(change > 0.5 * change.max())
        (top, left), (bottom, right) = changed.min(axis=0), changed.max(axis=0)
        xmin, ymin, xmax, ymax = box
        assert abs(left + 1 - xmin) <= 1 and abs(right + 1 - xmax) <= 1
        assert abs(top + 1 - ymin) <= 1 and abs(bottom + 1 - ymax) <= 1
        checked += 1
    assert checked >= 10


def _largest_step_between_neighbours(image):
    return max(np.abs(np.diff(image, axis=0)).max(), np.abs(np.diff(image, axis=1)).max())


def test_without_distractors_backgrounds_are_smooth_and_objects_solid():
    """Gradients and value noise change by a few levels per pixel; stripes, checkerboards, disks and
    clutter strokes have edges of 100+ levels."""
    rng = np.random.default_rng(0)
    smooth = [_largest_step_between_neighbours(synthetic_shapes.background(rng, 240, 320, False))
              for _ in range(30)]
    assert max(smooth) < 40
    textured = [_largest_step_between_neighbours(synthetic_shapes.background(rng, 240, 320, True))
                for _ in range(30)]
    assert sum(step > 40 for step in textured) >= 15
    styles = {synthetic_shapes._random_placement(rng, 300, 300, distractors=False).style
              for _ in range(50)}
    assert styles == {'solid'}
    assert len({synthetic_shapes._random_placement(rng, 300, 300, distractors=True).style
                for _ in range(100)}) == 3


def test_distractors_flag_reaches_the_written_images(tmp_path):
    synthetic_shapes.generate(str(tmp_path), num_train=3, num_val=1, num_test=1, seed=5,
                              num_workers=1, show_progress=False, distractors=False)
    rng = np.random.default_rng([5, 1, 0])  # _make_image's draws for train image 0
    width, height = (int(rng.integers(240, 401)) for _ in range(2))
    pixels, _ = synthetic_shapes.render_image(rng, width, height, distractors=False)
    written = cv2.imread(os.path.join(_voc_dir(str(tmp_path)), 'JPEGImages', 'shapes_000000.jpg'))
    assert written.shape == pixels.shape
    # JPEG-compressed, so compared on average.
    assert np.abs(written[..., ::-1].astype(float) - pixels).mean() < 3.0


def test_rejects_an_empty_split(tmp_path):
    with pytest.raises(ValueError, match='at least one image'):
        synthetic_shapes.generate(str(tmp_path), num_train=2, num_val=0, num_test=1)
