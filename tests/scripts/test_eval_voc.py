"""eval_voc.py on a results folder (no model): the devkit's metric through real files, by hand."""
import collections
import json
import os

import numpy as np
import pytest

from tf1zoo.datasets import voc_eval
from tf1zoo.engine import cli, voc_evaluation
from tf1zoo.scripts import eval_voc

CLASSES = ('circle', 'square', 'triangle', 'star', 'hexagon', 'cross')


def _write_xml(path, width, height, objects):
    parts = ['<annotation><filename>x.jpg</filename><size><width>%d</width><height>%d</height>'
             '<depth>3</depth></size>' % (width, height)]
    for name, (xmin, ymin, xmax, ymax), difficult in objects:
        parts.append('<object><name>%s</name><difficult>%d</difficult><bndbox><xmin>%d</xmin>'
                     '<ymin>%d</ymin><xmax>%d</xmax><ymax>%d</ymax></bndbox></object>'
                     % (name, difficult, xmin, ymin, xmax, ymax))
    with open(path, 'w') as xml_file:
        xml_file.write(''.join(parts) + '</annotation>')


@pytest.fixture
def voc_dir(tmp_path):
    root = tmp_path / 'VOC2007'
    for sub in ('Annotations', 'ImageSets/Main', 'JPEGImages'):
        os.makedirs(root / sub)
    _write_xml(root / 'Annotations' / 'a.xml', 100, 100, [
        ('circle', (11, 11, 50, 50), 0), ('circle', (61, 61, 90, 90), 0),
        ('square', (1, 1, 20, 20), 1)])
    _write_xml(root / 'Annotations' / 'b.xml', 100, 80, [('square', (5, 5, 44, 44), 0)])
    (root / 'ImageSets' / 'Main' / 'test.txt').write_text('a\nb\n')
    return str(root)


def _results(results_dir, lines_by_class):
    os.makedirs(results_dir, exist_ok=True)
    for name in CLASSES:
        with open(os.path.join(results_dir, voc_eval.results_file_name(name)), 'w') as out:
            out.write(''.join(line + '\n' for line in lines_by_class.get(name, [])))


def test_results_folder_against_a_vocdevkit(voc_dir, tmp_path):
    results_dir = str(tmp_path / 'results')
    _results(results_dir, {
        # circle: hit (0.9), miss (0.8), hit (0.7): precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1.
        'circle': ['a 0.9 11 11 50 50', 'b 0.8 11 11 50 50', 'a 0.7 62 62 90 90'],
        # square: the difficult one is neither true nor false; the other is found at 0.5.
        'square': ['a 0.95 1 1 20 20', 'b 0.5 5 5 44 44'],
    })
    output_json = str(tmp_path / 'metrics.json')
    results = eval_voc.run(cli.parse(
        eval_voc.define_flags, dataset_dir=os.path.dirname(voc_dir), year='2007', split='test',
        results_dir=results_dir, output_json=output_json, dataset_name='shapes'))
    with open(output_json) as saved:
        assert json.load(saved) == results
    # 11-point: recall 0..0.5 -> precision 1 (6 points), 0.6..1 -> 2/3 (5 points).
    assert results['voc07_11point']['ap']['circle'] == pytest.approx((6 + 5 * 2 / 3) / 11)
    assert results['voc12_area']['ap']['circle'] == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert results['voc07_11point']['ap']['square'] == pytest.approx(1.0)
    assert results['voc07_11point']['ap']['star'] is None  # no ground truth: not averaged
    assert results['voc12_area']['mAP'] == pytest.approx((0.5 + 1 / 3 + 1.0) / 2)


def test_a_missing_results_file_is_named(voc_dir, tmp_path):
    results_dir = str(tmp_path / 'results')
    _results(results_dir, {})
    os.remove(os.path.join(results_dir, voc_eval.results_file_name('star')))
    with pytest.raises(ValueError, match='comp4_det_test_star.txt'):
        eval_voc.run(cli.parse(eval_voc.define_flags, voc_dir=voc_dir, split='test',
                                        results_dir=results_dir, dataset_name='shapes'))


