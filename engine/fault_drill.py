"""A fault drill: a training run killed with SIGKILL again and again, restarted with the same command.

`run_drill` converts a small embedded dataset, then starts ``train_ssd.py`` (a thin SSD300) and kills
it ``num_kills`` times: at a random moment (in start-up or in training), or while a checkpoint is being
written (a ``*tempstate*`` file, or a step's ``.index`` without its ``.meta``, seen in the train dir
by polling every few milliseconds); kinds in turn: during a save every second kill, of the others
every fourth at start-up (a random moment from the start), the rest in training (a random moment
after the first step). After each kill it counts:

* whether the latest checkpoint (``tf.train.latest_checkpoint``) reads, every tensor of it;
* whether the next run restored exactly that checkpoint (its ``Restoring parameters from`` line);
* the steps lost: the last step the killed run's progress bar showed minus the step restored (a
  lower bound by at most the bar's refresh, 0.1 s of steps), against ``--save_checkpoint_steps``.

Then it lets the same command run to the end, checks the final step is ``max_steps`` (what an
uninterrupted run reaches) and that starting it once more changes nothing.
"""
import dataclasses
import glob
import os
import random
import re
import signal
import subprocess
import sys
import time
from typing import List, Optional

import tensorflow.compat.v1 as tf

from tf1zoo.datasets import synthetic_shapes
from tf1zoo.engine import checkpoint_info, tfrecord_conversion

_RESTORED = re.compile(r'Restoring parameters from (\S+)')
# What a chief started again in a live cluster logs instead of a restore (`train_loop`).
_CONTINUED = re.compile(r'The parameter servers hold the live model at global step (\d+)')
_PROGRESS = re.compile(r'(\d+)/(\d+) \[')
POLL_SECONDS = 0.002


@dataclasses.dataclass(frozen=True)
class DrillSettings:
    work_dir: str
    num_kills: int = 20
    max_steps: int = 400
    save_checkpoint_steps: int = 10
    depth_multiplier: float = 0.0625
    batch_size: int = 2
    # A 'training' kill falls up to max_delay seconds after the run's first step; a 'startup' one
    # min_delay to max_delay seconds after the start, mostly before any step (TF's import, the graph,
    # the restore).
    min_delay: float = 1.0
    max_delay: float = 20.0
    # Every this-many-th kill waits for a checkpoint being written; every startup_kill_every-th
    # (of the rest) is a startup kill.
    save_kill_every: int = 2
    startup_kill_every: int = 4
    save_wait_timeout: float = 120.0
    seed: int = 0


@dataclasses.dataclass
class Kill:
    index: int
    kind: str  # 'startup', 'training' or 'during_save'
    seconds_after_start: float
    hit_a_save: bool  # a save was in progress when the signal was sent
    step_shown: Optional[int]  # the killed run's last progress-bar step
    latest_after: Optional[int]  # the latest checkpoint's step after the kill
    latest_reads: bool
    restored_step: Optional[int] = None  # what the next run restored
    resumed_from_latest: Optional[bool] = None
    steps_lost: Optional[int] = None


def train_command(settings, records_dir, train_dir):
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'scripts',
                          'train_ssd.py')
    return [sys.executable, script, '--dataset_name=shapes', '--dataset_dir=' + records_dir,
            '--train_dir=' + train_dir, '--depth_multiplier=%s' % settings.depth_multiplier,
            '--batch_size=%d' % settings.batch_size, '--max_steps=%d' % settings.max_steps,
            '--save_checkpoint_steps=%d' % settings.save_checkpoint_steps,
            '--save_summaries_steps=1000', '--shuffle_buffer=8']


def make_records(work_dir):
    """The embedded shapes, a few images, converted (once) under ``work_dir``."""
    records_dir = os.path.join(work_dir, 'tfrecords')
    if not glob.glob(os.path.join(records_dir, 'shapes_trainval*.json')):
        synthetic_shapes.generate(os.path.join(work_dir, 'data'), num_train=16, num_val=4, num_test=1,
                                  seed=0, num_workers=1, show_progress=False)
        tfrecord_conversion.convert_named('shapes', 'trainval', records_dir,
                                          voc_dir=os.path.join(work_dir, 'data', 'VOCshapes'),
                                          num_shards=2, show_progress=False)
    return records_dir


