"""Pascal VOC detection metric, as the official devkit computes it (NumPy; no TensorFlow).

The reference is the devkit's MATLAB code, ``VOCevaldet.m`` and ``VOCap.m``:

* Boxes are 1-based inclusive pixel boxes ``[xmin, ymin, xmax, ymax]``; widths and areas carry the +1.
* Detections of one class, over all images, are taken in order of decreasing confidence (ties keep the
  results file's order: MATLAB's ``sort`` is stable). Each is assigned to the ground truth of its image
  with which it has the highest IoU. If that IoU is >= 0.5 (``minoverlap``): a difficult ground truth
  makes the detection neither true nor false positive; a not-yet-detected one makes it a true positive
  (and marks it detected); an already-detected one makes it a false positive. Below 0.5 it is a false
  positive.
* Recall divides by the number of non-difficult ground truths.
* VOC2007 used an 11-point interpolated AP: the highest precision at recall >= t, averaged over
  ``t=0:0.1:1``. MATLAB's colon operator builds the upper half of that range down from its end
  (``1 - k*0.1``), so its thresholds are not NumPy's: 0.6 and 0.7 are the doubles nearest to 0.6 and
  0.7 (NumPy's ``linspace``/``arange`` give 0.6000000000000001 and 0.7000000000000001), while 0.3 is
  0.30000000000000004 in both. A class whose recall reaches exactly 6/10 or 7/10 gets another AP
  under the two. `DEVKIT_11POINT_THRESHOLDS` are MATLAB's. MATLAB's ``max`` ignores NaN (the 0/0
  precision of detections on difficult objects before any true or false positive) unless every value
  is NaN, which happens only when every detection of a class lies on a difficult object: the devkit's
  AP is then NaN, and so is it here.
* VOC2010 onwards uses the area under the monotone precision envelope (``VOCap.m``).

py-faster-rcnn's ``voc_eval.py``, which many published Python numbers use, differs in three places:
a detection is a true positive only when its IoU is strictly greater than 0.5; its 11 thresholds are
NumPy's ``np.arange(0., 1.1, 0.1)``; and its precision divides by ``max(tp + fp, eps)`` (0 where the
devkit has 0/0) after an unstable ``np.argsort`` of the scores. ``protocol='py-faster-rcnn'`` selects
all of them.

A class without any non-difficult ground truth has no defined recall: its AP is ``None`` and it is left
out of the mean.
"""
import dataclasses

import numpy as np

from tf1zoo.ops import atomic_io

DEVKIT_MIN_OVERLAP = 0.5
PROTOCOLS = ('devkit', 'py-faster-rcnn')


def matlab_colon(start, step, stop):
    """MATLAB's ``start:step:stop`` for ``step > 0``, element for element (MathWorks' colon algorithm).

    The number of intervals n is ``round((stop - start) / step)``, less one where ``start + n*step``
    overshoots ``stop`` by more than 2 eps of the larger magnitude; the range ends on ``stop`` itself
    where ``start + n*step`` is within that tolerance of it, else on ``start + n*step``. The first half
    of the elements is ``start + k*step``, the second half ``end - k*step`` counted back from the end,
    and the middle element of an even n is ``(start + end) / 2``.
    """
    tolerance = 2.0 * np.finfo(np.float64).eps * max(abs(start), abs(stop))
    n = int(round((stop - start) / step))
    if start + n * step - stop > tolerance:
        n -= 1
    if abs(start + n * step - stop) > tolerance:  # stop lies off the grid: the range ends before it
        stop = start + n * step
    values = np.empty(n + 1)
    half = n // 2
    for k in range(half + 1):
        values[k] = start + k * step
        values[n - k] = stop - k * step
    if n % 2 == 0:
        values[half] = (start + stop) / 2.0
    return values


# VOCevaldet.m: for t=0:0.1:1
DEVKIT_11POINT_THRESHOLDS = matlab_colon(0.0, 0.1, 1.0)
# py-faster-rcnn voc_eval.py voc_ap(use_07_metric=True): for t in np.arange(0., 1.1, 0.1)
PY_FASTER_RCNN_11POINT_THRESHOLDS = np.arange(0.0, 1.1, 0.1)


@dataclasses.dataclass
class GroundTruth:
    """One image's ground truth for one class: boxes [n, 4] (VOC pixels) and difficult flags [n]."""

    boxes: np.ndarray
    difficult: np.ndarray


