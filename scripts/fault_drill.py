"""A fault drill: trains a thin SSD300 on the embedded shapes, kills it with SIGKILL again and again
(at random moments, and while a checkpoint is being written), restarts it with the same command
each time, and counts what survived.

    python scripts/fault_drill.py --work_dir=/tmp/drill --num_kills=20 --output_json=drill.json

Prints a table (one row per kill: when, whether a save was in progress, the step the run showed,
the latest checkpoint and whether it reads, the step the next run restored, the steps lost) and the
counts; writes them as JSON (engine/fault_drill.py).

    python scripts/fault_drill.py --mode=cluster_sync --work_dir=/tmp/cluster_drill --num_kills=6

does the same to a loopback cluster (one parameter server and two workers on 127.0.0.1, synchronous
or, with ``--mode=cluster_async``, asynchronous updates): it kills worker 1, and every third time the
chief, while they train, and restarts the task after ``--outage_seconds`` (engine/cluster_drill.py).
"""
from tf1zoo.ops import compat  # noqa: F401  (TF 2.21 graph-mode set-up; must precede TensorFlow)

# isort: split
import os

from absl import flags

from tf1zoo.engine import checkpoint_info, cli, cluster_drill, fault_drill


def define_flags(flag_values=flags.FLAGS):
    define = cli.Definer(flag_values)
    define.enum('mode', 'single', ['single', 'cluster_sync', 'cluster_async'],
                'single: one training process; cluster_sync / cluster_async: a loopback cluster of one '
                'parameter server and two workers, --sync_replicas or not.')
    define.string('work_dir', None, 'Folder for the data, the train dir and the runs\' logs '
                  '(a new one: the drill trains from scratch).')
    define.integer('num_kills', 20, 'SIGKILLs to send.')
    define.integer('max_steps', 400, 'The training command\'s --max_steps.')
    define.integer('save_checkpoint_steps', 10, 'The training command\'s save interval.')
    define.integer('save_kill_every', 2, 'Every n-th kill waits for a checkpoint being written.')
    define.float('min_delay', 1.0, 'Earliest start-up kill, in seconds after a start.')
    define.float('max_delay', 20.0, 'Latest start-up kill after a start, and latest training kill '
                 'after the first step, in seconds.')
    define.float('outage_seconds', 10.0, 'Cluster modes: how long a killed worker stays down.')
    define.integer('chief_kill_every', 3, 'Cluster modes: every n-th kill is of the chief (worker 0), '
                   'the others of worker 1.')
    define.integer('seed', 0, 'Seed of the kill times.')
    define.string('output_json', None, 'Where to write the results (optional).')
    define.required(['work_dir'])


def run(values):
    if os.path.exists(os.path.join(values.work_dir, 'train')):
        raise ValueError('%s already holds a drill\'s train dir: use a new --work_dir' % values.work_dir)
    if values.mode == 'single':
        drill = fault_drill
        settings = fault_drill.DrillSettings(
            work_dir=values.work_dir, num_kills=values.num_kills, max_steps=values.max_steps,
            save_checkpoint_steps=values.save_checkpoint_steps, save_kill_every=values.save_kill_every,
            min_delay=values.min_delay, max_delay=values.max_delay, seed=values.seed)
        result = fault_drill.run_drill(settings)
    else:
        drill = cluster_drill
        settings = cluster_drill.ClusterDrillSettings(
            work_dir=values.work_dir, num_kills=values.num_kills,
            chief_kill_every=values.chief_kill_every, sync_replicas=values.mode == 'cluster_sync',
            max_steps=values.max_steps, save_checkpoint_steps=values.save_checkpoint_steps,
            outage_seconds=values.outage_seconds, max_delay=values.max_delay, seed=values.seed)
        result = cluster_drill.run_cluster_drill(settings)
    for line in drill.format_table(result):
        print(line)
    if values.output_json:
        checkpoint_info.write_json_atomically(values.output_json, result)
    return result


if __name__ == '__main__':
    cli.run_as_program(define_flags, run)
