"""Names of every TFRecord feature and every tensor-dict key, in one place.

Box convention for the whole repository (stated once, here and in
``ops/box_list_ops.py``): a box is ``[ymin, xmin, ymax, xmax]``, float32,
normalised to [0, 1] by the image height and width; per image boxes are
``[num_boxes, 4]``, batched they are ``[batch, num_boxes, 4]``. Conversions to
pixel, VOC 1-based, COCO ``[x, y, w, h]`` or Caffe forms happen only at the edges
(dataset readers and writers, Caffe conversion, results files).
"""


class TfExampleFields:
    """`tf.train.Example` keys, as the TF Object Detection API writes them."""

    image_encoded = 'image/encoded'
    image_format = 'image/format'
    filename = 'image/filename'
    source_id = 'image/source_id'
    height = 'image/height'
    width = 'image/width'
    object_bbox_ymin = 'image/object/bbox/ymin'
    object_bbox_xmin = 'image/object/bbox/xmin'
    object_bbox_ymax = 'image/object/bbox/ymax'
    object_bbox_xmax = 'image/object/bbox/xmax'
    object_class_label = 'image/object/class/label'
    object_class_text = 'image/object/class/text'
    object_difficult = 'image/object/difficult'
    object_truncated = 'image/object/truncated'
    object_is_crowd = 'image/object/is_crowd'


class InputDataFields:
    """Keys of the tensor dicts that flow from decoding through augmentation to batching.

    Shapes are per image (batching adds a leading ``batch`` dimension and pads the
    per-object fields to the largest ``num_boxes`` in the batch):

    * ``image``: uint8 ``[height, width, 3]`` RGB after decoding; float32
      ``[out_height, out_width, 3]`` after preprocessing (channel order and mean per
      the preprocessing's convention).
    * ``original_image_shape``: int32 ``[3]``, the decoded image's shape.
    * ``filename``, ``source_id``: string scalars.
    * ``groundtruth_boxes``: float32 ``[num_boxes, 4]``, normalised ``[ymin, xmin, ymax, xmax]``.
    * ``groundtruth_classes``: int32 ``[num_boxes]``, 1-based class ids (0 is background).
    * ``groundtruth_difficult``, ``groundtruth_truncated``, ``groundtruth_is_crowd``:
      bool ``[num_boxes]``.
    * ``num_groundtruth_boxes``: int32 scalar, the number of real (unpadded) boxes.
    """

    image = 'image'
    original_image_shape = 'original_image_shape'
    filename = 'filename'
    source_id = 'source_id'
    groundtruth_boxes = 'groundtruth_boxes'
    groundtruth_classes = 'groundtruth_classes'
    groundtruth_difficult = 'groundtruth_difficult'
    groundtruth_truncated = 'groundtruth_truncated'
    groundtruth_is_crowd = 'groundtruth_is_crowd'
    num_groundtruth_boxes = 'num_groundtruth_boxes'


# Per-object fields: augmentation that drops or reorders boxes must gather all of these together.
PER_OBJECT_FIELDS = (
    InputDataFields.groundtruth_boxes,
    InputDataFields.groundtruth_classes,
    InputDataFields.groundtruth_difficult,
    InputDataFields.groundtruth_truncated,
    InputDataFields.groundtruth_is_crowd,
)
