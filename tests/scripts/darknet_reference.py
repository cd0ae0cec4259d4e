"""darknet's forward pass and YOLO v1 decoding restated in NumPy, from darknet's C (pjreddie/darknet):
an independent implementation to test the TF conversion against. It shares no code with the
repository: its own cfg reader, its own weights reader, darknet's CHW layout and im2col."""
import numpy as np


def read_cfg(path):
    sections = []
    with open(path) as stream:
        for line in stream:
            line = line.split('#')[0].strip()
            if not line:
                continue
            if line.startswith('['):
                sections.append((line[1:-1], {}))
            else:
                key, value = line.split('=', 1)
                sections[-1][1][key.strip()] = value.strip()
    return sections


def read_weights(path):
    with open(path, 'rb') as stream:
        major, minor, revision = np.frombuffer(stream.read(12), '<i4')
        seen_bytes = 8 if (major * 10 + minor) >= 2 and major < 1000 and minor < 1000 else 4
        stream.read(seen_bytes)
        return np.frombuffer(stream.read(), '<f4').astype(np.float64), bool(major > 1000 or minor > 1000)


def im2col(image, size, stride, pad):
    """src/im2col.c: rows (channel, kernel row, kernel column), columns the output positions."""
    channels, height, width = image.shape
    out_h = (height + 2 * pad - size) // stride + 1
    out_w = (width + 2 * pad - size) // stride + 1
    padded = np.pad(image, ((0, 0), (pad, pad), (pad, pad)))
    columns = np.empty((channels * size * size, out_h * out_w))
    row = 0
    for c in range(channels):
        for ki in range(size):
            for kj in range(size):
                patch = padded[c, ki:ki + stride * out_h:stride, kj:kj + stride * out_w:stride]
                columns[row] = patch.reshape(-1)
                row += 1
    return columns, out_h, out_w


def activate(x, name):
    if name == 'leaky':
        return np.where(x > 0, x, 0.1 * x)
    if name == 'linear':
        return x
    raise ValueError(name)


class _Reader:
    def __init__(self, values):
        self.values, self.cursor = values, 0

    def take(self, count):
        chunk = self.values[self.cursor:self.cursor + count]
        assert len(chunk) == count, 'weights file too short'
        self.cursor += count
        return chunk


def _normalize(x, reader, n):
    scales, mean, variance = reader.take(n), reader.take(n), reader.take(n)
    shape = (n,) + (1,) * (x.ndim - 1)
    x = (x - mean.reshape(shape)) / (np.sqrt(variance.reshape(shape)) + .000001)
    return x * scales.reshape(shape)


