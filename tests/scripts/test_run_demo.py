"""run_demo.py end to end on a tiny budget: every step's output exists and a rerun resumes."""
import json
import os

from tf1zoo.engine import cli
from tf1zoo.scripts import run_demo


def test_demo_writes_summary_metrics_and_pictures_then_skips_done_steps(tmp_path):
    values = cli.parse(run_demo.define_flags, work_dir=str(tmp_path), num_train=3,
                       num_val=1, num_test=2, max_steps=2, batch_size=2,
                       num_detection_images=1)
    summary = run_demo.run(values)
    with open(tmp_path / 'demo_summary.json') as saved:
        assert json.load(saved) == summary
    assert 0.0 <= summary['voc07_mAP'] <= 1.0 and summary['max_steps'] == 2
    # The schedule is recorded as it ran: the defaults' boundaries, the given image count.
    assert summary['lr_boundaries'] == [690, 720] and summary['num_train_images'] == 3
    assert os.path.exists(tmp_path / 'eval' / 'comp4_det_test_star.txt')
    with open(tmp_path / 'detections' / 'detections.json') as detections:
        assert len(json.load(detections)) == 1
    assert len([name for name in os.listdir(tmp_path / 'detections') if name.endswith('.png')]) == 1
    again = run_demo.run(values)
    # Generation, conversion and training were done: the rerun only evaluates and detects.
    assert again['voc07_mAP'] == summary['voc07_mAP']
    assert again['seconds']['train'] < summary['seconds']['train']
