"""VOC metric on hand-made cases whose APs are worked out by hand from VOCevaldet.m / VOCap.m."""
import numpy as np
import pytest

from tf1zoo.datasets import voc_eval


def _gt(boxes, difficult):
    return voc_eval.GroundTruth(np.asarray(boxes, np.float64), np.asarray(difficult, bool))


def _dets(image_ids, scores, boxes):
    return voc_eval.Detections(list(image_ids), np.asarray(scores, np.float64),
                               np.asarray(boxes, np.float64).reshape([-1, 4]))


BOX_A = [11, 11, 60, 60]
BOX_B = [101, 51, 200, 150]
BOX_C = [5, 5, 40, 30]


def _hand_case():
    """img1: A; img2: B and a difficult C. Detections: A (0.9), A again (0.8), C (0.7), B (0.6)."""
    ground_truth = {'img1': _gt([BOX_A], [False]), 'img2': _gt([BOX_B, BOX_C], [False, True])}
    detections = _dets(['img1', 'img1', 'img2', 'img2'], [0.9, 0.8, 0.7, 0.6],
                       [BOX_A, BOX_A, BOX_C, BOX_B])
    return detections, ground_truth


def test_duplicates_are_false_positives_and_difficult_is_neither():
    detections, ground_truth = _hand_case()
    tp, fp = voc_eval.true_false_positives(detections, ground_truth)
    np.testing.assert_array_equal(tp, [1, 0, 0, 1])
    np.testing.assert_array_equal(fp, [0, 1, 0, 0])


def test_hand_computed_aps():
    # rec = [.5, .5, .5, 1], prec = [1, .5, .5, 2/3] (npos = 2: the difficult C does not count).
    # VOC12: 0.5 * 1 + 0.5 * 2/3. VOC07: six thresholds (0..0.5) at precision 1, five at 2/3.
    detections, ground_truth = _hand_case()
    ap = voc_eval.average_precision(detections, ground_truth)
    assert ap['voc12_area'] == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert ap['voc07_11point'] == pytest.approx((6 + 5 * 2 / 3) / 11)


def test_order_is_by_score_not_by_file_order():
    detections, ground_truth = _hand_case()
    reverse = _dets(detections.image_ids[::-1], detections.scores[::-1], detections.boxes[::-1])
    assert voc_eval.average_precision(reverse, ground_truth) == \
        voc_eval.average_precision(detections, ground_truth)


def test_iou_of_exactly_half_counts_for_the_devkit_not_for_py_faster_rcnn():
    # With the +1: gt is 10 x 10 = 100 px, the detection 10 x 20 = 200 px, intersection 100: IoU 0.5.
    ground_truth = {'im': _gt([[1, 1, 10, 10]], [False])}
    detections = _dets(['im'], [0.5], [[1, 1, 10, 20]])
    assert voc_eval.devkit_iou(np.array([1, 1, 10, 20.]), np.array([[1, 1, 10, 10.]]))[0] == 0.5
    assert voc_eval.average_precision(detections, ground_truth)['voc12_area'] == 1.0
    strict = voc_eval.average_precision(detections, ground_truth, protocol='py-faster-rcnn')
    assert strict['voc12_area'] == 0.0


def test_detection_on_image_without_ground_truth_is_false_positive():
    ground_truth = {'im': _gt([BOX_A], [False])}
    detections = _dets(['other', 'im'], [0.9, 0.8], [BOX_A, BOX_A])
    tp, fp = voc_eval.true_false_positives(detections, ground_truth)
    np.testing.assert_array_equal(tp, [0, 1])
    np.testing.assert_array_equal(fp, [1, 0])


def test_class_without_ground_truth_is_left_out_of_the_mean():
    detections, ground_truth = _hand_case()
    results = voc_eval.evaluate({'cat': detections, 'dog': detections},
                                {'cat': ground_truth}, ['cat', 'dog', 'bird'])
    for metric in ('voc07_11point', 'voc12_area'):
        assert results[metric]['ap']['dog'] is None
        assert results[metric]['ap']['bird'] is None
        assert results[metric]['mAP'] == results[metric]['ap']['cat']


def test_no_detections_gives_zero_ap():
    results = voc_eval.evaluate({}, {'cat': {'im': _gt([BOX_A], [False])}}, ['cat'])
    assert results['voc12_area']['mAP'] == 0.0
    assert results['voc07_11point']['mAP'] == 0.0


def test_results_file_round_trip(tmp_path):
    detections, _ = _hand_case()
    path = str(tmp_path / voc_eval.results_file_name('cat'))
    assert path.endswith('comp4_det_test_cat.txt')
    voc_eval.write_results_file(path, detections)
    back = voc_eval.read_results_file(path)
    assert back.image_ids == detections.image_ids
    np.testing.assert_allclose(back.scores, detections.scores)
    np.testing.assert_allclose(back.boxes, detections.boxes)


def test_malformed_results_line_names_file_and_line(tmp_path):
    path = tmp_path / 'comp4_det_test_cat.txt'
    path.write_text('im 0.9 1 2 3 4\nim 0.8 1 2 3\n')
    with pytest.raises(ValueError, match=r'comp4_det_test_cat.txt:2'):
        voc_eval.read_results_file(str(path))