def test_boxes_under_one_pixel_are_not_written_as_inverted_voc_boxes():
    # 100 x 200 image: a 2 x 2 px box is written, a 0.5 px wide sliver at the right border (and a
    # box wholly outside, clipped to nothing) would be inverted 1-based boxes and are left out.
    image = {'original_image_shape': np.array([100, 200, 3]), 'source_id': 'img',
             'detection_boxes': np.array([[0.10, 0.10, 0.12, 0.11], [0.2, 0.9975, 0.5, 1.2],
                                          [0.2, 1.1, 0.5, 1.3]], np.float32),
             'detection_scores': np.array([0.9, 0.8, 0.7], np.float32),
             'detection_classes': np.array([1, 1, 1])}
    detections = collections.defaultdict(lambda: ([], [], []))
    voc_evaluation._collect(image, detections, {}, ('a',))  # noqa: SLF001
    image_ids, scores, boxes = detections['a']
    assert image_ids == ['img'] and scores == [pytest.approx(0.9)]
    np.testing.assert_allclose(boxes[0], [21, 11, 22, 12], atol=1e-4)  # xmin ymin xmax ymax, 1-based


def test_recall_of_exactly_seven_tenths_through_the_results_files(tmp_path):
    # Ten circles, one per image; the circle file hits 6, misses, hits the 7th, misses twice:
    # recall reaches exactly 6/10 and 7/10. Devkit (MATLAB's 0:0.1:1, 0.6 and 0.7 exact): points
    # t = 0..0.6 at precision 1, t = 0.7 at 7/8. NumPy's 0.6000000000000001 and 0.7000000000000001
    # (py-faster-rcnn): t = 0..0.5 at 1, t = 0.6 at 7/8, t = 0.7 nothing.
    root = tmp_path / 'VOC2007'
    for sub in ('Annotations', 'ImageSets/Main', 'JPEGImages'):
        os.makedirs(root / sub)
    ids = ['im%d' % i for i in range(10)] + ['empty']
    for image_id in ids:
        objects = [] if image_id == 'empty' else [('circle', (11, 11, 50, 50), 0)]
        _write_xml(root / 'Annotations' / (image_id + '.xml'), 100, 100, objects)
    (root / 'ImageSets' / 'Main' / 'test.txt').write_text('\n'.join(ids) + '\n')
    hits = [1, 1, 1, 1, 1, 1, 0, 1, 0, 0]
    lines, found = [], 0
    for rank, hit in enumerate(hits):
        lines.append('%s %.2f 11 11 50 50' % ('im%d' % found if hit else 'empty', 0.95 - 0.05 * rank))
        found += hit
    results_dir = str(tmp_path / 'results')
    _results(results_dir, {'circle': lines})
    aps = {}
    for protocol in ('devkit', 'py-faster-rcnn'):
        metrics = eval_voc.run(cli.parse(eval_voc.define_flags, voc_dir=str(root), split='test',
                                         results_dir=results_dir, dataset_name='shapes',
                                         protocol=protocol))
        aps[protocol] = metrics['voc07_11point']['ap']['circle']
        assert metrics['voc12_area']['ap']['circle'] == pytest.approx(0.6 + 0.1 * 7 / 8)
    assert aps['devkit'] == pytest.approx((7 + 7 / 8) / 11, abs=1e-12)
    assert aps['py-faster-rcnn'] == pytest.approx((6 + 7 / 8) / 11, abs=1e-12)
    # The deprecated --iou_comparison=strict is py-faster-rcnn's protocol.
    strict = eval_voc.run(cli.parse(eval_voc.define_flags, voc_dir=str(root), split='test',
                                    results_dir=results_dir, dataset_name='shapes',
                                    iou_comparison='strict'))
    assert strict['voc07_11point']['ap']['circle'] == aps['py-faster-rcnn']
