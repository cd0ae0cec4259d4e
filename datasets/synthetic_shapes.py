"""The embedded default dataset: procedurally drawn shapes as a real Pascal VOC folder plus COCO JSON.

``generate(output_dir, num_train, num_val, num_test, seed)`` writes::

    <output_dir>/VOCshapes/JPEGImages/<id>.jpg
    <output_dir>/VOCshapes/Annotations/<id>.xml           (devkit XML, 1-based inclusive pixel boxes)
    <output_dir>/VOCshapes/ImageSets/Main/{train,val,trainval,test}.txt
    <output_dir>/VOCshapes/ImageSets/Main/<class>_<split>.txt   (" 1" present, " 0" only difficult, "-1")
    <output_dir>/annotations/instances_{train,val,trainval,test}.json   (COCO, the same boxes)

Each image (width and height drawn independently from ``image_size_range``) has a procedural
background and 1 to 6 objects of the six ``CLASS_NAMES``, stretched, rotated, in random colours;
objects may overlap and be cut by the image border. Light blur and noise are added last.

``distractors`` sets how hard the images are:

* False (the default, the demo's): smooth backgrounds (gradients, value noise) and solid objects;
* True: also stripes, checkerboards and blurred disks as backgrounds (square- and circle-like
  patterns that are not objects), clutter strokes, and outlined or textured objects.

Annotation rules (chosen to match VOC's meaning):

* The box is the tight box of the object's drawn pixels inside the image: pixels whose antialiased
  coverage is at least half (``COVERAGE_THRESHOLD``). A later object may occlude an earlier one; the
  earlier box stays the extent of the object as it was drawn (as a VOC annotator boxes an occluded
  object's visible-plus-inferred extent), so occlusion never shrinks a box.
* ``truncated`` = 1 when the image border cuts off part of the object's drawn pixels.
* ``difficult`` = 1 when the object is hard to recognise: its box is under ``DIFFICULT_MIN_SIDE``
  pixels on a side, or later objects hide more than ``DIFFICULT_OCCLUDED_FRACTION`` of it.

Everything is deterministic by ``seed``: image ``index`` of split ``split`` draws from
``numpy.random.default_rng([seed, split_code, index])``, so the files are byte-identical whatever the
number of workers.
"""
import concurrent.futures
import dataclasses
import json
import os
import xml.etree.ElementTree as ElementTree
from typing import List, Tuple

import cv2
import numpy as np
from tqdm import tqdm

from tf1zoo.ops import atomic_io

CLASS_NAMES = ('circle', 'square', 'triangle', 'star', 'hexagon', 'cross')
VOC_FOLDER = 'VOCshapes'
SPLITS = ('train', 'val', 'test')
_SPLIT_CODES = {'train': 1, 'val': 2, 'test': 3}

# Antialiased coverage (0..255) from which a pixel belongs to an object.
COVERAGE_THRESHOLD = 128
DIFFICULT_MIN_SIDE = 12
DIFFICULT_OCCLUDED_FRACTION = 0.6
# Object size (the shape's diameter before stretching) as a fraction of the image's shorter side,
# drawn log-uniformly so that small, medium and large objects are all common.
OBJECT_SCALE_RANGE = (0.08, 0.7)
MAX_OBJECTS = 6
TRUNCATION_PROBABILITY = 0.15
# A truncated object keeps at least this fraction of its pixels inside the image.
MIN_VISIBLE_AFTER_TRUNCATION = 0.4
# Placements overlapping an earlier box more than this are redrawn (a few tries), so occlusion is common
# but total occlusion is rare.
MAX_PLACEMENT_IOU = 0.45
JPEG_QUALITY = 90
_SUBPIXEL_BITS = 4  # OpenCV's fixed-point shift for sub-pixel vertices


@dataclasses.dataclass(frozen=True)
class ShapeObject:
    """One drawn object: class, 1-based inclusive pixel box (xmin, ymin, xmax, ymax) and flags."""

    name: str
    box: Tuple[int, int, int, int]
    truncated: bool
    difficult: bool


@dataclasses.dataclass(frozen=True)
class ShapeImage:
    image_id: str
    width: int
    height: int
    objects: Tuple[ShapeObject, ...]


