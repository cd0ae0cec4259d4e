"""The record the dataset readers produce, its `tf.train.Example` form, and sharded TFRecord writing.

A reader (``pascalvoc``, ``coco``) yields ``(ImageRecord, image_bytes)`` pairs; ``record_to_example``
turns one into a `tf.train.Example` keyed by ``standard_fields.TfExampleFields``, and
``decode_example`` turns a serialized example back into a tensor dict keyed by
``standard_fields.InputDataFields`` inside the TF graph.

Boxes are normalised ``[ymin, xmin, ymax, xmax]`` float32 (see ``standard_fields``); class ids are
1-based. Shards are named ``<name>-00000-of-00004.tfrecord``; each is written under a temporary name
in the output directory and renamed only when every shard of the run has been written.
"""
import collections
import concurrent.futures
import contextlib
import dataclasses
import glob
import itertools
import os
import queue
import threading
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

import tensorflow.compat.v1 as tf
import tqdm

from tf1zoo.ops import atomic_io, tf_errors
from tf1zoo.ops.standard_fields import InputDataFields, TfExampleFields

_JPEG_MAGIC = b'\xff\xd8\xff'
_PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
# Items queued per writer thread: enough to keep the writers busy without holding many images in memory.
_QUEUE_DEPTH = 32
_POLL_SECONDS = 0.1


class DatasetError(ValueError):
    """A dataset file is missing or malformed; the message names the file and the problem."""

    def __init__(self, path, problem):
        super().__init__('%s: %s' % (path, problem))
        self.path = str(path)
        self.problem = problem


@dataclasses.dataclass(frozen=True)
class ObjectAnnotation:
    """One annotated object.

    ``box`` is normalised ``[ymin, xmin, ymax, xmax]``. ``source_box`` is the box as the annotation file
    gives it: VOC ``(xmin, ymin, xmax, ymax)`` 1-based inclusive pixels, COCO ``(x, y, w, h)`` 0-based
    continuous pixels.
    """

    name: str
    class_id: int
    box: Tuple[float, float, float, float]
    source_box: Tuple[float, float, float, float]
    difficult: bool = False
    truncated: bool = False
    is_crowd: bool = False


@dataclasses.dataclass(frozen=True)
class ImageRecord:
    """One image's annotation: its file name, an id unique in the dataset, its size and its objects."""

    filename: str
    source_id: str
    height: int
    width: int
    objects: Tuple[ObjectAnnotation, ...] = ()


@dataclasses.dataclass(frozen=True)
class SkippedFile:
    """A file a reader skipped (``skip_bad=True``) and why."""

    path: str
    reason: str


def format_skipped(skipped, limit=50):
    """One indented ``path: reason`` line per skipped file (the first ``limit``, then a count)."""
    lines = ['  %s: %s' % (item.path, item.reason) for item in skipped[:limit]]
    if len(skipped) > limit:
        lines.append('  ... and %d more' % (len(skipped) - limit))
    return '\n'.join(lines)


class ExampleStream:
    """An iterable of ``(ImageRecord, image_bytes)`` that loads examples in parallel, in key order.

    ``load_fn(key)`` loads one example and raises ``DatasetError`` when it is bad. With ``skip_bad``
    such examples are left out and listed in ``skipped``; otherwise the first error is raised.
    ``num_workers`` threads load ahead (OpenCV's decoder and file reads release the GIL).
    ``class_names`` are the names the records' 1-based class ids index.
    """

    def __init__(self, load_fn: Callable, keys: Sequence, skip_bad: bool = False,
                 num_workers: int = 1, class_names: Sequence[str] = ()):
        if num_workers < 1:
            raise ValueError('num_workers must be >= 1, got %d' % num_workers)
        self._load_fn = load_fn
        self._keys = list(keys)
        self._skip_bad = skip_bad
        self._num_workers = num_workers
        self.class_names = tuple(class_names)
        self.skipped: List[SkippedFile] = []

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        self.skipped = []
        for future in self._ordered_futures():
            try:
                yield future.result()
            except DatasetError as error:
                if not self._skip_bad:
                    raise
                self.skipped.append(SkippedFile(error.path, error.problem))

    def _ordered_futures(self):
        # A bounded window of pending loads keeps memory flat while the workers stay busy.
        window = collections.deque()
        with concurrent.futures.ThreadPoolExecutor(self._num_workers) as executor:
            for key in self._keys:
                window.append(executor.submit(self._load_fn, key))
                if len(window) > 2 * self._num_workers:
                    yield window.popleft()
            while window:
                yield window.popleft()


