"""The fault drill for a loopback cluster: workers of a running cluster killed with SIGKILL.

`run_cluster_drill` starts one parameter server and two workers (separate ``train_ssd.py`` processes
on 127.0.0.1, a thin SSD300 on the embedded shapes, synchronous or asynchronous updates) and, while
they train, kills a worker ``num_kills`` times, each time at a random moment after that worker's
life has trained a step: the non-chief worker (``worker 1``) most times, the chief (``worker 0``)
every ``chief_kill_every``-th time. The killed task stays down ``outage_seconds``, then is started
again with the same command. Per kill it counts:

* the global step when the signal was sent and after the outage (what the surviving worker's
  progress bar shows): a synchronous cluster waits for the missing replica (at most the update in
  flight completes), an asynchronous one goes on;
* whether the restarted worker rejoined (its progress bar moved past the step it started at) and
  after how many seconds;
* for the chief: the latest checkpoint (only the chief writes them) and whether it reads; where the
  restarted chief went on from: the live model on the parameter servers (which kept running: its
  ``hold the live model at global step`` line, `train_loop`) or, where they lost it, the latest
  checkpoint (its ``Restoring parameters from`` line); and the global steps lost (the largest step
  shown before the restart minus the step it went on from).

A restarted task that does not train again within ``rejoin_timeout`` ends the kills (the cluster is
stuck; the counts say so). Then it lets the cluster run to the end and checks that every task exits
0, the parameter server by itself, and that the last checkpoint's step is ``max_steps``.
"""
import dataclasses
import os
import random
import socket
import subprocess
import time
from typing import Dict, List, Optional

from tf1zoo.engine import fault_drill

WORKER, CHIEF = 'worker 1', 'worker 0'


@dataclasses.dataclass(frozen=True)
class ClusterDrillSettings:
    work_dir: str
    num_kills: int = 6
    chief_kill_every: int = 3  # every this-many-th kill is of the chief; the rest of worker 1
    sync_replicas: bool = True
    max_steps: int = 300
    save_checkpoint_steps: int = 10
    depth_multiplier: float = 0.0625
    batch_size: int = 1
    outage_seconds: float = 10.0
    max_delay: float = 15.0  # a kill falls up to this long after the killed life's first step
    rejoin_timeout: float = 240.0
    finish_timeout: float = 600.0
    seed: int = 0


