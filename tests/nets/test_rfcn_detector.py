"""nets/rfcn_detector.py on a thin net and a 96 x 128 image: the maps and anchors, the backbone's
slim names, losses that train (one image overfits), and detections in the common format."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from tf1zoo.nets import rfcn_detector
from tf1zoo.ops import standard_fields

fields = standard_fields.InputDataFields
THIN = dict(depth_multiplier=1 / 16, repeats=(1, 1, 1), k=3,
            train_proposals=rfcn_detector.ProposalSettings(pre_nms_top_n=300, post_nms_top_n=64,
                                                           min_size=4),
            test_proposals=rfcn_detector.ProposalSettings(pre_nms_top_n=300, post_nms_top_n=32,
                                                          min_size=4),
            ohem_batch_size=16, anchor_base_size=48, seed=0)  # anchors of 24-96 px: some inside
GT_BOXES = np.array([[[0.1, 0.1, 0.6, 0.45], [0.3, 0.5, 0.9, 0.95]]], np.float32)


def _groundtruth():
    return {fields.groundtruth_boxes: tf.constant(GT_BOXES),
            fields.groundtruth_classes: tf.constant([[1, 2]]),
            fields.num_groundtruth_boxes: tf.constant([2])}


def _image():
    image = np.full((1, 96, 128, 3), -0.5, np.float32)
    for (ymin, xmin, ymax, xmax), value in zip(GT_BOXES[0], (0.8, 0.2)):
        image[0, int(ymin * 96):int(ymax * 96), int(xmin * 128):int(xmax * 128)] = value
    return tf.constant(image)


def test_maps_anchors_and_variable_names():
    with tf.Graph().as_default():
        detector = rfcn_detector.RfcnDetector(3, **THIN)
        predictions, end_points = detector.predict(_image(), is_training=True)
        names = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            shapes = session.run({key: tf.shape(predictions[key]) for key in
                                  ('objectness', 'box_codes', 'anchors', 'class_maps', 'box_maps')})
    # 96 x 128 at stride 16: 6 x 8 cells, 9 anchors each; 3 x 3 bins of 3 classes and of 4 codes.
    assert {key: list(value) for key, value in shapes.items()} == {
        'objectness': [432, 2], 'box_codes': [432, 4], 'anchors': [432, 4],
        'class_maps': [1, 6, 8, 27], 'box_maps': [1, 6, 8, 36]}
    assert end_points['PreAuxLogits'].shape.as_list()[1:3] == [6, 8]
    assert 'InceptionResnetV2/Mixed_6a/Branch_1/Conv2d_1a_3x3/BatchNorm/moving_mean' in names
    assert names['RFCN/rfcn_cls/weights'][-1] == 27 and names['RFCN/rfcn_bbox/weights'][-1] == 36
    assert names['RFCN/rpn_cls_score/weights'][-1] == 18 and names['RFCN/rpn_bbox_pred/weights'][-1] == 36


def test_losses_train_and_detections_come_out():
    tf.set_random_seed(0)
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        detector = rfcn_detector.RfcnDetector(3, **THIN)
        predictions, _ = detector.predict(_image(), is_training=True)
        losses = detector.loss(predictions, _groundtruth())
        total = tf.add_n(list(losses.values()))
        gradients = tf.gradients(total, tf.trainable_variables())
        assert all(gradient is not None for gradient in gradients)  # every layer learns
        train = tf.train.AdamOptimizer(3e-3).minimize(total)
        detections = detector.postprocess(predictions)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            first = session.run(losses)
            for _ in range(150):
                session.run(train)
            last = session.run(losses)
            output = session.run(detections)
    assert all(np.isfinite(value) for value in first.values())
    # OHEM's loss is that of the hardest RoIs: it falls slowest.
    for name, factor in (('rpn_objectness_loss', 0.5), ('rpn_box_loss', 0.5), ('rfcn_class_loss', 0.75)):
        assert last[name] < factor * first[name], (name, first[name], last[name])
    assert output['detection_boxes'].shape == (1, 100, 4)
    count = output['num_detections'][0]
    assert count > 0 and set(output['detection_classes'][0, :count]) <= {1, 2}
    boxes = output['detection_boxes'][0, :count]
    assert boxes.min() >= 0 and boxes.max() <= 1
    # After overfitting the image, the best detection of each class is near its box.
    for class_id, gt_box in ((1, GT_BOXES[0, 0]), (2, GT_BOXES[0, 1])):
        of_class = output['detection_classes'][0, :count] == class_id
        assert of_class.any()
        best = boxes[of_class][0]
        assert np.abs(best - gt_box).max() < 0.25


def test_an_image_without_objects_has_background_targets_only():
    with tf.Graph().as_default():
        detector = rfcn_detector.RfcnDetector(3, **THIN)
        predictions, _ = detector.predict(_image(), is_training=True)
        groundtruth = {fields.groundtruth_boxes: tf.zeros([1, 0, 4]),
                       fields.groundtruth_classes: tf.zeros([1, 0], tf.int32),
                       fields.num_groundtruth_boxes: tf.constant([0])}
        losses = detector.loss(predictions, groundtruth)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            values = session.run(losses)
    assert values['rpn_box_loss'] == 0 and values['rfcn_box_loss'] == 0
    assert values['rpn_objectness_loss'] > 0 and values['rfcn_class_loss'] > 0


@pytest.mark.parametrize('k', [3])
def test_k_sets_the_map_depths(k):
    with tf.Graph().as_default():
        detector = rfcn_detector.RfcnDetector(5, **dict(THIN, k=k))
        predictions, _ = detector.predict(_image(), is_training=False)
        assert predictions['class_maps'].shape.as_list()[-1] == k * k * 5


# The second image: other places, and the classes swapped (class 1 is now the dark box).
GT_BOXES_B = np.array([[[0.45, 0.05, 0.95, 0.5], [0.05, 0.55, 0.5, 0.9]]], np.float32)


def _image_array(gt_boxes, values):
    image = np.full((1, 96, 128, 3), -0.5, np.float32)
    for (ymin, xmin, ymax, xmax), value in zip(gt_boxes[0], values):
        image[0, int(ymin * 96):int(ymax * 96), int(xmin * 128):int(xmax * 128)] = value
    return image


def test_a_thin_rfcn_overfits_two_images_one_per_step():
    """The paper's one image per step, alternating between two images whose objects differ in place
    and look: afterwards each image's best detection of each class lies on its own box."""
    images = [_image_array(GT_BOXES, (0.8, 0.2)), _image_array(GT_BOXES_B, (0.2, 0.8))]
    boxes = [GT_BOXES, GT_BOXES_B]
    with tf.Graph().as_default():
        tf.set_random_seed(1)
        image = tf.placeholder(tf.float32, [1, 96, 128, 3])
        gt_boxes = tf.placeholder(tf.float32, [1, 2, 4])
        detector = rfcn_detector.RfcnDetector(3, **THIN)
        predictions, _ = detector.predict(image, is_training=True)
        losses = detector.loss(predictions, {fields.groundtruth_boxes: gt_boxes,
                                             fields.groundtruth_classes: tf.constant([[1, 2]]),
                                             fields.num_groundtruth_boxes: tf.constant([2])})
        train = tf.train.AdamOptimizer(3e-3).minimize(tf.add_n(list(losses.values())))
        detections = detector.postprocess(predictions)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            for step in range(300):
                session.run(train, {image: images[step % 2], gt_boxes: boxes[step % 2]})
            outputs = [session.run(detections, {image: images[i]}) for i in range(2)]
    for output, gt in zip(outputs, boxes):
        count = output['num_detections'][0]
        classes, found = output['detection_classes'][0, :count], output['detection_boxes'][0, :count]
        for class_id, gt_box in ((1, gt[0, 0]), (2, gt[0, 1])):
            assert (classes == class_id).any(), (class_id, classes)
            assert np.abs(found[classes == class_id][0] - gt_box).max() < 0.2, (class_id, gt_box)