def image_format(image_bytes, path='<image bytes>'):
    """'jpeg' or 'png' from the file's magic number; anything else is a DatasetError."""
    if image_bytes.startswith(_JPEG_MAGIC):
        return 'jpeg'
    if image_bytes.startswith(_PNG_MAGIC):
        return 'png'
    raise DatasetError(path, 'not a JPEG or PNG file')


class _PipelineDecoder:
    """The input pipeline's own image decoder (`decode_rgb`) in a graph
    and session of its own, so that the converter refuses exactly the files training could not read
    (OpenCV's decoder tolerates JPEGs whose entropy-coded data is damaged; TensorFlow's does not).
    ``Session.run`` is thread-safe: the converter's loader threads share one instance."""

    def __init__(self):
        self._lock = threading.Lock()
        self._session = None

    def _build(self):
        graph = tf.Graph()
        with graph.as_default():
            self._encoded = tf.placeholder(tf.string, [])
            self._shape = tf.shape(decode_rgb(self._encoded))
        # One thread per decode, as many decodes at once as there are cores (the loader threads
        # call in parallel; one inter-op thread would serialise them).
        return tf.Session(graph=graph, config=tf.ConfigProto(intra_op_parallelism_threads=1))

    def decoded_size(self, image_bytes):
        """``(height, width)`` of the decoded image; raises tf.errors.OpError where it fails."""
        with self._lock:
            if self._session is None:
                self._session = self._build()
        height, width, _ = self._session.run(self._shape, {self._encoded: image_bytes})
        return int(height), int(width)


_PIPELINE_DECODER = _PipelineDecoder()


def read_decodable_image(path):
    """The bytes of a JPEG or PNG file and its decoded ``(height, width)``, after checking it with
    the input pipeline's decoder; a DatasetError naming the file otherwise."""
    try:
        with open(path, 'rb') as image_file:
            image_bytes = image_file.read()
    except OSError as error:
        raise DatasetError(path, 'cannot read image (%s)' % error.strerror) from error
    kind = image_format(image_bytes, path)
    try:
        return image_bytes, _PIPELINE_DECODER.decoded_size(image_bytes)
    except tf.errors.OpError as error:
        raise DatasetError(path, '%s does not decode with TensorFlow\'s decoder, which training '
                           'uses (corrupt or truncated file: %s)'
                           % (kind.upper(), tf_errors.kernel_message(error))) from None


def read_checked_image(path, height, width):
    """The bytes of an image file, after checking that it decodes to ``height`` x ``width``.

    Raises ``DatasetError`` naming the file when it is missing, is neither JPEG nor PNG, does not
    decode with the input pipeline's decoder, or has another size than its annotation says. The
    decoder ignores EXIF orientation, so the size compared is the one training will see.
    """
    image_bytes, (decoded_height, decoded_width) = read_decodable_image(path)
    if (decoded_height, decoded_width) != (height, width):
        raise DatasetError(path, 'image is %dx%d (width x height) but its annotation says %dx%d'
                           % (decoded_width, decoded_height, width, height))
    return image_bytes


def _bytes_feature(values):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=list(values)))


def _int64_feature(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))


def _float_feature(values):
    return tf.train.Feature(float_list=tf.train.FloatList(value=list(values)))