def steps_shown(output):
    """The steps a run's progress bars showed, in order."""
    return [int(done) for done, _ in _PROGRESS.findall(output)]


def _saving(train_dir):
    """A checkpoint is being written: TF's temporaries, or a step's index without its meta graph."""
    if glob.glob(os.path.join(train_dir, '*tempstate*')) or glob.glob(
            os.path.join(train_dir, '*.meta.tmp*')):
        return True
    return any(not os.path.exists(index[:-len('.index')] + '.meta')
               for index in glob.glob(os.path.join(train_dir, 'model.ckpt-*.index')))


def latest_step(train_dir):
    latest = tf.train.latest_checkpoint(train_dir)
    return None if latest is None else checkpoint_info.checkpoint_step(latest)


def latest_checkpoint_reads(train_dir):
    """Every tensor of the latest checkpoint reads (True where there is none yet)."""
    latest = tf.train.latest_checkpoint(train_dir)
    if latest is None:
        return True
    try:
        reader = tf.train.load_checkpoint(latest)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except Exception:  # noqa: BLE001  (whatever the reader raises is a failed restore)
        return False
    return True


class Run:
    """One life of the training command, its stderr collected into a file."""

    def __init__(self, command, log_path):
        self.log_path = log_path
        self._log = open(log_path, 'w')
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.started = time.time()

    def output(self):
        with open(self.log_path, errors='replace') as stream:
            return stream.read()

    def restored_step(self):
        found = _RESTORED.findall(self.output())
        return checkpoint_info.checkpoint_step(found[-1]) if found else None

    def continued_step(self):
        """The global step a restarted chief found on the live parameter servers, or None."""
        found = _CONTINUED.findall(self.output())
        return int(found[-1]) if found else None

    def last_step_shown(self):
        found = steps_shown(self.output())
        return found[-1] if found else None

    def wait(self, timeout=None):
        code = self.process.wait(timeout)
        self._log.close()
        return code

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.wait()


def _kill_kind(index, settings):
    if (index + 1) % settings.save_kill_every == 0:
        return 'during_save'
    others = index - (index + 1) // settings.save_kill_every  # kills of the other kinds before it
    return 'startup' if (others + 1) % settings.startup_kill_every == 0 else 'training'


def _kill_one(run, kind, settings, rng, train_dir):
    """Kills ``run`` at start-up, in training or during a save; returns (seconds after start, hit a save)."""
    if kind == 'startup':
        deadline = run.started + rng.uniform(settings.min_delay, settings.max_delay)
        while time.time() < deadline and run.process.poll() is None:
            time.sleep(POLL_SECONDS)
    elif kind == 'training':
        deadline = run.started + settings.save_wait_timeout
        while run.last_step_shown() is None and time.time() < deadline and run.process.poll() is None:
            time.sleep(0.05)
        deadline = time.time() + rng.uniform(0.0, settings.max_delay)
        while time.time() < deadline and run.process.poll() is None:
            time.sleep(POLL_SECONDS)
    else:
        deadline = run.started + settings.save_wait_timeout
        # Past the start's own save (of the step restored), into training, then the next save.
        while run.last_step_shown() is None and time.time() < deadline and run.process.poll() is None:
            time.sleep(0.05)
        while not _saving(train_dir) and time.time() < deadline and run.process.poll() is None:
            time.sleep(POLL_SECONDS)
    hit_a_save = _saving(train_dir)
    seconds = time.time() - run.started
    if run.process.poll() is None:
        run.kill()
    else:
        run.wait()
    return seconds, hit_a_save