def test_matlab_colon_builds_the_upper_half_of_0_to_1_down_from_its_end():
    # MATLAB: 0:0.1:1 is k*0.1 for k = 0..5 and 1 - k*0.1 for k = 4..0 (written out by hand here).
    expected = [0.0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 1 - 0.4, 1 - 0.30000000000000004,
                1 - 0.2, 1 - 0.1, 1.0]
    assert [float(t).hex() for t in voc_eval.DEVKIT_11POINT_THRESHOLDS] == [t.hex() for t in expected]
    assert voc_eval.DEVKIT_11POINT_THRESHOLDS[6] == 0.6 and voc_eval.DEVKIT_11POINT_THRESHOLDS[7] == 0.7
    assert voc_eval.DEVKIT_11POINT_THRESHOLDS[3] == 0.1 * 3  # 0.30000000000000004, as NumPy's
    # NumPy's (py-faster-rcnn's) differ at 0.6 and 0.7 only.
    numpy_thresholds = voc_eval.PY_FASTER_RCNN_11POINT_THRESHOLDS
    differ = [i for i in range(11) if numpy_thresholds[i] != voc_eval.DEVKIT_11POINT_THRESHOLDS[i]]
    assert differ == [6, 7] and numpy_thresholds[6] == 0.6000000000000001
    # Off the grid, the range stops before its end; on it, it ends on the end itself.
    assert list(voc_eval.matlab_colon(0.0, 0.1, 0.3)) == [0.0, 0.1, 0.3 - 0.1, 0.3]
    assert list(voc_eval.matlab_colon(1.0, 1.0, 3.5)) == [1.0, 2.0, 3.0]


def _ten_objects_case(hits):
    """Ten objects, one an image; detections in decreasing score, True a hit on the next unfound
    object, False a miss on an image without objects."""
    ground_truth = {'im%d' % i: _gt([BOX_A], [False]) for i in range(10)}
    image_ids, boxes, found = [], [], 0
    for hit in hits:
        image_ids.append('im%d' % found if hit else 'empty')
        boxes.append(BOX_A)
        found += hit
    scores = np.linspace(0.9, 0.1, len(hits))
    return _dets(image_ids, scores, boxes), ground_truth


def test_recall_of_exactly_seven_tenths_counts_at_the_devkit_threshold_0_7():
    # Hits T T T T T T F T F F: recall .1 .2 .3 .4 .5 .6 .6 .7 .7 .7 (k/10 in doubles),
    # precision 1 1 1 1 1 1 6/7 7/8 7/9 7/10.
    detections, ground_truth = _ten_objects_case([1, 1, 1, 1, 1, 1, 0, 1, 0, 0])
    devkit = voc_eval.average_precision(detections, ground_truth)['voc07_11point']
    py_faster_rcnn = voc_eval.average_precision(detections, ground_truth,
                                                protocol='py-faster-rcnn')['voc07_11point']
    # Devkit: t = 0..0.5 and 0.6 reach precision 1 (recall 6/10 >= 0.6), t = 0.7 reaches 7/8
    # (7/10 >= 0.7), t = 0.8..1 nothing.
    assert devkit == pytest.approx((7 + 7 / 8) / 11, abs=1e-15)
    # NumPy's 0.6000000000000001 > 6/10 and 0.7000000000000001 > 7/10: t = 0.6 sees only the
    # recall-0.7 ranks (7/8), t = 0.7 nothing.
    assert py_faster_rcnn == pytest.approx((6 + 7 / 8) / 11, abs=1e-15)


def test_recall_of_exactly_six_tenths_counts_at_the_devkit_threshold_0_6():
    # Hits T x6, then misses: recall tops out at 6/10, precision 1 up to it.
    detections, ground_truth = _ten_objects_case([1, 1, 1, 1, 1, 1, 0, 0])
    assert voc_eval.average_precision(detections, ground_truth)['voc07_11point'] == \
        pytest.approx(7 / 11, abs=1e-15)
    assert voc_eval.average_precision(detections, ground_truth, protocol='py-faster-rcnn')[
        'voc07_11point'] == pytest.approx(6 / 11, abs=1e-15)
    # The area metric does not use thresholds: 0.6 under both.
    assert voc_eval.average_precision(detections, ground_truth)['voc12_area'] == pytest.approx(0.6)


def test_detections_only_on_difficult_objects_give_the_devkits_nan():
    # tp = fp = 0 everywhere: MATLAB's prec = 0/0 = NaN, and max of all-NaN is NaN (VOC07); the
    # VOC2010+ envelope ends in 0, so its AP is 0. py-faster-rcnn divides by eps: 0.
    ground_truth = {'im': _gt([BOX_A, BOX_B], [False, True])}
    detections = _dets(['im'], [0.9], [BOX_B])
    devkit = voc_eval.average_precision(detections, ground_truth)
    assert np.isnan(devkit['voc07_11point']) and devkit['voc12_area'] == 0.0
    assert voc_eval.average_precision(detections, ground_truth, protocol='py-faster-rcnn') == {
        'voc07_11point': 0.0, 'voc12_area': 0.0}


def test_leading_detections_on_difficult_objects_are_ignored_by_the_max():
    # The first detection lies on the difficult object (precision NaN), then a hit: AP 1 under both.
    ground_truth = {'im': _gt([BOX_A, BOX_B], [False, True])}
    detections = _dets(['im', 'im'], [0.9, 0.8], [BOX_B, BOX_A])
    for protocol in voc_eval.PROTOCOLS:
        assert voc_eval.average_precision(detections, ground_truth, protocol=protocol) == {
            'voc07_11point': pytest.approx(1.0), 'voc12_area': 1.0}


def test_unknown_protocol_is_refused():
    detections, ground_truth = _hand_case()
    with pytest.raises(ValueError, match='protocol'):
        voc_eval.average_precision(detections, ground_truth, protocol='strict')