def record_to_example(record: ImageRecord, image_bytes: bytes) -> tf.train.Example:
    """The `tf.train.Example` of one image: encoded bytes, size, ids and per-object lists."""
    objects = record.objects
    features = {
        TfExampleFields.image_encoded: _bytes_feature([image_bytes]),
        TfExampleFields.image_format: _bytes_feature(
            [image_format(image_bytes, record.filename).encode()]),
        TfExampleFields.height: _int64_feature([record.height]),
        TfExampleFields.width: _int64_feature([record.width]),
        TfExampleFields.filename: _bytes_feature([record.filename.encode()]),
        TfExampleFields.source_id: _bytes_feature([record.source_id.encode()]),
        TfExampleFields.object_bbox_ymin: _float_feature([o.box[0] for o in objects]),
        TfExampleFields.object_bbox_xmin: _float_feature([o.box[1] for o in objects]),
        TfExampleFields.object_bbox_ymax: _float_feature([o.box[2] for o in objects]),
        TfExampleFields.object_bbox_xmax: _float_feature([o.box[3] for o in objects]),
        TfExampleFields.object_class_label: _int64_feature([o.class_id for o in objects]),
        TfExampleFields.object_class_text: _bytes_feature([o.name.encode() for o in objects]),
        TfExampleFields.object_difficult: _int64_feature([o.difficult for o in objects]),
        TfExampleFields.object_truncated: _int64_feature([o.truncated for o in objects]),
        TfExampleFields.object_is_crowd: _int64_feature([o.is_crowd for o in objects]),
    }
    return tf.train.Example(features=tf.train.Features(feature=features))


_OBJECT_FLAGS = (
    (TfExampleFields.object_difficult, InputDataFields.groundtruth_difficult),
    (TfExampleFields.object_truncated, InputDataFields.groundtruth_truncated),
    (TfExampleFields.object_is_crowd, InputDataFields.groundtruth_is_crowd),
)
_BOX_KEYS = (TfExampleFields.object_bbox_ymin, TfExampleFields.object_bbox_xmin,
             TfExampleFields.object_bbox_ymax, TfExampleFields.object_bbox_xmax)


def _feature_spec():
    spec = {
        TfExampleFields.image_encoded: tf.io.FixedLenFeature([], tf.string),
        TfExampleFields.filename: tf.io.FixedLenFeature([], tf.string, default_value=''),
        TfExampleFields.source_id: tf.io.FixedLenFeature([], tf.string, default_value=''),
        TfExampleFields.object_class_label: tf.io.VarLenFeature(tf.int64),
    }
    for key in _BOX_KEYS:
        spec[key] = tf.io.VarLenFeature(tf.float32)
    for key, _ in _OBJECT_FLAGS:
        spec[key] = tf.io.VarLenFeature(tf.int64)
    return spec


def _flag_tensor(values, num_boxes):
    """int64 [n] -> bool [num_boxes]; an absent flag list (other writers omit is_crowd) is all False."""
    return tf.cond(tf.equal(tf.size(values), 0),
                   lambda: tf.zeros([num_boxes], tf.bool),
                   lambda: tf.greater(values, 0))


def decode_rgb(encoded):
    """The input pipeline's image decoder: a JPEG or PNG string tensor -> uint8 ``[H, W, 3]`` RGB
    (the converter checks files with this same call, `read_decodable_image`)."""
    image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
    image.set_shape([None, None, 3])
    return image


def decode_example(serialized):
    """Parses one serialized `tf.train.Example` (a string scalar tensor) into a tensor dict.

    Returns ``InputDataFields`` keys: ``image`` uint8 ``[H, W, 3]`` RGB, ``original_image_shape``
    int32 ``[3]``, ``filename`` and ``source_id`` string scalars, ``groundtruth_boxes`` float32
    ``[N, 4]`` normalised ``[ymin, xmin, ymax, xmax]``, ``groundtruth_classes`` int32 ``[N]`` and the
    bool ``[N]`` flags ``groundtruth_difficult``, ``groundtruth_truncated``, ``groundtruth_is_crowd``.
    """
    parsed = tf.io.parse_single_example(serialized, _feature_spec())
    dense = {key: tf.sparse.to_dense(value) if isinstance(value, tf.SparseTensor) else value
             for key, value in parsed.items()}
    image = decode_rgb(dense[TfExampleFields.image_encoded])
    boxes = tf.stack([dense[key] for key in _BOX_KEYS], axis=1)
    num_boxes = tf.shape(boxes)[0]
    tensors = {
        InputDataFields.image: image,
        InputDataFields.original_image_shape: tf.shape(image, out_type=tf.int32),
        InputDataFields.filename: dense[TfExampleFields.filename],
        InputDataFields.source_id: dense[TfExampleFields.source_id],
        InputDataFields.groundtruth_boxes: boxes,
        InputDataFields.groundtruth_classes: tf.cast(dense[TfExampleFields.object_class_label],
                                                     tf.int32),
    }
    for example_key, field in _OBJECT_FLAGS:
        tensors[field] = _flag_tensor(dense[example_key], num_boxes)
    return tensors


