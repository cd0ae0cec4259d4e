"""The cluster drill's counts, on hand-made kills (the drill itself runs for minutes: a benchmark)."""
from tf1zoo.engine import cluster_drill


def _kill(index, task, at, after, rejoined=True, **chief):
    return cluster_drill.ClusterKill(index, task, at, after, rejoined=rejoined,
                                     rejoin_seconds=18.0 + index if rejoined else None,
                                     step_after_rejoin=after + 3, **chief)


def test_counts_separate_worker_outages_from_the_chief_restores():
    settings = cluster_drill.ClusterDrillSettings(work_dir='unused', save_checkpoint_steps=10)
    kills = [_kill(0, 'worker 1', 20, 21), _kill(1, 'worker 1', 42, 42),
             _kill(2, 'worker 0', 54, 54, latest_after=50, latest_reads=True, restored_step=50,
                   resumed_from_latest=True, steps_lost=4),
             _kill(3, 'worker 1', 60, 60, rejoined=False)]
    counts = cluster_drill.count(kills, settings)
    assert (counts['worker_kills'], counts['chief_kills'], counts['rejoined']) == (3, 1, 3)
    assert counts['steps_while_worker_down'] == [1, 0, 0]
    assert counts['max_rejoin_seconds'] == 20.0
    assert counts['chief_resumed'] == 1 and counts['chief_steps_lost'] == [4]
    assert counts['chief_continued_from_live_model'] == 0
    assert counts['global_step_went_back_after_a_worker_kill'] == 0
    assert counts['mode'] == 'sync'


def test_a_global_step_that_went_back_is_counted():
    settings = cluster_drill.ClusterDrillSettings(work_dir='unused', sync_replicas=False)
    kill = _kill(0, 'worker 1', 30, 35)
    kill.step_after_rejoin = 25
    counts = cluster_drill.count([kill], settings)
    assert counts['global_step_went_back_after_a_worker_kill'] == 1 and counts['mode'] == 'async'
