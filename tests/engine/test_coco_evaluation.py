"""engine/coco_evaluation.py: the result boxes by hand, and pycocotools' own verdict on results made
from the ground truth (AP 1) and from shifted boxes (lower)."""
import json

import numpy as np
import pytest

from tf1zoo.datasets import coco
from tf1zoo.engine import coco_evaluation


def test_normalised_boxes_become_coco_pixel_boxes():
    results = coco_evaluation.to_coco_results('7', [[0.1, 0.2, 0.5, 0.6], [-0.1, 0.9, 0.2, 1.3]],
                                              [0.9, 0.4], [2, 1], height=200, width=100,
                                              class_to_category={1: 3, 2: 18})
    assert results[0] == {'image_id': 7, 'category_id': 18, 'bbox': pytest.approx([20, 20, 40, 80]),
                          'score': 0.9}
    assert results[1]['bbox'] == pytest.approx([90, 0, 10, 40])  # clipped to the image


@pytest.fixture
def coco_gt(tmp_path):
    rng = np.random.default_rng(0)
    images, annotations = [], []
    for image_id in (1, 2, 3):
        images.append({'id': image_id, 'file_name': '%d.jpg' % image_id, 'height': 240, 'width': 320})
        for _ in range(3):
            x, y = rng.uniform(0, 200), rng.uniform(0, 140)
            w, h = rng.uniform(20, 110), rng.uniform(40, 95)
            annotations.append({'id': len(annotations) + 1, 'image_id': image_id,
                                'category_id': int(rng.choice([3, 18])), 'bbox': [x, y, w, h],
                                'area': w * h, 'iscrowd': 0})
    path = tmp_path / 'instances.json'
    path.write_text(json.dumps({'images': images, 'annotations': annotations, 'categories': [
        {'id': 3, 'name': 'car'}, {'id': 18, 'name': 'dog'}]}))
    return coco.load_coco(str(path))


def _results_from_ground_truth(coco_gt, shift=0.0):
    category_to_class, _ = coco.category_map(coco_gt, ('car', 'dog'))
    class_to_category = {v: k for k, v in category_to_class.items()}
    results = []
    for image in coco_gt.loadImgs(coco_gt.getImgIds()):
        height, width = image['height'], image['width']
        anns = coco_gt.loadAnns(coco_gt.getAnnIds(imgIds=image['id']))
        boxes = [[(a['bbox'][1]) / height, (a['bbox'][0] + shift * a['bbox'][2]) / width,
                  (a['bbox'][1] + a['bbox'][3]) / height,
                  (a['bbox'][0] + (1 + shift) * a['bbox'][2]) / width] for a in anns]
        results += coco_evaluation.to_coco_results(
            image['id'], boxes, [1.0] * len(anns), [category_to_class[a['category_id']] for a in anns],
            height, width, class_to_category)
    return results


def test_ground_truth_as_results_scores_one_and_shifted_boxes_less(coco_gt):
    perfect = coco_evaluation.evaluate_results(coco_gt, _results_from_ground_truth(coco_gt),
                                               verbose=False)['stats']
    assert perfect['AP'] == pytest.approx(1.0) and perfect['AP50'] == pytest.approx(1.0)
    assert perfect['AR100'] == pytest.approx(1.0)
    # A shift by 20% of the width: IoU 0.67, a hit at 0.50-0.65 only: AP (0.50:0.95) = 4 / 10.
    shifted = coco_evaluation.evaluate_results(coco_gt, _results_from_ground_truth(coco_gt, 0.2),
                                               verbose=False)
    assert shifted['stats']['AP50'] == pytest.approx(1.0) and shifted['stats']['AP'] == pytest.approx(0.4)
    assert shifted['per_category'] == pytest.approx({'car': 0.4, 'dog': 0.4})
    assert coco_evaluation.evaluate_results(coco_gt, [], verbose=False)['stats']['AP'] == 0.0


def test_results_files_and_their_errors(coco_gt, tmp_path):
    annotations = tmp_path / 'instances.json'
    good = tmp_path / 'results.json'
    good.write_text(json.dumps(_results_from_ground_truth(coco_gt)))
    assert coco_evaluation.evaluate_results_file(str(annotations), str(good), verbose=False)[
        'stats']['AP'] == pytest.approx(1.0)
    for content, message in (('{', 'JSON does not parse'), ('[{"image_id": 1}]', 'not a COCO results'),
                             ('[{"image_id": 99, "category_id": 3, "bbox": [0, 0, 5, 5], "score": 1}]',
                              'do not fit')):
        bad = tmp_path / 'bad.json'
        bad.write_text(content)
        with pytest.raises(coco.DatasetError, match=message) as raised:
            coco_evaluation.evaluate_results_file(str(annotations), str(bad), verbose=False)
        assert 'bad.json' in str(raised.value)