@dataclasses.dataclass
class ClusterKill:
    index: int
    task: str  # 'worker 0' (the chief) or 'worker 1'
    step_at_kill: Optional[int]  # the global step shown by the cluster's workers when killed
    step_after_outage: Optional[int]  # ... and after outage_seconds without the killed task
    rejoined: bool = False  # the restarted task trained (its bar moved past its first step)
    rejoin_seconds: Optional[float] = None  # from its restart to its first step
    step_after_rejoin: Optional[int] = None
    # The chief's kills only:
    latest_after: Optional[int] = None
    latest_reads: Optional[bool] = None
    restored_step: Optional[int] = None  # the checkpoint it restored (None: it restored none)
    continued_step: Optional[int] = None  # the live global step it went on from (None: none)
    # It went on from the live model or, without one, from the latest checkpoint.
    resumed_from_latest: Optional[bool] = None
    steps_lost: Optional[int] = None

    @property
    def went_on_from(self):
        """The chief's step after its restart: the live model's, else the checkpoint's it restored."""
        return self.continued_step if self.continued_step is not None else self.restored_step


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(('127.0.0.1', 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def _task_commands(settings, records_dir, train_dir):
    """{'ps 0' | 'worker 0' | 'worker 1': the task's train_ssd.py command}."""
    ps_port, *worker_ports = _free_ports(3)
    command = fault_drill.train_command(settings, records_dir, train_dir) + [
        '--ps_hosts=127.0.0.1:%d' % ps_port,
        '--worker_hosts=' + ','.join('127.0.0.1:%d' % port for port in worker_ports)]
    if settings.sync_replicas:
        command.append('--sync_replicas')
    return {'%s %d' % (job, index): command + ['--job_name=' + job, '--task_index=%d' % index]
            for job, index in (('ps', 0), ('worker', 0), ('worker', 1))}


class _Cluster:
    """The three tasks, each life's output in ``logs/<task>-<life>.log``."""

    def __init__(self, commands, logs_dir):
        self._commands = commands
        self._logs_dir = logs_dir
        self._lives: Dict[str, int] = {}
        self.runs: Dict[str, fault_drill.Run] = {}
        for task in commands:
            self.start(task)

    def start(self, task):
        life = self._lives.get(task, -1) + 1
        self._lives[task] = life
        log = os.path.join(self._logs_dir, '%s-%d.log' % (task.replace(' ', ''), life))
        self.runs[task] = fault_drill.Run(self._commands[task], log)
        return self.runs[task]

    def step_shown(self):
        """The largest global step a live worker's progress bar shows."""
        steps = [run.last_step_shown() for task, run in self.runs.items()
                 if task.startswith('worker') and run.process.poll() is None]
        steps = [step for step in steps if step is not None]
        return max(steps) if steps else None

    def kill_all(self):
        for run in self.runs.values():
            if run.process.poll() is None:
                run.kill()


def _trained_a_step(run):
    """This life's bar moved past the step it started at (tqdm shows the start step first)."""
    steps = fault_drill.steps_shown(run.output())
    return len(steps) >= 2 and steps[-1] > steps[0]


def _wait(condition, timeout, run=None):
    deadline = time.time() + timeout
    while time.time() < deadline and (run is None or run.process.poll() is None):
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _kill_and_restart(cluster, task, settings, rng, train_dir, index):
    run = cluster.runs[task]
    _wait(lambda: _trained_a_step(run), settings.rejoin_timeout, run)
    time.sleep(rng.uniform(0.0, settings.max_delay))
    if run.process.poll() is not None:
        raise RuntimeError('%s exited before its kill (see %s)' % (task, run.log_path))
    kill = ClusterKill(index, task, cluster.step_shown(), None)
    run.kill()
    time.sleep(settings.outage_seconds)
    kill.step_after_outage = cluster.step_shown()
    if task == CHIEF:
        kill.latest_after = fault_drill.latest_step(train_dir)
        kill.latest_reads = fault_drill.latest_checkpoint_reads(train_dir)
    restarted = cluster.start(task)
    started = time.time()
    kill.rejoined = _wait(lambda: _trained_a_step(restarted), settings.rejoin_timeout, restarted)
    if kill.rejoined:
        kill.rejoin_seconds = round(time.time() - started, 1)
    kill.step_after_rejoin = cluster.step_shown()
    if task == CHIEF:
        kill.restored_step = restarted.restored_step()
        kill.continued_step = restarted.continued_step()
        kill.resumed_from_latest = kill.continued_step is not None or (
            kill.restored_step is not None and kill.restored_step == kill.latest_after)
        shown = [step for step in (kill.step_at_kill, kill.step_after_outage) if step is not None]
        if shown and kill.went_on_from is not None:
            kill.steps_lost = max(0, max(shown) - kill.went_on_from)
    return kill


def _exit_status(run, timeout):
    """The run's exit status, or None where it had not finished ``timeout`` seconds on."""
    try:
        return run.wait(timeout)
    except subprocess.TimeoutExpired:
        return None


def run_cluster_drill(settings: ClusterDrillSettings, show_progress=True):
    """Runs the drill; returns {'settings', 'kills': [ClusterKill dicts], 'counts', 'final'}."""
    rng = random.Random(settings.seed)
    records_dir = fault_drill.make_records(settings.work_dir)
    train_dir = os.path.join(settings.work_dir, 'train')
    logs_dir = os.path.join(settings.work_dir, 'logs')
    os.makedirs(logs_dir, exist_ok=True)
    cluster = _Cluster(_task_commands(settings, records_dir, train_dir), logs_dir)
    kills: List[ClusterKill] = []
    try:
        for index in range(settings.num_kills):
            task = CHIEF if (index + 1) % settings.chief_kill_every == 0 else WORKER
            kill = _kill_and_restart(cluster, task, settings, rng, train_dir, index)
            kills.append(kill)
            if show_progress:
                print('kill %d (%s): step %s, after %.0f s down %s; rejoined %s after %s s%s' % (
                    index + 1, task, kill.step_at_kill, settings.outage_seconds,
                    kill.step_after_outage, kill.rejoined, kill.rejoin_seconds,
                    '' if task != CHIEF else '; latest %s (reads %s), went on from %s, lost %s' % (
                        kill.latest_after, kill.latest_reads, kill.went_on_from, kill.steps_lost)),
                    flush=True)
            if not kill.rejoined:
                break  # the cluster is stuck: what the drill found; no more kills
        exit_statuses = {task: _exit_status(run, settings.finish_timeout)
                         for task, run in cluster.runs.items()}
    finally:
        cluster.kill_all()
    final_step = fault_drill.latest_step(train_dir)
    return {'settings': dataclasses.asdict(settings), 'kills': [dataclasses.asdict(k) for k in kills],
            'counts': count(kills, settings),
            'final': {'exit_statuses': exit_statuses,
                      'parameter_server_stopped_by_itself': exit_statuses['ps 0'] == 0,
                      'final_step': final_step,
                      'equals_max_steps': final_step == settings.max_steps}}


def count(kills: List[ClusterKill], settings: ClusterDrillSettings):
    """The drill's counts (what the README quotes)."""
    worker_kills = [kill for kill in kills if kill.task == WORKER]
    chief_kills = [kill for kill in kills if kill.task == CHIEF]
    advanced = [kill.step_after_outage - kill.step_at_kill for kill in worker_kills
                if None not in (kill.step_at_kill, kill.step_after_outage)]
    lost = [kill.steps_lost for kill in chief_kills if kill.steps_lost is not None]
    rejoin = [kill.rejoin_seconds for kill in kills if kill.rejoin_seconds is not None]
    return {
        'mode': 'sync' if settings.sync_replicas else 'async',
        'worker_kills': len(worker_kills),
        'chief_kills': len(chief_kills),
        'rejoined': sum(kill.rejoined for kill in kills),
        'max_rejoin_seconds': max(rejoin) if rejoin else None,
        'steps_while_worker_down': advanced,
        'global_step_went_back_after_a_worker_kill': sum(
            kill.step_after_rejoin is not None and kill.step_at_kill is not None
            and kill.step_after_rejoin < kill.step_at_kill for kill in worker_kills),
        'chief_resumed': sum(bool(kill.resumed_from_latest) for kill in chief_kills),
        'chief_continued_from_live_model': sum(kill.continued_step is not None
                                               for kill in chief_kills),
        'unreadable_latest_checkpoints': sum(kill.latest_reads is False for kill in chief_kills),
        'chief_steps_lost': lost,
        'save_interval': settings.save_checkpoint_steps,
    }


def format_table(result):
    lines = ['kill  task      step  after outage  rejoined  s      latest  reads  restored  live  lost']
    for kill in result['kills']:
        lines.append('%4d  %-8s  %4s  %12s  %-8s  %5s  %6s  %-5s  %8s  %4s  %4s' % (
            kill['index'] + 1, kill['task'], kill['step_at_kill'], kill['step_after_outage'],
            kill['rejoined'], kill['rejoin_seconds'], kill['latest_after'], kill['latest_reads'],
            kill['restored_step'], kill['continued_step'], kill['steps_lost']))
    counts, final = result['counts'], result['final']
    lines.append('%(mode)s: %(worker_kills)d kills of worker 1, %(chief_kills)d of the chief; '
                 '%(rejoined)d rejoined (at most %(max_rejoin_seconds)s s); global steps while worker '
                 '1 was down: %(steps_while_worker_down)s; the chief went on %(chief_resumed)d '
                 'times (%(chief_continued_from_live_model)d from the live model on the parameter '
                 'servers), %(unreadable_latest_checkpoints)d latest checkpoints unreadable, '
                 'steps lost %(chief_steps_lost)s (save interval %(save_interval)d)' % counts)
    lines.append('final step %(final_step)s (max_steps: %(equals_max_steps)s); exit statuses '
                 '%(exit_statuses)s' % final)
    return lines