# The errors of a tf.data pipeline that a damaged shard or image causes (the kernels' own words).
_INPUT_ERROR_MARKERS = ('DecodeImage', 'decode_image', 'jpeg::', 'Invalid PNG', 'corrupted record',
                        'truncated record', 'Could not parse example input', 'ParseSingleExample',
                        'ParseExample')


@contextlib.contextmanager
def damaged_records_named(files_fn: Callable[[], Sequence[str]]):
    """Turns a tf.data pipeline's bare ``DataLossError`` / ``InvalidArgumentError`` over the files
    ``files_fn()`` lists (called only then) into `find_damaged_record`'s DatasetError naming the
    shard and the record; other errors pass unchanged."""
    try:
        yield
    except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as error:
        damaged = find_damaged_record(files_fn(), error)
        if damaged is None:
            raise
        raise damaged from None


def find_damaged_record(files: Sequence[str], error=None) -> Optional[DatasetError]:
    """The first record of ``files`` that does not read, parse or decode, as a DatasetError naming
    the shard, the record's index and offset and its image; None when every record is sound or
    ``error`` (the pipeline's OpError) is not one a damaged input causes.

    Reads every record up to the damaged one: run it where an input pipeline has failed, not before.
    """
    if error is not None and not any(marker in (error.message or '')
                                     for marker in _INPUT_ERROR_MARKERS):
        return None
    for path in files:
        for damage in _damaged_records_of(path):
            return DatasetError(path, '%s; rebuild this shard (convert_to_tfrecord.py)'
                                % damage.description)
    return None


@dataclasses.dataclass(frozen=True)
class DamagedRecord:
    """A record of ``path`` that the input pipeline cannot use, and how many records it costs:
    1 for a record that reads but does not parse or decode; for one that does not read (a bad CRC,
    a cut) every record from it to the shard's end, since TFRecord readers stop at the first (counted
    by the records' length fields)."""

    path: str
    index: int
    offset: int
    problem: str
    ends_shard: bool
    records_lost: int = 1

    @property
    def description(self):
        what = 'record %d (at byte %d) ' % (self.index, self.offset)
        if self.ends_shard:
            return what + 'is damaged: %s' % self.problem
        return what + self.problem


def _damaged_records_of(path):
    """The `DamagedRecord`s of one shard, in order; a read error is the last one."""
    offset = 0
    iterator = tf.io.tf_record_iterator(path)
    for index in itertools.count():
        try:
            serialized = next(iterator)
        except StopIteration:
            return
        except tf.errors.OpError as read_error:
            yield DamagedRecord(path, index, offset, tf_errors.kernel_message(read_error),
                                ends_shard=True, records_lost=_records_from(path, offset))
            return
        problem = _record_problem(serialized)
        if problem:
            yield DamagedRecord(path, index, offset, problem, ends_shard=False)
        offset += len(serialized) + 16  # length, its CRC, the data, its CRC


def _records_from(path, offset):
    """The records from byte ``offset`` to the end of a TFRecord file, walked by their length fields
    (a partial last one counts). A damaged length field ends the walk early: then a lower bound."""
    size = os.path.getsize(path)
    count = 0
    with open(path, 'rb') as stream:
        while offset < size:
            stream.seek(offset)
            header = stream.read(8)
            count += 1
            if len(header) < 8:
                break
            offset += 16 + int.from_bytes(header, 'little')
    return count


def survey_damaged_records(files: Sequence[str], show_progress=False) -> List[DamagedRecord]:
    """Every record of ``files`` the input pipeline would fail on (reads, parses and decodes each
    record once: about one epoch's decoding). What ``--skip_corrupt_records`` reports it skips."""
    damaged = []
    for path in tqdm.tqdm(files, unit='shard', desc='checking records', disable=not show_progress):
        damaged.extend(_damaged_records_of(path))
    return damaged


