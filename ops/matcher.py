"""Matching ground truth to anchors: Caffe MultiBox's bipartite + per-prediction matcher.

Inputs are similarity matrices ``[num_gt, num_anchors]`` (rows: ground-truth boxes, columns:
anchors; usually `box_list_ops.iou`); ``num_gt`` may be 0 at run time. A match result is int32
``[num_anchors]``: a value >= 0 is the row (ground-truth index) the anchor matched,
``UNMATCHED`` (-1) marks background and ``IGNORED`` (-2) an anchor excluded from the losses.

`Matcher` follows MatchBBox in weiliu89/caffe (branch ssd, src/caffe/util/bbox_util.cpp):

1. Bipartite: repeatedly take the largest similarity left in the matrix, restricted to free
   anchors and unmatched ground truth, and match that pair; stop when no pair with similarity
   above 1e-6 is left (Caffe only records overlaps > 1e-6). Each ground truth gets at most one
   anchor this way, whatever its similarity, so every box that overlaps some anchor is learned.
2. Per prediction: every anchor still free takes its most similar ground truth if that
   similarity is >= ``matched_threshold`` (Caffe's ``overlap >= overlap_threshold``).
3. Ignore band (RPN, Faster R-CNN's 0.3 / 0.7): an anchor still free whose best similarity is in
   ``[unmatched_threshold, matched_threshold)`` is marked IGNORED.

Ties are broken deterministically, as Caffe's scan does: in step 1 the lowest anchor index wins,
then the lowest ground-truth index; in step 2 the lowest ground-truth index wins.
"""
from tf1zoo.ops import compat  # noqa: F401, I001  (TF 2.21 graph-mode set-up; must precede TF)
import tensorflow.compat.v1 as tf

UNMATCHED = -1
IGNORED = -2

# MatchBBox keeps only overlaps above this ("if (overlap > 1e-6)"), in both steps.
MIN_SIMILARITY = 1e-6


class Match:
    """Wraps an int32 ``[num_anchors]`` match result (columns are anchors)."""

    def __init__(self, match_results):
        match_results = tf.convert_to_tensor(match_results, dtype=tf.int32)
        if match_results.shape.rank not in (None, 1):
            raise ValueError('match_results must have rank 1, got shape %s' % match_results.shape)
        self._match_results = match_results

    @property
    def match_results(self):
        """int32 ``[num_anchors]``: gt index, UNMATCHED (-1) or IGNORED (-2)."""
        return self._match_results

    def matched_column_indicator(self):
        """bool ``[num_anchors]``: anchors matched to a ground truth (positives)."""
        return tf.greater_equal(self._match_results, 0)

    def unmatched_column_indicator(self):
        """bool ``[num_anchors]``: background anchors."""
        return tf.equal(self._match_results, UNMATCHED)

    def ignored_column_indicator(self):
        """bool ``[num_anchors]``: ignored anchors."""
        return tf.equal(self._match_results, IGNORED)

    def matched_column_indices(self):
        """int32 ``[num_matched]``: indices of the matched anchors, ascending."""
        return _indices_where(self.matched_column_indicator())

    def unmatched_column_indices(self):
        """int32 ``[num_unmatched]``: indices of the background anchors, ascending."""
        return _indices_where(self.unmatched_column_indicator())

    def ignored_column_indices(self):
        """int32 ``[num_ignored]``: indices of the ignored anchors, ascending."""
        return _indices_where(self.ignored_column_indicator())

    def num_matched_columns(self):
        """int32 scalar: the number of matched anchors."""
        return tf.reduce_sum(tf.cast(self.matched_column_indicator(), tf.int32))

    def gather_based_on_match(self, input_tensor, unmatched_value, ignored_value):
        """Per anchor: the matched row of ``input_tensor``, or a fill value.

        Args:
          input_tensor: ``[num_gt, ...]`` per-ground-truth values (num_gt may be 0).
          unmatched_value: value of shape ``input_tensor.shape[1:]`` for UNMATCHED anchors.
          ignored_value: value of the same shape for IGNORED anchors.

        Returns:
          ``[num_anchors, ...]`` with the dtype of ``input_tensor``.
        """
        input_tensor = tf.convert_to_tensor(input_tensor)
        fills = tf.stack([tf.cast(ignored_value, input_tensor.dtype),
                          tf.cast(unmatched_value, input_tensor.dtype)], axis=0)
        # Row 0 is IGNORED (-2), row 1 UNMATCHED (-1), row 2 + k ground truth k.
        table = tf.concat([fills, input_tensor], axis=0)
        return tf.gather(table, self._match_results + 2)


def _indices_where(indicator):
    return tf.cast(tf.reshape(tf.where(indicator), [-1]), tf.int32)


