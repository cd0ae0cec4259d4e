"""RefineDet320 through convert_caffe.py, checked against OpenCV 4.x DNN and the official output rules.

OpenCV runs the official deploy prototxt with a random-weight caffemodel on a real photo and gives the
reference for the priors and every ARM and ODM head. Its DetectionOutput ignores RefineDet's extra
inputs (ARM locations and confidences, objectness score), so the final detections are checked against
`refinedet_detection_output` below: the official layer's rules restated in NumPy and fed with OpenCV's
head outputs.
"""
import caffe_reference
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from tf1zoo.converters import caffe_proto, caffe_weights
from tf1zoo.engine import caffe_conversion
from tf1zoo.nets import nets_factory, refinedet320

DEPLOY = 'refinedet320_vgg16_voc0712_deploy.prototxt'
NUM_CLASSES = 21


def _decode_center_size(codes, priors, variances):
    """Caffe's DecodeBBox, CENTER_SIZE, variance not encoded in the target; [xmin, ymin, xmax, ymax]."""
    width, height = priors[:, 2] - priors[:, 0], priors[:, 3] - priors[:, 1]
    center_x, center_y = (priors[:, 0] + priors[:, 2]) / 2, (priors[:, 1] + priors[:, 3]) / 2
    new_x = variances[:, 0] * codes[:, 0] * width + center_x
    new_y = variances[:, 1] * codes[:, 1] * height + center_y
    new_w = np.exp(variances[:, 2] * codes[:, 2]) * width
    new_h = np.exp(variances[:, 3] * codes[:, 3]) * height
    return np.stack([new_x - new_w / 2, new_y - new_h / 2, new_x + new_w / 2, new_y + new_h / 2], 1)


def _jaccard(box, boxes):
    """Caffe's JaccardOverlap for normalised boxes (no +1)."""
    width = np.maximum(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0)
    height = np.maximum(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0)
    intersection = width * height
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    return intersection / (area(box) + area(boxes) - intersection)


def _nms_fast(boxes, scores, score_threshold, nms_threshold, top_k):
    """Caffe's ApplyNMSFast (eta 1): the top_k scores above the threshold, greedily kept."""
    order = [i for i in np.argsort(-scores, kind='stable') if scores[i] > score_threshold][:top_k]
    kept = []
    for index in order:
        if not kept or np.all(_jaccard(boxes[index], boxes[kept]) <= nms_threshold):
            kept.append(index)
    return kept


def refinedet_detection_output(odm_loc, odm_conf, priors, variances, arm_conf, arm_loc, objectness_score,
                               confidence_threshold, nms_threshold, top_k, keep_top_k):
    """The official RefineDet DetectionOutput for one image: rows (label, score, xmin, ymin, xmax, ymax).

    1. The ARM's codes move the priors (refined anchors); the ODM's codes are decoded on those.
    2. A prior whose ARM objectness is below objectness_score gets background score 1 and 0 elsewhere.
    3. Per class but the background: scores above confidence_threshold, top_k, NMS.
    4. The keep_top_k best of all classes together.
    """
    refined = _decode_center_size(arm_loc, priors, variances)
    boxes = _decode_center_size(odm_loc, refined, variances)
    scores = odm_conf.copy()
    filtered = arm_conf[:, 1] < objectness_score
    scores[filtered] = 0.0
    scores[filtered, 0] = 1.0
    detections = []
    for label in range(1, scores.shape[1]):
        for index in _nms_fast(boxes, scores[:, label], confidence_threshold, nms_threshold, top_k):
            detections.append((label, scores[index, label], *boxes[index]))
    detections.sort(key=lambda row: -row[1])
    return np.array(detections[:keep_top_k]), filtered


def _sharpen_arm_objectness(model, factor=4.0):
    """Scales the ARM confidence heads so that some anchors pass 0.99 background probability (unit-scale
    random logits never do) and negative anchor filtering has something to filter."""
    arm_conf_heads = {layer.source + '_mbox_conf' for layer in refinedet320.PRIOR_LAYERS}
    for layer in model.layer:
        if layer.name in arm_conf_heads:
            blobs = [caffe_proto.blob_to_array(blob) * factor for blob in layer.blobs]
            del layer.blobs[:]
            layer.blobs.extend(caffe_proto.array_to_blob(blob) for blob in blobs)