def count_skipped(damaged: Sequence[DamagedRecord]) -> int:
    return sum(record.records_lost for record in damaged)


def format_damaged(damaged: Sequence[DamagedRecord]) -> str:
    """A report of the skipped records: how many, from which shards, and why."""
    if not damaged:
        return 'no damaged record'
    shards = sorted({record.path for record in damaged})
    lines = ['skipping %d damaged or unreadable records from %d shard(s):'
             % (count_skipped(damaged), len(shards))]
    for record in damaged:
        lost = ('this record' if not record.ends_shard else
                'records %d to the end (%d)' % (record.index, record.records_lost))
        lines.append('  %s: %s; skipped: %s' % (record.path, record.description, lost))
    return '\n'.join(lines)


def _record_problem(serialized):
    try:
        example = tf.train.Example.FromString(serialized)
    except Exception as error:  # noqa: BLE001  (protobuf's DecodeError, whatever its module)
        return 'is not a tf.train.Example (%s)' % error
    feature = example.features.feature
    filename = feature[TfExampleFields.filename].bytes_list.value[:1]
    name = filename[0].decode('utf-8', 'replace') if filename else '<no filename>'
    encoded = feature[TfExampleFields.image_encoded].bytes_list.value[:1]
    if not encoded:
        return '(image %s) holds no encoded image' % name
    try:
        _PIPELINE_DECODER.decoded_size(encoded[0])
    except tf.errors.OpError as decode_error:
        return '(image %s) does not decode: %s' % (name, tf_errors.kernel_message(decode_error))
    return None


def shard_filename(output_dir, name, shard_index, num_shards):
    """``<output_dir>/<name>-00003-of-00008.tfrecord``."""
    return os.path.join(output_dir, '%s-%05d-of-%05d.tfrecord' % (name, shard_index, num_shards))


def count_records(files: Iterable[str]) -> int:
    """The number of records in TFRecord files (reads them through)."""
    return sum(sum(1 for _ in tf.io.tf_record_iterator(path)) for path in files)


@dataclasses.dataclass(frozen=True)
class WriteResult:
    """What ``write_sharded_tfrecords`` wrote: the shard paths and how many examples each holds."""

    files: Tuple[str, ...]
    shard_sizes: Tuple[int, ...]

    @property
    def num_examples(self):
        return sum(self.shard_sizes)


class _ShardWriters:
    """One thread per group of shards; shard ``s`` belongs to thread ``s % num_workers``."""

    def __init__(self, temp_paths, num_workers, serialize_fn):
        self._serialize_fn = serialize_fn
        self._num_workers = min(num_workers, len(temp_paths))
        self._writers = [tf.io.TFRecordWriter(path) for path in temp_paths]
        self._queues = [queue.Queue(_QUEUE_DEPTH) for _ in range(self._num_workers)]
        self._failures = []
        self._threads = [threading.Thread(target=self._drain, args=(q,), daemon=True)
                         for q in self._queues]
        for thread in self._threads:
            thread.start()

    def _drain(self, jobs):
        while True:
            job = jobs.get()
            if job is None:
                return
            if self._failures:
                continue  # keep consuming so that the producer never blocks on a dead writer
            shard, record, image_bytes = job
            try:
                serialized = self._serialize_fn(record, image_bytes)
                self._writers[shard].write(serialized)
            except Exception as error:  # noqa: BLE001  (re-raised in the producer's thread)
                self._failures.append(error)

    def submit(self, shard, record, image_bytes):
        """Queues one example for its shard; raises a writer thread's error as soon as one occurs."""
        if self._failures:
            raise self._failures[0]
        jobs = self._queues[shard % self._num_workers]
        while True:
            try:
                jobs.put((shard, record, image_bytes), timeout=_POLL_SECONDS)
                return
            except queue.Full:
                if self._failures:
                    raise self._failures[0]

    def close(self, raise_errors=True):
        """Stops the threads, closes every file and raises a writer thread's error if there was one."""
        for jobs in self._queues:
            jobs.put(None)
        for thread in self._threads:
            thread.join()
        for writer in self._writers:
            writer.close()
        if raise_errors and self._failures:
            raise self._failures[0]