def forward(cfg_path, weights_path, image_chw):
    """The last layer's output of ``cfg_path`` with ``weights_path`` on a CHW float image in
    darknet's [0, 1]; also returns the [detection] section's options."""
    values, transposed = read_weights(weights_path)
    reader = _Reader(values)
    x = np.asarray(image_chw, np.float64)
    detection = None
    for name, options in read_cfg(cfg_path):
        if name == 'net':
            continue
        if name == 'convolutional':
            n, size = int(options['filters']), int(options['size'])
            stride = int(options.get('stride', 1))
            pad = size // 2 if int(options.get('pad', 0)) else int(options.get('padding', 0))
            batch_normalize = int(options.get('batch_normalize', 0))
            biases = reader.take(n)
            bn_reader = None
            if batch_normalize:
                bn_values = reader.take(3 * n)
                bn_reader = _Reader(bn_values)
            weights = reader.take(n * x.shape[0] * size * size).reshape(n, -1)
            columns, out_h, out_w = im2col(x, size, stride, pad)
            x = (weights @ columns).reshape(n, out_h, out_w)
            if batch_normalize:
                x = _normalize(x, bn_reader, n)
            x = activate(x + biases[:, None, None], options['activation'])
        elif name == 'maxpool':
            size, stride = int(options.get('size', 1)), int(options.get('stride', 1))
            padding = int(options.get('padding', size - 1))
            c, h, w = x.shape
            out_h, out_w = (h + padding - size) // stride + 1, (w + padding - size) // stride + 1
            offset = -(padding // 2)
            out = np.full((c, out_h, out_w), -np.inf)
            for i in range(out_h):
                for j in range(out_w):
                    for di in range(size):
                        for dj in range(size):
                            r, q = offset + i * stride + di, offset + j * stride + dj
                            if 0 <= r < h and 0 <= q < w:
                                out[:, i, j] = np.maximum(out[:, i, j], x[:, r, q])
            x = out
        elif name == 'local':
            n, size = int(options['filters']), int(options['size'])
            stride, pad = int(options.get('stride', 1)), int(options.get('pad', 0))
            columns, out_h, out_w = im2col(x, size, stride, pad)
            locations = out_h * out_w
            biases = reader.take(n * locations).reshape(n, locations)
            weights = reader.take(locations * n * columns.shape[0]).reshape(locations, n, -1)
            out = biases.copy()
            for j in range(locations):
                out[:, j] += weights[j] @ columns[:, j]
            x = activate(out.reshape(n, out_h, out_w), options['activation'])
        elif name == 'connected':
            outputs = int(options['output'])
            inputs = x.reshape(-1)
            biases = reader.take(outputs)
            weights = reader.take(outputs * inputs.size)
            weights = weights.reshape(inputs.size, outputs).T if transposed else \
                weights.reshape(outputs, inputs.size)
            x = activate(weights @ inputs + biases, options['activation'])
        elif name == 'avgpool':
            x = x.reshape(x.shape[0], -1).mean(axis=1)
        elif name == 'softmax':
            e = np.exp(x - x.max())
            x = e / e.sum()
        elif name == 'dropout':
            continue
        elif name == 'crop':
            x = x * 2 - 1
        elif name == 'detection':
            detection = options
        else:
            raise ValueError(name)
    assert reader.cursor == len(values), 'weights file too long'
    return x.reshape(-1), detection


def box_iou(a, b):
    """darknet's box_iou on (x, y, w, h) boxes."""
    def overlap(x1, w1, x2, w2):
        return min(x1 + w1 / 2, x2 + w2 / 2) - max(x1 - w1 / 2, x2 - w2 / 2)
    w, h = overlap(a[0], a[2], b[0], b[2]), overlap(a[1], a[3], b[1], b[3])
    inter = w * h if w > 0 and h > 0 else 0.0
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union


def detections(output, detection, thresh, nms):
    """get_detection_detections + do_nms_sort: [(class, score, (x, y, w, h))], normalised boxes."""
    side, num, classes = int(detection['side']), int(detection['num']), int(detection['classes'])
    sqrt = int(detection.get('sqrt', 0))
    cells = side * side
    boxes, probs = [], []
    for i in range(cells):
        row, col = divmod(i, side)
        for n in range(num):
            scale = output[cells * classes + i * num + n]
            b = output[cells * (classes + num) + (i * num + n) * 4:][:4]
            power = 2 if sqrt else 1
            boxes.append(((b[0] + col) / side, (b[1] + row) / side, b[2] ** power, b[3] ** power))
            prob = scale * output[i * classes:(i + 1) * classes]
            probs.append(np.where(prob > thresh, prob, 0.0))
    probs = np.array(probs)
    for k in range(classes):
        order = sorted(range(len(boxes)), key=lambda index: -probs[index, k])
        for a_rank, a in enumerate(order):
            if probs[a, k] == 0:
                continue
            for b in order[a_rank + 1:]:
                if box_iou(boxes[a], boxes[b]) > nms:
                    probs[b, k] = 0
    return [(k, probs[i, k], boxes[i]) for i in range(len(boxes)) for k in range(classes)
            if probs[i, k] > 0]


def darknet_resize(image_hwc, out_h, out_w):
    """resize_image (src/image.c) on an HWC float image, float32 arithmetic as in C."""
    image = np.asarray(image_hwc, np.float32)
    in_h, in_w = image.shape[:2]
    w_scale = np.float32(in_w - 1) / np.float32(out_w - 1)
    h_scale = np.float32(in_h - 1) / np.float32(out_h - 1)
    part = np.empty((in_h, out_w, image.shape[2]), np.float32)
    for c in range(out_w):
        if c == out_w - 1 or in_w == 1:
            part[:, c] = image[:, in_w - 1]
        else:
            sx = np.float32(c) * w_scale
            ix = int(sx)
            dx = np.float32(sx - ix)
            part[:, c] = (np.float32(1) - dx) * image[:, ix] + dx * image[:, ix + 1]
    resized = np.empty((out_h, out_w, image.shape[2]), np.float32)
    for r in range(out_h):
        sy = np.float32(r) * h_scale
        iy = int(sy)
        dy = np.float32(sy - iy)
        resized[r] = (np.float32(1) - dy) * part[iy]
        if r == out_h - 1 or in_h == 1:
            continue
        resized[r] += dy * part[iy + 1]
    return resized