@pytest.fixture(scope='module')
def refinedet_outputs(tmp_path_factory, caffe_reference_dir):
    root = tmp_path_factory.mktemp('refinedet_caffe')
    deploy_path = str(caffe_reference_dir / DEPLOY)
    caffemodel = str(root / 'refinedet_random.caffemodel')
    model = caffe_weights.random_caffemodel(caffe_proto.read_prototxt(deploy_path), seed=5)
    _sharpen_arm_objectness(model)
    caffe_proto.write_caffemodel(model, caffemodel)
    prefix = str(root / 'refinedet320')
    info = caffe_conversion.convert('refinedet320', caffemodel, prefix)
    assert info['unused_caffe_layers'] == [] and info['num_variables'] == 98

    image = caffe_reference.caffe_input(caffe_reference.photo_path(), 320)
    heads = ['%s_mbox_%s' % (source, kind) for source in
             [layer.source for layer in refinedet320.PRIOR_LAYERS] + ['P3', 'P4', 'P5', 'P6']
             for kind in ('loc', 'conf')]
    names = heads + ['arm_priorbox', 'arm_loc', 'arm_conf_flatten', 'odm_loc', 'odm_conf_flatten']
    reference = caffe_reference.opencv_forward(deploy_path, caffemodel, image, names)

    with tf.Graph().as_default():
        detector = nets_factory.get_model_spec('refinedet320').build(NUM_CLASSES)
        images = tf.placeholder(tf.float32, [1, 320, 320, 3])
        predictions, _ = detector.predict(images, is_training=False)
        fetches = dict(predictions, **detector.postprocess(predictions))
        fetches['filtered'] = detector.filtered_anchors(predictions)
        with tf.Session() as session:
            tf.train.Saver().restore(session, prefix)
            ours = session.run(fetches, {images: image[np.newaxis]})
    return reference, ours


def test_priors_match_opencv(refinedet_outputs):
    reference, ours = refinedet_outputs
    priors = reference['arm_priorbox'][0, 0].reshape(-1, 4)
    assert priors.shape == (6375, 4)
    np.testing.assert_allclose(ours['anchors'], priors[:, [1, 0, 3, 2]], atol=1e-6)


def test_arm_and_odm_heads_match_opencv(refinedet_outputs):
    reference, ours = refinedet_outputs
    stages = (([layer.source for layer in refinedet320.PRIOR_LAYERS], 'arm_box_encodings',
               'arm_class_predictions', 2),
              (['P3', 'P4', 'P5', 'P6'], 'box_encodings', 'class_predictions_with_background',
               NUM_CLASSES))
    for sources, loc_key, conf_key, num_scores in stages:
        start = 0
        for source in sources:
            loc = caffe_reference.head_rows(reference[source + '_mbox_loc'], 4)[:, [1, 0, 3, 2]]
            conf = caffe_reference.head_rows(reference[source + '_mbox_conf'], num_scores)
            stop = start + len(loc)
            caffe_reference.assert_close_relative(ours[loc_key][0, start:stop], loc, source + '_mbox_loc')
            caffe_reference.assert_close_relative(ours[conf_key][0, start:stop], conf, source + '_mbox_conf')
            start = stop
        assert start == 6375


def test_detections_follow_the_official_refinedet_output_rules(refinedet_outputs):
    reference, ours = refinedet_outputs
    expected, filtered = refinedet_detection_output(
        odm_loc=reference['odm_loc'][0].reshape(-1, 4),
        odm_conf=reference['odm_conf_flatten'][0].reshape(-1, NUM_CLASSES),
        priors=reference['arm_priorbox'][0, 0].reshape(-1, 4),
        variances=reference['arm_priorbox'][0, 1].reshape(-1, 4),
        arm_conf=reference['arm_conf_flatten'][0].reshape(-1, 2),
        arm_loc=reference['arm_loc'][0].reshape(-1, 4),
        objectness_score=refinedet320.OBJECTNESS_THRESHOLD,
        confidence_threshold=refinedet320.POSTPROCESS_DEFAULTS['score_threshold'],
        nms_threshold=refinedet320.POSTPROCESS_DEFAULTS['iou_threshold'],
        top_k=refinedet320.POSTPROCESS_DEFAULTS['top_k_per_class'],
        keep_top_k=refinedet320.POSTPROCESS_DEFAULTS['keep_top_k'])
    # The random weights filter some anchors, not all: the rule is exercised both ways.
    assert 0 < filtered.sum() < len(filtered)
    np.testing.assert_array_equal(ours['filtered'][0], filtered)
    count = int(ours['num_detections'][0])
    assert count == len(expected)
    actual = np.column_stack([ours['detection_classes'][0, :count], ours['detection_scores'][0, :count],
                              ours['detection_boxes'][0, :count][:, [1, 0, 3, 2]]])
    order = lambda table: table[np.lexsort((-table[:, 1], table[:, 0]))]  # noqa: E731
    actual, expected = order(actual), order(expected)
    np.testing.assert_array_equal(actual[:, 0], expected[:, 0])
    np.testing.assert_allclose(actual[:, 1:], expected[:, 1:], rtol=1e-4, atol=1e-4)