# ----------------------------------------------------------------------------------------------------
# Geometry


def box_from_mask(mask, threshold=COVERAGE_THRESHOLD):
    """The tight 1-based inclusive pixel box ``(xmin, ymin, xmax, ymax)`` of ``mask >= threshold``.

    0-based pixel ``i`` covers ``[i, i + 1)``, i.e. 1-based pixel ``i + 1``. Returns None for an empty
    mask.
    """
    rows = np.flatnonzero((mask >= threshold).any(axis=1))
    cols = np.flatnonzero((mask >= threshold).any(axis=0))
    if rows.size == 0:
        return None
    return int(cols[0]) + 1, int(rows[0]) + 1, int(cols[-1]) + 1, int(rows[-1]) + 1


def _regular_polygon(num_vertices, phase=0.0):
    angles = phase + 2 * np.pi * np.arange(num_vertices) / num_vertices
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _star(num_points=5, inner_ratio=0.45):
    outer = _regular_polygon(num_points, -np.pi / 2)
    inner = inner_ratio * _regular_polygon(num_points, -np.pi / 2 + np.pi / num_points)
    return np.stack([outer, inner], axis=1).reshape(-1, 2)


def _cross(arm_half_width=0.33):
    a = arm_half_width
    return np.array([[-a, -1], [a, -1], [a, -a], [1, -a], [1, a], [a, a], [a, 1], [-a, 1], [-a, a],
                     [-1, a], [-1, -a], [-a, -a]], dtype=np.float64)


# Unit outlines in [-1, 1]^2 (x right, y down); the circle is drawn as an ellipse instead.
_OUTLINES = {
    'square': np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64),
    'triangle': _regular_polygon(3, -np.pi / 2),
    'star': _star(),
    'hexagon': _regular_polygon(6),
    'cross': _cross(),
}


@dataclasses.dataclass(frozen=True)
class _Placement:
    name: str
    center: Tuple[float, float]   # x, y in pixels of the image
    radii: Tuple[float, float]    # half extents along the shape's own x and y before rotation
    angle: float                  # degrees
    style: str                    # 'solid', 'outline' or 'textured'
    thickness: int


def _draw_coverage(placement, canvas_shape, offset):
    """uint8 antialiased coverage of the shape on a canvas whose (0, 0) is image pixel -offset."""
    canvas = np.zeros(canvas_shape, np.uint8)
    cx, cy = placement.center[0] + offset, placement.center[1] + offset
    scale = 1 << _SUBPIXEL_BITS
    filled = placement.style != 'outline'
    thickness = -1 if filled else placement.thickness
    if placement.name == 'circle':
        cv2.ellipse(canvas, (int(round(cx * scale)), int(round(cy * scale))),
                    (int(round(placement.radii[0] * scale)), int(round(placement.radii[1] * scale))),
                    placement.angle, 0, 360, 255, thickness, cv2.LINE_AA, _SUBPIXEL_BITS)
        return canvas
    theta = np.deg2rad(placement.angle)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    points = (_OUTLINES[placement.name] * np.array(placement.radii)) @ rotation.T + [cx, cy]
    points = np.round(points * scale).astype(np.int32)[None]
    if filled:
        cv2.fillPoly(canvas, points, 255, cv2.LINE_AA, _SUBPIXEL_BITS)
    else:
        cv2.polylines(canvas, points, True, 255, placement.thickness, cv2.LINE_AA, _SUBPIXEL_BITS)
    return canvas


def _box_iou(box_a, box_b):
    ix = min(box_a[2], box_b[2]) - max(box_a[0], box_b[0]) + 1
    iy = min(box_a[3], box_b[3]) - max(box_a[1], box_b[1]) + 1
    if ix <= 0 or iy <= 0:
        return 0.0
    area = lambda b: (b[2] - b[0] + 1) * (b[3] - b[1] + 1)  # noqa: E731
    inter = ix * iy
    return inter / float(area(box_a) + area(box_b) - inter)


# ----------------------------------------------------------------------------------------------------
# Backgrounds


def _random_color(rng):
    return rng.integers(0, 256, size=3).astype(np.float32)


def _blend(mask01, color_a, color_b):
    return mask01[..., None] * color_a + (1.0 - mask01[..., None]) * color_b


