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
* VOC2007 used an 11-point interpolated AP (max precision at recall >= 0, 0.1, ..., 1, averaged);
  VOC2010 onwards uses the area under the monotone precision envelope (``VOCap.m``).

py-faster-rcnn's ``voc_eval.py``, which many published Python numbers use, differs in one place that
matters: a detection is a true positive only when its IoU is strictly greater than 0.5.
``iou_comparison='strict'`` selects that rule.

A class without any non-difficult ground truth has no defined recall: its AP is ``None`` and it is left
out of the mean.
"""
import dataclasses

import numpy as np

from tf1zoo.datasets import atomic_io

DEVKIT_MIN_OVERLAP = 0.5


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


def true_false_positives(detections, ground_truth, iou_comparison='devkit'):
    """Marks each detection of one class as true positive, false positive or neither (difficult).

    Args:
      detections: a ``Detections`` of one class.
      ground_truth: dict image_id -> ``GroundTruth`` of that class (images without objects of the class
        may be absent).
      iou_comparison: 'devkit' (IoU >= 0.5) or 'strict' (IoU > 0.5, py-faster-rcnn).

    Returns:
      (tp, fp): float64 [d] arrays in decreasing-confidence order; a detection on a difficult object
      is 0 in both.
    """
    if iou_comparison not in ('devkit', 'strict'):
        raise ValueError('iou_comparison must be "devkit" or "strict", not %r' % iou_comparison)
    order = np.argsort(-np.asarray(detections.scores, dtype=np.float64), kind='stable')
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
        passes = (overlaps[best] >= DEVKIT_MIN_OVERLAP if iou_comparison == 'devkit'
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


def precision_recall(tp, fp, num_positives):
    """Cumulative precision and recall [d] from per-detection tp/fp (``VOCevaldet.m``)."""
    tp_cum = np.cumsum(tp)
    fp_cum = np.cumsum(fp)
    recall = tp_cum / float(num_positives)
    with np.errstate(divide='ignore', invalid='ignore'):
        precision = tp_cum / (tp_cum + fp_cum)
    # Leading detections on difficult objects have neither tp nor fp; the devkit's 0/0 is NaN there,
    # which its max() ignores. NumPy's max would not, so those ranks become 0.
    return np.nan_to_num(precision, nan=0.0), recall


def voc07_11point_ap(precision, recall):
    """VOC2007's AP: the mean over t = 0, 0.1, ..., 1 of the highest precision at recall >= t."""
    ap = 0.0
    for threshold in np.linspace(0.0, 1.0, 11):
        selected = precision[recall >= threshold]
        ap += (selected.max() if selected.size else 0.0) / 11.0
    return ap


def voc12_area_ap(precision, recall):
    """VOC2010+'s AP (``VOCap.m``): area under the precision envelope, summed where recall changes."""
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    changes = np.where(mrec[1:] != mrec[:-1])[0] + 1
    return float(np.sum((mrec[changes] - mrec[changes - 1]) * mpre[changes]))


def average_precision(detections, ground_truth, iou_comparison='devkit'):
    """Both APs of one class: {'voc07_11point': ap or None, 'voc12_area': ap or None}."""
    num_positives = int(sum(np.sum(~gt.difficult.astype(bool)) for gt in ground_truth.values()))
    if num_positives == 0:
        return {'voc07_11point': None, 'voc12_area': None}
    tp, fp = true_false_positives(detections, ground_truth, iou_comparison)
    precision, recall = precision_recall(tp, fp, num_positives)
    return {'voc07_11point': voc07_11point_ap(precision, recall),
            'voc12_area': voc12_area_ap(precision, recall)}


def evaluate(detections_by_class, ground_truth_by_class, class_names, iou_comparison='devkit'):
    """Per-class AP and mAP under both metrics.

    Args:
      detections_by_class: dict class_name -> ``Detections`` (a missing class has no detections).
      ground_truth_by_class: dict class_name -> dict image_id -> ``GroundTruth``.
      class_names: the classes to report, in order.

    Returns:
      {'voc07_11point': {'mAP': float, 'ap': {class: float or None}}, 'voc12_area': {...}}; mAP
      averages the classes whose AP is defined.
    """
    empty = Detections(image_ids=[], scores=np.zeros([0]), boxes=np.zeros([0, 4]))
    per_class = {name: average_precision(detections_by_class.get(name, empty),
                                         ground_truth_by_class.get(name, {}), iou_comparison)
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