def _first_argmax(values, axis):
    """argmax along ``axis`` with ties going to the lowest index (tf.argmax does not promise it)."""
    size = tf.shape(values)[axis]
    positions = tf.range(size)
    positions = positions[:, None] if axis == 0 else positions[None, :]
    is_max = tf.equal(values, tf.reduce_max(values, axis=axis, keepdims=True))
    return tf.reduce_min(tf.where(is_max, tf.broadcast_to(positions, tf.shape(values)),
                                  tf.fill(tf.shape(values), size)), axis=axis)


class Matcher:
    """Caffe MultiBox matcher: bipartite, then per-anchor threshold, then an optional ignore band.

    Args:
      matched_threshold: similarity from which a free anchor matches its best ground truth
        (``>=``); None for bipartite matching only (Caffe's BIPARTITE match type).
      unmatched_threshold: lower edge of the ignore band ``[unmatched, matched)``; None (or equal
        to matched_threshold) for no ignore band.
      bipartite: run step 1 (SSD, RefineDet, RPN); False for thresholds only (R-FCN's second
        stage).

    Raises:
      ValueError: for inconsistent thresholds.
    """

    def __init__(self, matched_threshold=0.5, unmatched_threshold=None, bipartite=True):
        if matched_threshold is None and (unmatched_threshold is not None or not bipartite):
            raise ValueError('Without matched_threshold, use bipartite matching alone.')
        if unmatched_threshold is None:
            unmatched_threshold = matched_threshold
        if matched_threshold is not None and unmatched_threshold > matched_threshold:
            raise ValueError('unmatched_threshold %r exceeds matched_threshold %r'
                             % (unmatched_threshold, matched_threshold))
        self._matched_threshold = matched_threshold
        self._unmatched_threshold = unmatched_threshold
        self._bipartite = bipartite

    def match(self, similarity, scope=None):
        """Matches ``[num_gt, num_anchors]`` float32 similarities -> `Match` over the anchors."""
        with tf.name_scope(scope, 'Match', [similarity]):
            similarity = tf.convert_to_tensor(similarity, dtype=tf.float32)
            if similarity.shape.rank not in (None, 2):
                raise ValueError('similarity must be [num_gt, num_anchors], got shape %s'
                                 % similarity.shape)
            num_anchors = tf.shape(similarity)[1]
            unmatched = tf.fill([num_anchors], UNMATCHED)
            results = tf.cond(tf.shape(similarity)[0] > 0,
                              lambda: self._match_when_gt_exist(similarity),
                              lambda: unmatched)
            results.set_shape(similarity.shape[1:2])
            return Match(results)

    def _match_when_gt_exist(self, similarity):
        num_anchors = tf.shape(similarity)[1]
        matches = tf.fill([num_anchors], UNMATCHED)
        if self._bipartite:
            matches = _greedy_bipartite_match(similarity)
        if self._matched_threshold is None:
            return matches
        best_gt = _first_argmax(similarity, axis=0)
        best_similarity = tf.reduce_max(similarity, axis=0)
        free = tf.equal(matches, UNMATCHED)
        passes = best_similarity > MIN_SIMILARITY
        matches = tf.where(free & passes & (best_similarity >= self._matched_threshold),
                           best_gt, matches)
        in_band = (best_similarity >= self._unmatched_threshold) & tf.equal(matches, UNMATCHED)
        return tf.where(in_band, tf.fill([num_anchors], IGNORED), matches)


def _greedy_bipartite_match(similarity):
    """Caffe's bipartite loop on ``[num_gt, num_anchors]`` -> int32 ``[num_anchors]`` matches."""
    num_gt, num_anchors = tf.unstack(tf.shape(similarity))
    # Anchor-major layout: the flat index then follows Caffe's scan (anchor outer, gt inner), so
    # the smallest flat index among the maxima is the pair Caffe picks.
    by_anchor = tf.transpose(similarity)
    scan_order = tf.reshape(tf.range(num_anchors * num_gt), [num_anchors, num_gt])
    no_pair = num_anchors * num_gt

    def step(iteration, matches, gt_taken):
        available = (tf.equal(matches, UNMATCHED)[:, None] & tf.logical_not(gt_taken)[None, :]
                     & (by_anchor > MIN_SIMILARITY))
        masked = tf.where(available, by_anchor, tf.fill(tf.shape(by_anchor), -1.0))
        is_best = available & tf.equal(masked, tf.reduce_max(masked))
        pair = tf.reduce_min(tf.where(is_best, scan_order, tf.fill(tf.shape(scan_order), no_pair)))
        found = pair < no_pair
        anchor, gt = pair // tf.maximum(num_gt, 1), pair % tf.maximum(num_gt, 1)
        matches = tf.where(found & tf.equal(tf.range(num_anchors), anchor),
                           tf.fill([num_anchors], gt), matches)
        gt_taken = gt_taken | (found & tf.equal(tf.range(num_gt), gt))
        return iteration + 1, matches, gt_taken

    _, matches, _ = tf.while_loop(
        lambda iteration, *_: iteration < num_gt, step,
        [tf.constant(0), tf.fill([num_anchors], UNMATCHED), tf.zeros([num_gt], tf.bool)],
        back_prop=False)
    return matches