@dataclasses.dataclass
class Detections:
    """One class's detections over a split: image ids [d], scores [d], boxes [d, 4] (VOC pixels)."""

    image_ids: list
    scores: np.ndarray
    boxes: np.ndarray


def devkit_iou(box, boxes):
    """IoU of one VOC pixel box [4] with boxes [n, 4], with the devkit's +1 on widths and heights.

    Returns float64 [n]; pairs that do not intersect (width or height <= 0) get -inf, as the devkit
    never considers them.
    """
    ixmin = np.maximum(boxes[:, 0], box[0])
    iymin = np.maximum(boxes[:, 1], box[1])
    ixmax = np.minimum(boxes[:, 2], box[2])
    iymax = np.minimum(boxes[:, 3], box[3])
    iw = ixmax - ixmin + 1.0
    ih = iymax - iymin + 1.0
    inter = iw * ih
    union = ((box[2] - box[0] + 1.0) * (box[3] - box[1] + 1.0) +
             (boxes[:, 2] - boxes[:, 0] + 1.0) * (boxes[:, 3] - boxes[:, 1] + 1.0) - inter)
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = inter / union
    return np.where((iw > 0) & (ih > 0), iou, -np.inf)


def _check_protocol(protocol):
    if protocol not in PROTOCOLS:
        raise ValueError('protocol must be one of %s, not %r' % (', '.join(PROTOCOLS), protocol))


def true_false_positives(detections, ground_truth, protocol='devkit'):
    """Marks each detection of one class as true positive, false positive or neither (difficult).

    Args:
      detections: a ``Detections`` of one class.
      ground_truth: dict image_id -> ``GroundTruth`` of that class (images without objects of the class
        may be absent).
      protocol: 'devkit' (IoU >= 0.5, ties in file order) or 'py-faster-rcnn' (IoU > 0.5, NumPy's
        default argsort).

    Returns:
      (tp, fp): float64 [d] arrays in decreasing-confidence order; a detection on a difficult object
      is 0 in both.
    """
    _check_protocol(protocol)
    negated = -np.asarray(detections.scores, dtype=np.float64)
    # MATLAB's sort is stable; py-faster-rcnn's np.argsort(-confidence) is not.
    order = np.argsort(negated, kind='stable') if protocol == 'devkit' else np.argsort(negated)
    detected = {image_id: np.zeros(len(gt.boxes), bool) for image_id, gt in ground_truth.items()}
    tp = np.zeros(len(order))
    fp = np.zeros(len(order))
    for rank, index in enumerate(order):
        gt = ground_truth.get(detections.image_ids[index])
        if gt is None or len(gt.boxes) == 0:
            fp[rank] = 1
            continue
        overlaps = devkit_iou(detections.boxes[index], gt.boxes)
        best = int(np.argmax(overlaps))
        passes = (overlaps[best] >= DEVKIT_MIN_OVERLAP if protocol == 'devkit'
                  else overlaps[best] > DEVKIT_MIN_OVERLAP)
        if not passes:
            fp[rank] = 1
        elif gt.difficult[best]:
            continue
        elif not detected[detections.image_ids[index]][best]:
            tp[rank] = 1
            detected[detections.image_ids[index]][best] = True
        else:
            fp[rank] = 1
    return tp, fp


def precision_recall(tp, fp, num_positives, protocol='devkit'):
    """Cumulative precision and recall [d] from per-detection tp/fp (``VOCevaldet.m``).

    The devkit's precision is ``tp ./ (fp + tp)``: NaN (0/0) at leading ranks whose detections all
    lay on difficult objects; py-faster-rcnn's divides by ``max(tp + fp, eps)``, 0 there.
    """
    _check_protocol(protocol)
    tp_cum = np.cumsum(tp)
    fp_cum = np.cumsum(fp)
    recall = tp_cum / float(num_positives)
    if protocol == 'py-faster-rcnn':
        return tp_cum / np.maximum(tp_cum + fp_cum, np.finfo(np.float64).eps), recall
    with np.errstate(divide='ignore', invalid='ignore'):
        return tp_cum / (tp_cum + fp_cum), recall


def _matlab_max(values):
    """MATLAB's ``max`` of a non-empty vector: NaN is ignored unless every value is NaN."""
    finite = values[~np.isnan(values)]
    return finite.max() if finite.size else np.nan