def _rotated_coordinates(rng, height, width):
    theta = rng.uniform(0, np.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return xs * np.cos(theta) + ys * np.sin(theta)


def _gradient(rng, height, width):
    u = _rotated_coordinates(rng, height, width)
    u = (u - u.min()) / max(float(u.max() - u.min()), 1.0)
    return _blend(u, _random_color(rng), _random_color(rng))


def _value_noise(rng, height, width):
    cells = int(rng.integers(3, 12))
    coarse = rng.random((cells, cells)).astype(np.float32)
    smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    return _blend(np.clip(smooth, 0, 1), _random_color(rng), _random_color(rng))


def _stripes(rng, height, width):
    u = _rotated_coordinates(rng, height, width)
    period = rng.uniform(8, 60)
    wave = 0.5 + 0.5 * np.sin(2 * np.pi * u / period)
    return _blend(wave, _random_color(rng), _random_color(rng))


def _checkerboard(rng, height, width):
    size = int(rng.integers(10, 60))
    ys, xs = np.mgrid[0:height, 0:width]
    board = (((xs // size) + (ys // size)) % 2).astype(np.float32)
    return _blend(board, _random_color(rng), _random_color(rng))


def _blobs(rng, height, width):
    image = np.empty((height, width, 3), np.float32)
    image[:] = _random_color(rng)
    for _ in range(int(rng.integers(4, 14))):
        center = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        radius = int(rng.integers(10, max(11, min(height, width) // 3)))
        cv2.circle(image, center, radius, _random_color(rng).tolist(), -1, cv2.LINE_AA)
    return cv2.GaussianBlur(image, (0, 0), rng.uniform(4, 12))


_BACKGROUNDS = (_gradient, _value_noise, _stripes, _checkerboard, _blobs)


def _clutter(rng, image):
    """Thin strokes that belong to no class, so that edges alone do not mean 'object'."""
    height, width = image.shape[:2]
    for _ in range(int(rng.integers(0, 4))):
        start = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        end = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.line(image, start, end, _random_color(rng).tolist(), int(rng.integers(1, 4)), cv2.LINE_AA)


_SMOOTH_BACKGROUNDS = (_gradient, _value_noise)


def background(rng, height, width, distractors=False):
    """A float32 ``[height, width, 3]`` RGB texture in [0, 255]; smooth unless ``distractors``."""
    choices = _BACKGROUNDS if distractors else _SMOOTH_BACKGROUNDS
    image = choices[int(rng.integers(len(choices)))](rng, height, width)
    if distractors:
        _clutter(rng, image)
    return image


# ----------------------------------------------------------------------------------------------------
# Objects


def _random_placement(rng, width, height, distractors=False):
    name = CLASS_NAMES[int(rng.integers(len(CLASS_NAMES)))]
    shorter = min(width, height)
    low, high = np.log(OBJECT_SCALE_RANGE[0]), np.log(OBJECT_SCALE_RANGE[1])
    radius = 0.5 * shorter * float(np.exp(rng.uniform(low, high)))
    stretch = float(np.exp(rng.uniform(np.log(0.65), np.log(1.55))))
    radii = (radius * np.sqrt(stretch), radius / np.sqrt(stretch))
    if rng.random() < TRUNCATION_PROBABILITY:
        margin = -0.6 * min(radii)
    else:
        margin = max(radii)
    cx = rng.uniform(min(margin, width / 2), max(width - margin, width / 2))
    cy = rng.uniform(min(margin, height / 2), max(height - margin, height / 2))
    style = rng.choice(['solid', 'outline', 'textured'], p=[0.7, 0.12, 0.18]) if distractors else 'solid'
    thickness = int(rng.integers(2, max(3, int(radius / 5))))
    return _Placement(name, (float(cx), float(cy)), (float(radii[0]), float(radii[1])),
                      float(rng.uniform(0, 360)), str(style), thickness)


def _object_colors(rng, image, coverage):
    """A fill colour with contrast against the background under the object (and a texture colour)."""
    under = image[coverage >= COVERAGE_THRESHOLD].mean(axis=0)
    color = _random_color(rng)
    for _ in range(8):
        if np.linalg.norm(color - under) >= 90:
            break
        color = _random_color(rng)
    else:
        color = 255.0 - under
    return color, _random_color(rng)


def _paint(rng, image, coverage, placement):
    color, second = _object_colors(rng, image, coverage)
    height, width = image.shape[:2]
    if placement.style == 'textured':
        u = _rotated_coordinates(rng, height, width)
        pattern = (np.sin(2 * np.pi * u / rng.uniform(4, 14)) > 0).astype(np.float32)
        layer = _blend(0.35 + 0.65 * pattern, color, 0.5 * (color + second))
    else:
        layer = np.broadcast_to(color, image.shape)
    # Only the object's extent changes (alpha is 0 elsewhere): blending there alone gives the same
    # pixels, several times faster for small objects.
    rows = np.flatnonzero(coverage.any(axis=1))
    cols = np.flatnonzero(coverage.any(axis=0))
    if rows.size == 0:
        return
    extent = np.s_[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    alpha = coverage[extent].astype(np.float32)[..., None] / 255.0
    image[extent] *= 1.0 - alpha
    image[extent] += alpha * layer[extent]


def _place_object(rng, width, height, boxes, distractors=False):
    """A placement, its in-image coverage, box and truncation; None when no try fits."""
    pad = int(np.ceil(max(width, height)))
    canvas_shape = (height + 2 * pad, width + 2 * pad)
    for _ in range(10):
        placement = _random_placement(rng, width, height, distractors)
        full = _draw_coverage(placement, canvas_shape, pad)
        coverage = full[pad:pad + height, pad:pad + width]
        inside = int((coverage >= COVERAGE_THRESHOLD).sum())
        total = int((full >= COVERAGE_THRESHOLD).sum())
        if total == 0 or inside < MIN_VISIBLE_AFTER_TRUNCATION * total:
            continue
        box = box_from_mask(coverage)
        if any(_box_iou(box, other) > MAX_PLACEMENT_IOU for other in boxes):
            continue
        return placement, np.ascontiguousarray(coverage), box, inside < total
    return None


def render_image(rng, width, height, distractors=False):
    """Draws one image: (uint8 RGB ``[height, width, 3]``, tuple of ShapeObject)."""
    image = background(rng, height, width, distractors)
    drawn: List[tuple] = []
    for _ in range(int(rng.integers(1, MAX_OBJECTS + 1))):
        placed = _place_object(rng, width, height, [item[2] for item in drawn], distractors)
        if placed is None:
            continue
        placement, coverage, box, truncated = placed
        _paint(rng, image, coverage, placement)
        drawn.append((placement, coverage >= COVERAGE_THRESHOLD, box, truncated))
    objects = []
    hidden = np.zeros((height, width), bool)
    for placement, visible, box, truncated in reversed(drawn):
        occluded = float((visible & hidden).sum()) / max(int(visible.sum()), 1)
        small = min(box[2] - box[0] + 1, box[3] - box[1] + 1) < DIFFICULT_MIN_SIDE
        difficult = small or occluded > DIFFICULT_OCCLUDED_FRACTION
        objects.append(ShapeObject(placement.name, box, truncated, difficult))
        hidden |= visible
    objects.reverse()
    if rng.random() < 0.5:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.4, 1.0))
    image += rng.normal(0.0, rng.uniform(2.0, 7.0), size=image.shape).astype(np.float32)
    return np.clip(np.round(image), 0, 255).astype(np.uint8), tuple(objects)


# ----------------------------------------------------------------------------------------------------
# Files


def annotation_xml(image: ShapeImage) -> bytes:
    """The devkit XML of one image."""
    root = ElementTree.Element('annotation')

    def child(parent, tag, text=None):
        element = ElementTree.SubElement(parent, tag)
        if text is not None:
            element.text = str(text)
        return element

    child(root, 'folder', VOC_FOLDER)
    child(root, 'filename', image.image_id + '.jpg')
    source = child(root, 'source')
    child(source, 'database', 'The tf1-detection-zoo synthetic shapes database')
    child(source, 'annotation', 'synthetic_shapes.py')
    size = child(root, 'size')
    child(size, 'width', image.width)
    child(size, 'height', image.height)
    child(size, 'depth', 3)
    child(root, 'segmented', 0)
    for obj in image.objects:
        element = child(root, 'object')
        child(element, 'name', obj.name)
        child(element, 'pose', 'Unspecified')
        child(element, 'truncated', int(obj.truncated))
        child(element, 'difficult', int(obj.difficult))
        bndbox = child(element, 'bndbox')
        for tag, value in zip(('xmin', 'ymin', 'xmax', 'ymax'), obj.box):
            child(bndbox, tag, value)
    ElementTree.indent(root, space='\t')
    return ElementTree.tostring(root, encoding='utf-8') + b'\n'


def image_id(index):
    return 'shapes_%06d' % index


def _make_image(args):
    """Worker: draws, encodes and writes one image and its XML; returns its ShapeImage."""
    voc_dir, seed, split, index, global_index, size_range, distractors = args
    rng = np.random.default_rng([seed, _SPLIT_CODES[split], index])
    width = int(rng.integers(size_range[0], size_range[1] + 1))
    height = int(rng.integers(size_range[0], size_range[1] + 1))
    pixels, objects = render_image(rng, width, height, distractors)
    record = ShapeImage(image_id(global_index), width, height, objects)
    ok, jpeg = cv2.imencode('.jpg', cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError('OpenCV could not encode %s' % record.image_id)
    # Not fsynced one by one: thousands of small files, all regenerated from the seed at will.
    atomic_io.write_file_atomically(os.path.join(voc_dir, 'JPEGImages', record.image_id + '.jpg'),
                                    jpeg.tobytes(), durable=False)
    atomic_io.write_file_atomically(os.path.join(voc_dir, 'Annotations', record.image_id + '.xml'),
                                    annotation_xml(record), durable=False)
    return record


def _write_lines(path, lines):
    atomic_io.write_file_atomically(path, ''.join(line + '\n' for line in lines).encode('utf-8'))


def _write_image_sets(voc_dir, split, images):
    main = os.path.join(voc_dir, 'ImageSets', 'Main')
    _write_lines(os.path.join(main, split + '.txt'), [image.image_id for image in images])
    for name in CLASS_NAMES:
        lines = []
        for image in images:
            flags = [obj.difficult for obj in image.objects if obj.name == name]
            label = -1 if not flags else (0 if all(flags) else 1)
            lines.append('%s %2d' % (image.image_id, label))  # the devkit's format
        _write_lines(os.path.join(main, '%s_%s.txt' % (name, split)), lines)


def coco_json(images) -> dict:
    """COCO instances of the images: category ids 1..6; bbox ``[x, y, w, h]`` of the same pixel box."""
    coco = {'info': {'description': 'tf1-detection-zoo synthetic shapes'}, 'licenses': [],
            'categories': [{'id': i + 1, 'name': name, 'supercategory': 'shape'}
                           for i, name in enumerate(CLASS_NAMES)],
            'images': [], 'annotations': []}
    for image in images:
        numeric_id = int(image.image_id.rsplit('_', 1)[1])
        coco['images'].append({'id': numeric_id, 'file_name': image.image_id + '.jpg',
                               'width': image.width, 'height': image.height})
        for obj in image.objects:
            xmin, ymin, xmax, ymax = obj.box
            w, h = xmax - xmin + 1, ymax - ymin + 1
            coco['annotations'].append({
                'id': len(coco['annotations']) + 1, 'image_id': numeric_id,
                'category_id': CLASS_NAMES.index(obj.name) + 1,
                'bbox': [float(xmin - 1), float(ymin - 1), float(w), float(h)],
                'area': float(w * h), 'iscrowd': 0})
    return coco


def generate(output_dir, num_train=600, num_val=100, num_test=200, seed=0,
             image_size_range=(240, 400), num_workers=None, show_progress=True, distractors=False):
    """Writes the dataset under ``output_dir`` (see the module docstring); returns a summary dict."""
    counts = {'train': num_train, 'val': num_val, 'test': num_test}
    if min(counts.values()) < 1:
        raise ValueError('every split needs at least one image, got %s' % counts)
    voc_dir = os.path.join(output_dir, VOC_FOLDER)
    for sub in ('JPEGImages', 'Annotations', os.path.join('ImageSets', 'Main')):
        os.makedirs(os.path.join(voc_dir, sub), exist_ok=True)
    os.makedirs(os.path.join(output_dir, 'annotations'), exist_ok=True)
    jobs, offset = [], 0
    for split in SPLITS:
        jobs += [(voc_dir, seed, split, i, offset + i, tuple(image_size_range), distractors)
                 for i in range(counts[split])]
        offset += counts[split]
    num_workers = num_workers or os.cpu_count() or 1
    with concurrent.futures.ProcessPoolExecutor(num_workers) as executor:
        results = list(tqdm(executor.map(_make_image, jobs, chunksize=8), total=len(jobs),
                            desc='shapes', disable=not show_progress))
    by_split, start = {}, 0
    for split in SPLITS:
        by_split[split] = results[start:start + counts[split]]
        start += counts[split]
    by_split['trainval'] = by_split['train'] + by_split['val']
    for split, images in by_split.items():
        _write_image_sets(voc_dir, split, images)
        path = os.path.join(output_dir, 'annotations', 'instances_%s.json' % split)
        atomic_io.write_file_atomically(path, json.dumps(coco_json(images), indent=1).encode('utf-8'))
    objects = [obj for image in results for obj in image.objects]
    return {'voc_dir': voc_dir, 'images': {split: len(images) for split, images in by_split.items()},
            'objects': len(objects), 'difficult': sum(obj.difficult for obj in objects),
            'truncated': sum(obj.truncated for obj in objects)}


# ----------------------------------------------------------------------------------------------------
# One centred shape per image: DCGAN's embedded data

CENTRED_SPLITS = ('train', 'test')
_CENTRED_SPLIT_CODES = {'train': 10, 'test': 11}
# The shape's half extent as a fraction of the image side, and how far its centre may move.
CENTRED_RADIUS_RANGE = (0.28, 0.42)
CENTRED_JITTER = 0.06


def render_centred_shape(rng, image_size, class_index):
    """uint8 RGB ``[image_size, image_size, 3]``: a linear two-colour gradient in a random direction
    and one solid shape of ``CLASS_NAMES[class_index]`` near the centre, in a random colour, stretch
    and rotation. The gradient, not the detection data's value noise: a generator that a CPU trains
    in minutes spends its capacity on the shape, not on texture nobody evaluates."""
    image = _gradient(rng, image_size, image_size)
    radius = image_size * float(rng.uniform(*CENTRED_RADIUS_RANGE))
    stretch = float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))
    center = image_size / 2 + rng.uniform(-CENTRED_JITTER, CENTRED_JITTER, 2) * image_size
    placement = _Placement(CLASS_NAMES[class_index], (float(center[0]), float(center[1])),
                           (radius * np.sqrt(stretch), radius / np.sqrt(stretch)),
                           float(rng.uniform(0, 360)), 'solid', 1)
    _paint(rng, image, _draw_coverage(placement, (image_size, image_size), 0), placement)
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def generate_centred(output_dir, num_train=3000, num_test=600, image_size=64, seed=0,
                     show_progress=True):
    """Writes ``<output_dir>/{train,test}/<class>/<split>_<index>.png`` (classes in turn, so each
    split is balanced); returns the number of images per split. The class is kept as the folder
    name, for evaluation only (DCGAN trains on the images alone)."""
    counts = {'train': num_train, 'test': num_test}
    for split in CENTRED_SPLITS:
        for name in CLASS_NAMES:
            os.makedirs(os.path.join(output_dir, split, name), exist_ok=True)
        for index in tqdm(range(counts[split]), desc=split, unit='image', disable=not show_progress):
            class_index = index % len(CLASS_NAMES)
            rng = np.random.default_rng([seed, _CENTRED_SPLIT_CODES[split], index])
            pixels = render_centred_shape(rng, image_size, class_index)
            ok, png = cv2.imencode('.png', cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
            if not ok:
                raise RuntimeError('OpenCV could not encode image %d of %s' % (index, split))
            path = os.path.join(output_dir, split, CLASS_NAMES[class_index],
                                '%s_%06d.png' % (split, index))
            atomic_io.write_file_atomically(path, png.tobytes(), durable=False)
    return counts