def run_drill(settings: DrillSettings, show_progress=True):
    """Runs the drill; returns {'settings', 'kills': [Kill dicts], 'counts', 'final'}."""
    rng = random.Random(settings.seed)
    records_dir = make_records(settings.work_dir)
    train_dir = os.path.join(settings.work_dir, 'train')
    logs = os.path.join(settings.work_dir, 'logs')
    os.makedirs(logs, exist_ok=True)
    command = train_command(settings, records_dir, train_dir)
    kills: List[Kill] = []
    run = Run(command, os.path.join(logs, 'run-00.log'))
    for index in range(settings.num_kills):
        kind = _kill_kind(index, settings)
        seconds, hit_a_save = _kill_one(run, kind, settings, rng, train_dir)
        kill = Kill(index, kind, round(seconds, 2), hit_a_save, run.last_step_shown(),
                    latest_step(train_dir), latest_checkpoint_reads(train_dir))
        run = Run(command, os.path.join(logs, 'run-%02d.log' % (index + 1)))
        _wait_for_restore(run)
        kill.restored_step = run.restored_step()
        kill.resumed_from_latest = kill.restored_step == kill.latest_after
        if kill.step_shown is not None and kill.restored_step is not None:
            kill.steps_lost = kill.step_shown - kill.restored_step
        kills.append(kill)
        if show_progress:
            print('kill %2d (%s%s, %.1f s): step shown %s, latest %s (reads: %s), restored %s, lost %s'
                  % (index + 1, kind, ', in a save' if hit_a_save else '', seconds, kill.step_shown,
                     kill.latest_after, kill.latest_reads, kill.restored_step, kill.steps_lost),
                  flush=True)
    final_code = run.wait()
    final_step = latest_step(train_dir)
    again = Run(command, os.path.join(logs, 'run-again.log'))
    again_code = again.wait()
    return {'settings': dataclasses.asdict(settings), 'kills': [dataclasses.asdict(k) for k in kills],
            'counts': count(kills, settings),
            'final': {'exit_status': final_code, 'final_step': final_step,
                      'equals_uninterrupted_max_steps': final_step == settings.max_steps,
                      'restart_exit_status': again_code,
                      'step_after_restarting_finished_run': latest_step(train_dir)}}


def _wait_for_restore(run, timeout=120.0):
    """Until the new run has restored (or started fresh, or died): its log says so."""
    deadline = time.time() + timeout
    while time.time() < deadline and run.process.poll() is None:
        output = run.output()
        if _RESTORED.search(output) or _PROGRESS.search(output):
            return
        time.sleep(0.05)


def count(kills: List[Kill], settings: DrillSettings):
    """The drill's counts (what the README quotes)."""
    lost = [kill.steps_lost for kill in kills if kill.steps_lost is not None]
    return {
        'kills': len(kills),
        'kills_during_a_save': sum(kill.hit_a_save for kill in kills),
        'resumed_from_latest': sum(bool(kill.resumed_from_latest) for kill in kills),
        'unreadable_latest_checkpoints': sum(not kill.latest_reads for kill in kills),
        'max_steps_lost': max(lost) if lost else None,
        'save_interval': settings.save_checkpoint_steps,
        'steps_lost_within_one_interval': all(value <= settings.save_checkpoint_steps
                                              for value in lost),
    }


def format_table(result):
    lines = ['kill  kind         s      in save  shown  latest  reads  restored  lost']
    for kill in result['kills']:
        lines.append('%4d  %-11s  %5.1f  %-7s  %5s  %6s  %-5s  %8s  %4s' % (
            kill['index'] + 1, kill['kind'], kill['seconds_after_start'], kill['hit_a_save'],
            kill['step_shown'], kill['latest_after'], kill['latest_reads'], kill['restored_step'],
            kill['steps_lost']))
    counts, final = result['counts'], result['final']
    lines.append('%(kills)d kills (%(kills_during_a_save)d during a save): %(resumed_from_latest)d '
                 'resumed from the latest checkpoint, %(unreadable_latest_checkpoints)d unreadable; '
                 'at most %(max_steps_lost)s steps lost (save interval %(save_interval)d)' % counts)
    lines.append('final step %(final_step)s (max_steps reached: %(equals_uninterrupted_max_steps)s); '
                 'started again: step %(step_after_restarting_finished_run)s, exit status '
                 '%(restart_exit_status)s' % final)
    return lines