def voc07_11point_ap(precision, recall, thresholds=DEVKIT_11POINT_THRESHOLDS):
    """VOC2007's AP: the mean over ``thresholds`` t of the highest precision at recall >= t.

    Summed as the devkit sums it (``ap = ap + p/11``); an empty selection counts 0.
    """
    ap = 0.0
    for threshold in thresholds:
        selected = precision[recall >= threshold]
        ap += (_matlab_max(selected) if selected.size else 0.0) / 11.0
    return float(ap)


def voc12_area_ap(precision, recall):
    """VOC2010+'s AP (``VOCap.m``): area under the precision envelope, summed where recall changes.

    MATLAB's ``max(mpre(i), mpre(i+1))`` ignores a NaN precision; the envelope ends in 0, so NaN never
    survives it, as 0 would not.
    """
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.nan_to_num(np.concatenate([[0.0], precision, [0.0]]), nan=0.0)
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    changes = np.where(mrec[1:] != mrec[:-1])[0] + 1
    return float(np.sum((mrec[changes] - mrec[changes - 1]) * mpre[changes]))


def average_precision(detections, ground_truth, protocol='devkit'):
    """Both APs of one class: {'voc07_11point': ap or None, 'voc12_area': ap or None}."""
    num_positives = int(sum(np.sum(~gt.difficult.astype(bool)) for gt in ground_truth.values()))
    if num_positives == 0:
        return {'voc07_11point': None, 'voc12_area': None}
    tp, fp = true_false_positives(detections, ground_truth, protocol)
    precision, recall = precision_recall(tp, fp, num_positives, protocol)
    thresholds = (DEVKIT_11POINT_THRESHOLDS if protocol == 'devkit'
                  else PY_FASTER_RCNN_11POINT_THRESHOLDS)
    return {'voc07_11point': voc07_11point_ap(precision, recall, thresholds),
            'voc12_area': voc12_area_ap(precision, recall)}


def evaluate(detections_by_class, ground_truth_by_class, class_names, protocol='devkit'):
    """Per-class AP and mAP under both metrics.

    Args:
      detections_by_class: dict class_name -> ``Detections`` (a missing class has no detections).
      ground_truth_by_class: dict class_name -> dict image_id -> ``GroundTruth``.
      class_names: the classes to report, in order.
      protocol: one of `PROTOCOLS`.

    Returns:
      {'voc07_11point': {'mAP': float, 'ap': {class: float or None}}, 'voc12_area': {...}}; mAP
      averages the classes whose AP is defined.
    """
    empty = Detections(image_ids=[], scores=np.zeros([0]), boxes=np.zeros([0, 4]))
    per_class = {name: average_precision(detections_by_class.get(name, empty),
                                         ground_truth_by_class.get(name, {}), protocol)
                 for name in class_names}
    results = {}
    for metric in ('voc07_11point', 'voc12_area'):
        aps = {name: per_class[name][metric] for name in class_names}
        defined = [ap for ap in aps.values() if ap is not None]
        results[metric] = {'mAP': float(np.mean(defined)) if defined else None, 'ap': aps}
    return results


def results_file_name(class_name, comp_id='comp4', image_set='test'):
    """The devkit's results file name, e.g. ``comp4_det_test_aeroplane.txt``."""
    return '%s_det_%s_%s.txt' % (comp_id, image_set, class_name)


def write_results_file(path, detections):
    """Writes ``image_id score xmin ymin xmax ymax`` lines (VOC pixels) atomically."""
    lines = ('%s %.6f %.1f %.1f %.1f %.1f\n' % ((image_id, score) + tuple(box))
             for image_id, score, box in zip(detections.image_ids, detections.scores, detections.boxes))
    atomic_io.write_file_atomically(path, ''.join(lines).encode('utf-8'))


def read_results_file(path):
    """Reads a devkit results file into ``Detections``; a malformed line raises naming file and line."""
    image_ids, scores, boxes = [], [], []
    with open(path) as f:
        for line_number, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 6:
                raise ValueError('%s:%d: expected "image_id score xmin ymin xmax ymax", got %r'
                                 % (path, line_number, line.strip()))
            try:
                values = [float(v) for v in fields[1:]]
            except ValueError:
                raise ValueError('%s:%d: non-numeric value in %r'
                                 % (path, line_number, line.strip())) from None
            image_ids.append(fields[0])
            scores.append(values[0])
            boxes.append(values[1:])
    return Detections(image_ids=image_ids, scores=np.asarray(scores, np.float64),
                      boxes=np.asarray(boxes, np.float64).reshape([-1, 4]))
