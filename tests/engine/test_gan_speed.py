"""engine/gan_speed.py: the peer's timings come from its program's JSON line; ratios are taken within
each round (peer seconds over ours), and a peer without torch is left out."""
import sys

import pytest

from tf1zoo.engine import gan_speed


def _peer_script(tmp_path, lines):
    """A stand-in for benchmark_dcgan_torch.py that prints the next of ``lines`` on each call."""
    counter = tmp_path / 'calls'
    counter.write_text('0')
    script = tmp_path / 'peer.py'
    script.write_text('import pathlib\n'
                      'counter = pathlib.Path(%r)\n'
                      'call = int(counter.read_text())\n'
                      'counter.write_text(str(call + 1))\n'
                      'print(%r[call])\n' % (str(counter), lines))
    return str(script)


def test_ratios_within_rounds_and_images_per_second(tmp_path, monkeypatch):
    ours = iter([2.0, 1.0, 4.0])
    monkeypatch.setattr(gan_speed, 'tf_training_seconds', lambda settings, depth: next(ours))
    peer = ['{"version": "torch 0", "threads": 2, "training_seconds": {"paper": %s, '
            '"pytorch_examples": 1.0}}' % seconds for seconds in ('3.0', '3.0', '4.0')]
    settings = gan_speed.GanSpeedSettings(batch_size=8, rounds=3, torch_python=sys.executable,
                                          torch_script=_peer_script(tmp_path, peer))
    result = gan_speed.measure(settings)
    assert result['seconds_per_step'] == {'tf_depth_1': 2.0, 'torch_paper': 3.0,
                                          'torch_pytorch_examples': 1.0}
    assert result['images_per_second']['tf_depth_1'] == 4.0
    # Per round, paper / ours: 1.5, 3.0, 1.0 -> median 1.5 (not 3.0 / 2.0 of the medians, also 1.5;
    # examples: 0.5, 1.0, 0.25 -> 0.5).
    assert result['ratios'] == {'torch_paper_over_tf': 1.5, 'torch_pytorch_examples_over_tf': 0.5}
    assert result['rounds'][0]['torch_version'] == 'torch 0'


def test_a_peer_without_torch_is_left_out(tmp_path, monkeypatch):
    monkeypatch.setattr(gan_speed, 'tf_training_seconds', lambda settings, depth: 1.0)
    settings = gan_speed.GanSpeedSettings(rounds=1, torch_python=sys.executable,
                                          torch_script=_peer_script(tmp_path, ['{"unavailable": "no"}']))
    result = gan_speed.measure(settings)
    assert result['seconds_per_step'] == {'tf_depth_1': 1.0} and result['ratios'] == {}


def test_our_step_is_timed_on_a_thin_net():
    settings = gan_speed.GanSpeedSettings(batch_size=2, image_size=16, warmup_iters=0, num_iters=1)
    assert gan_speed.tf_training_seconds(settings, 1 / 16) > 0


def test_a_failing_peer_is_reported_with_its_stderr(tmp_path):
    script = tmp_path / 'broken.py'
    script.write_text('raise SystemExit("peer broke")')
    settings = gan_speed.GanSpeedSettings(torch_python=sys.executable, torch_script=str(script))
    with pytest.raises(RuntimeError, match='peer broke'):
        gan_speed.torch_training_seconds(settings)
