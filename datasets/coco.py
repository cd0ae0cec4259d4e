"""COCO instances reader: an ``instances_*.json`` and its image folder to records, through pycocotools.

COCO boxes are ``[x, y, w, h]`` in 0-based continuous pixels; the normalised box is
``[y / H, x / W, (y + h) / H, (x + w) / W]`` (``[ymin, xmin, ymax, xmax]`` as everywhere in the
repository). Category ids are sparse (1..90 for 80 classes in COCO 2017); they are mapped to contiguous
1-based class ids in the order of the sorted category ids (0 is background).
"""
import contextlib
import io
import json
import os

from pycocotools import coco as pycocotools_coco

from tf1zoo.datasets import tfrecord_io
from tf1zoo.datasets.tfrecord_io import DatasetError, ImageRecord, ObjectAnnotation

# The 80 COCO 2017 detection categories, in order of their category ids.
COCO_CLASSES = (
    'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat',
    'traffic light', 'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog',
    'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella',
    'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball', 'kite',
    'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
    'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
    'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant',
    'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone',
    'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors',
    'teddy bear', 'hair drier', 'toothbrush',
)

# COCO's float boxes can overshoot the image by rounding; beyond this many pixels a box is an error.
_EDGE_TOLERANCE_PIXELS = 1.0


def load_coco(json_path):
    """A pycocotools ``COCO`` index of an instances JSON; a file that does not load is a DatasetError."""
    try:
        # pycocotools reports its progress on stdout; the converter prints its own summary.
        with contextlib.redirect_stdout(io.StringIO()):
            return pycocotools_coco.COCO(json_path)
    except OSError as error:
        raise DatasetError(json_path, 'cannot read COCO JSON (%s)' % error.strerror) from error
    except json.JSONDecodeError as error:
        raise DatasetError(json_path, 'JSON does not parse (%s)' % error) from error
    except (AssertionError, KeyError, TypeError) as error:
        raise DatasetError(json_path, 'not a COCO instances file (%r)' % error) from error


def category_map(coco, class_names=None, json_path='<COCO JSON>'):
    """``({category_id: class_id}, class_names)`` of a COCO index.

    Without ``class_names``, contiguous 1-based class ids in the order of the sorted category ids and
    the categories' names. With them (a registered dataset's or a label map's), each category is
    mapped by its name to ``class_names.index(name) + 1``; a category outside them is a DatasetError.
    """
    category_ids = sorted(coco.getCatIds())
    names = tuple(category['name'] for category in coco.loadCats(category_ids))
    if class_names is None:
        return {cat_id: index + 1 for index, cat_id in enumerate(category_ids)}, names
    class_names = tuple(class_names)
    unknown = [name for name in names if name not in class_names]
    if unknown:
        raise DatasetError(json_path, 'categories %s are not among the classes %s'
                           % (unknown, list(class_names)))
    return ({cat_id: class_names.index(name) + 1 for cat_id, name in zip(category_ids, names)},
            class_names)


def _normalised_box(annotation, height, width, json_path):
    x, y, w, h = (float(v) for v in annotation['bbox'])
    what = 'annotation %s of image %s' % (annotation.get('id'), annotation['image_id'])
    tolerance = _EDGE_TOLERANCE_PIXELS
    if w < 0 or h < 0 or x < -tolerance or y < -tolerance \
            or x + w > width + tolerance or y + h > height + tolerance:
        raise DatasetError(json_path, '%s: bbox %s lies outside the %dx%d image or is inverted'
                           % (what, annotation['bbox'], width, height))

    def clip(value):
        return min(max(value, 0.0), 1.0)

    return (clip(y / height), clip(x / width), clip((y + h) / height), clip((x + w) / width))


def image_record(coco, image_id, category_to_class, class_names, json_path):
    """The ``ImageRecord`` of one COCO image (difficult and truncated are 0; is_crowd is kept)."""
    info = coco.imgs[image_id]
    height, width = int(info['height']), int(info['width'])
    objects = []
    for annotation in coco.loadAnns(coco.getAnnIds(imgIds=[image_id])):
        class_id = category_to_class.get(annotation['category_id'])
        if class_id is None:
            raise DatasetError(json_path, 'annotation %s: unknown category id %s'
                               % (annotation.get('id'), annotation['category_id']))
        objects.append(ObjectAnnotation(
            name=class_names[class_id - 1], class_id=class_id,
            box=_normalised_box(annotation, height, width, json_path),
            source_box=tuple(float(v) for v in annotation['bbox']),
            is_crowd=bool(annotation.get('iscrowd', 0))))
    return ImageRecord(filename=info['file_name'], source_id=str(image_id), height=height,
                       width=width, objects=tuple(objects))


def iterate_examples(json_path, image_dir, skip_bad=False, num_workers=1, class_names=None):
    """The ``(ImageRecord, image_bytes)`` pairs of every image in the JSON, by image id.

    ``class_names``, when given, number the classes (each category is mapped by its name, see
    `category_map`); otherwise the JSON's categories do, and the stream's ``class_names`` says how.
    A missing, corrupt or wrongly sized image or a bad box raises DatasetError naming the file, or
    with ``skip_bad`` is listed in the returned ExampleStream's ``skipped`` once iterated.
    """
    coco = load_coco(json_path)
    category_to_class, names = category_map(coco, class_names, json_path)

    def load(image_id):
        record = image_record(coco, image_id, category_to_class, names, json_path)
        image_path = os.path.join(image_dir, record.filename)
        return record, tfrecord_io.read_checked_image(image_path, record.height, record.width)

    return tfrecord_io.ExampleStream(load, sorted(coco.getImgIds()), skip_bad=skip_bad,
                                     num_workers=num_workers, class_names=names)
