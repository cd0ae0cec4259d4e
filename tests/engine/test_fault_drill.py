"""The fault drill on a small scale: two SIGKILLs (one at a random moment in training, one while a
checkpoint is written) of a real train_ssd.py, each run resumed from the latest checkpoint,
nothing unreadable,
the run finished at max_steps and unchanged when started again."""
from tf1zoo.engine import fault_drill


def test_two_kills_resume_from_the_latest_checkpoint_and_the_run_finishes(tmp_path):
    settings = fault_drill.DrillSettings(work_dir=str(tmp_path), num_kills=2, max_steps=30,
                                         save_checkpoint_steps=5, batch_size=1, max_delay=1.0,
                                         save_kill_every=2)
    result = fault_drill.run_drill(settings, show_progress=False)
    counts, final = result['counts'], result['final']
    kills = result['kills']
    assert [kill['kind'] for kill in kills] == ['training', 'during_save']
    assert counts['resumed_from_latest'] == 2 and counts['unreadable_latest_checkpoints'] == 0
    assert kills[1]['hit_a_save'] and kills[1]['latest_after'] is not None
    assert counts['steps_lost_within_one_interval'], kills
    assert final == {'exit_status': 0, 'final_step': 30, 'equals_uninterrupted_max_steps': True,
                     'restart_exit_status': 0, 'step_after_restarting_finished_run': 30}
