"""Matcher edge cases: no ground truth, no overlap, ties, thresholds, the ignore band."""
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from tf1zoo.ops import matcher

U, IGN = matcher.UNMATCHED, matcher.IGNORED


def _match(similarity, **kwargs):
    with tf.Graph().as_default(), tf.Session() as session:
        placeholder = tf.placeholder(tf.float32, [None, None])  # dynamic shapes, as in training
        match = matcher.Matcher(**kwargs).match(placeholder)
        return session.run(match.match_results, {placeholder: np.asarray(similarity, np.float32)
                                                 .reshape(-1, np.shape(similarity)[-1])})


def test_no_ground_truth_leaves_every_anchor_unmatched():
    np.testing.assert_array_equal(_match(np.zeros((0, 5))), [U] * 5)


def test_no_overlap_matches_nothing():
    np.testing.assert_array_equal(_match(np.zeros((2, 4))), [U] * 4)


def test_bipartite_gives_every_ground_truth_its_best_anchor_below_threshold():
    similarity = [[0.3, 0.1, 0.0],
                  [0.2, 0.25, 0.05]]
    # gt 0 takes anchor 0 (0.3, the global max); gt 1 then takes anchor 1 (0.25). No IoU >= 0.5.
    np.testing.assert_array_equal(_match(similarity), [0, 1, U])


def test_bipartite_then_per_anchor_threshold():
    similarity = [[0.9, 0.6, 0.4, 0.0],
                  [0.8, 0.7, 0.1, 0.5]]
    # Bipartite: (anchor 0, gt 0) at 0.9, then gt 1's best free anchor is 1 (0.7).
    # Per anchor: anchor 2's best is 0.4 < 0.5 (unmatched); anchor 3 has 0.5 >= 0.5 with gt 1.
    np.testing.assert_array_equal(_match(similarity), [0, 1, U, 1])
    np.testing.assert_array_equal(_match(similarity, matched_threshold=None), [0, 1, U, U])


def test_ties_go_to_the_lowest_index():
    # Both ground truths prefer anchor 1 equally: gt 0 wins it, gt 1 takes the next best (anchor 0).
    similarity = [[0.2, 0.6, 0.6],
                  [0.3, 0.6, 0.1]]
    np.testing.assert_array_equal(_match(similarity, matched_threshold=0.7), [1, 0, U])
    # Per anchor: anchor 2's tie between gts at 0.6 goes to gt 0.
    np.testing.assert_array_equal(_match([[0.9, 0.6, 0.6], [0.1, 0.6, 0.6]],
                                         matched_threshold=0.5, bipartite=False), [0, 0, 0])


def test_ignore_band_like_rpn():
    similarity = [[0.8, 0.5, 0.35, 0.2]]
    results = _match(similarity, matched_threshold=0.7, unmatched_threshold=0.3)
    np.testing.assert_array_equal(results, [0, IGN, IGN, U])


def test_gather_based_on_match():
    with tf.Graph().as_default(), tf.Session() as session:
        match = matcher.Match(tf.constant([1, U, IGN, 0]))
        gathered, indicators = session.run((
            match.gather_based_on_match(tf.constant([10, 20]), -1, -2),
            (match.matched_column_indices(), match.unmatched_column_indices(),
             match.ignored_column_indices(), match.num_matched_columns())))
    np.testing.assert_array_equal(gathered, [20, -1, -2, 10])
    assert [list(x) for x in indicators[:3]] == [[0, 3], [1], [2]] and indicators[3] == 2


def test_inconsistent_thresholds_are_errors():
    with pytest.raises(ValueError):
        matcher.Matcher(matched_threshold=0.3, unmatched_threshold=0.7)
    with pytest.raises(ValueError):
        matcher.Matcher(matched_threshold=None, bipartite=False)