def _remove_stale_shards(output_dir, name, keep):
    """Removes shards of ``name`` left by an earlier run with another shard count.

    They would otherwise match ``<name>-*.tfrecord`` next to this run's shards.
    """
    pattern = os.path.join(glob.escape(output_dir), glob.escape(name) + '-?????-of-?????.tfrecord')
    for path in glob.glob(pattern):
        if path not in keep:
            os.remove(path)


def remove_stale_temp_files(output_dir, name):
    """Removes the hidden temporary shards of ``name`` that a killed run left (``.<shard>.*.tmp``,
    as large as the shards); returns their paths."""
    pattern = os.path.join(glob.escape(output_dir),
                           '.' + glob.escape(name) + '-?????-of-?????.tfrecord.*.tmp')
    stale = glob.glob(pattern)
    for path in stale:
        atomic_io.remove_quietly(path)
    return stale


def write_sharded_tfrecords(examples: Iterable, output_dir: str, name: str, num_shards: int,
                            num_workers: int = 1, total: Optional[int] = None,
                            show_progress: bool = True,
                            before_publish: Optional[Callable[[], None]] = None,
                            serialize_fn: Optional[Callable] = None) -> WriteResult:
    """Writes ``(ImageRecord, image_bytes)`` pairs to ``num_shards`` TFRecord files.

    Example ``i`` goes to shard ``i % num_shards`` (round robin, so shard sizes differ by at most
    one). ``num_workers`` threads serialize and write. Every shard is written to a temporary file in
    ``output_dir`` and renamed with ``os.replace`` only after all of them succeeded; on any error the
    temporary files are removed and the error is re-raised, so a failed run leaves no shard behind.
    A run that would write no example at all raises ``DatasetError``. ``before_publish`` is called
    once every temporary shard is written, before the first rename (the converter removes the
    split's JSON there, so that a run killed among the renames leaves no JSON vouching for a mix).
    Temporary shards of killed earlier runs are removed first. ``serialize_fn(record, image_bytes)``
    -> bytes makes each record (default: `record_to_example`'s detection example).
    """
    if num_shards < 1 or num_workers < 1:
        raise ValueError('num_shards and num_workers must be >= 1, got %d and %d'
                         % (num_shards, num_workers))
    os.makedirs(output_dir, exist_ok=True)
    remove_stale_temp_files(output_dir, name)
    finals = [shard_filename(output_dir, name, i, num_shards) for i in range(num_shards)]
    temps = [atomic_io.temp_path_beside(path) for path in finals]
    try:
        sizes = _write_all(examples, temps, num_workers, total, show_progress,
                           serialize_fn or _detection_example)
        if not sum(sizes):
            raise DatasetError(output_dir, 'no example to write for %r' % name)
    except BaseException:
        for path in temps:
            atomic_io.remove_quietly(path)
        raise
    if before_publish is not None:
        before_publish()
    for temp, final in zip(temps, finals):
        atomic_io.move_into_place(temp, final)
    _remove_stale_shards(output_dir, name, keep=set(finals))
    return WriteResult(files=tuple(finals), shard_sizes=tuple(sizes))


def _detection_example(record, image_bytes):
    return record_to_example(record, image_bytes).SerializeToString()


def _write_all(examples, temp_paths, num_workers, total, show_progress, serialize_fn):
    if total is None and hasattr(examples, '__len__'):
        total = len(examples)
    sizes = [0] * len(temp_paths)
    writers = _ShardWriters(temp_paths, num_workers, serialize_fn)
    try:
        progress = tqdm.tqdm(examples, total=total, unit='image', disable=not show_progress)
        for index, (record, image_bytes) in enumerate(progress):
            shard = index % len(temp_paths)
            writers.submit(shard, record, image_bytes)
            sizes[shard] += 1
    except BaseException:
        writers.close(raise_errors=False)  # the reader's error is the one to report
        raise
    writers.close()
    return sizes
