"""Between-graph replication on TensorFlow's distributed runtime, TF1's way.

A cluster is parameter servers (``ps``) that hold the variables and workers that each build the
whole graph and train on their own input; worker 0 is the chief, the only task that initialises or
restores the variables and writes checkpoints and summaries. Every task runs the same train CLI with
the same flags but its own ``--job_name`` and ``--task_index`` (or a cluster manager's ``TF_CONFIG``):

    --ps_hosts=ps0:2222 --worker_hosts=w0:2222,w1:2222 --job_name=worker --task_index=0

Each task starts a ``tf.distribute.Server``; a worker places its variables on the parameter servers
with ``tf.train.replica_device_setter`` (round robin) and its other ops on itself. Updates are
asynchronous (each worker applies its own gradients) or, with ``--sync_replicas``, synchronous:
``tf.train.SyncReplicasOptimizer`` averages ``--replicas_to_aggregate`` gradients (default: one per
worker) and applies them as one step, so the global step counts aggregated updates. A parameter
server serves until every worker has said it is done (a shared queue on each parameter server, as
TF1's distributed examples end a cluster), then exits by itself; a worker killed and started again
with the same command rejoins and goes on from the variables on the parameter servers.
"""
import dataclasses
import json
import os
from typing import Optional, Sequence

import tensorflow.compat.v1 as tf

TF_CONFIG_VARIABLE = 'TF_CONFIG'
JOB_NAMES = ('ps', 'worker')


class ClusterError(ValueError):
    """The cluster flags or TF_CONFIG do not describe a task of a cluster."""


@dataclasses.dataclass(frozen=True)
class ClusterConfig:
    """This task's place in a cluster; ``job_name`` None (no cluster) trains in one process."""

    ps_hosts: Sequence[str] = ()
    worker_hosts: Sequence[str] = ()
    job_name: Optional[str] = None
    task_index: int = 0
    sync_replicas: bool = False
    # Gradients averaged into one update with sync_replicas; None: one per worker.
    replicas_to_aggregate: Optional[int] = None

    @property
    def distributed(self):
        return self.job_name is not None

    @property
    def is_chief(self):
        return not self.distributed or (self.job_name == 'worker' and self.task_index == 0)

    @property
    def num_workers(self):
        return len(self.worker_hosts)

    @property
    def task_device(self):
        return '/job:%s/task:%d' % (self.job_name, self.task_index)

    def cluster_spec(self):
        return tf.train.ClusterSpec({'ps': list(self.ps_hosts), 'worker': list(self.worker_hosts)})

    def check(self):
        """Raises ClusterError naming what is missing or inconsistent."""
        if not self.distributed:
            if self.sync_replicas:
                raise ClusterError('--sync_replicas needs a cluster: --ps_hosts, --worker_hosts, '
                                   '--job_name and --task_index (or TF_CONFIG)')
            return self
        if self.job_name not in JOB_NAMES:
            raise ClusterError('--job_name must be ps or worker, not %r' % self.job_name)
        if not self.ps_hosts or not self.worker_hosts:
            raise ClusterError('a cluster needs --ps_hosts and --worker_hosts (host:port lists); '
                               'got ps %s, worker %s' % (list(self.ps_hosts), list(self.worker_hosts)))
        hosts = self.ps_hosts if self.job_name == 'ps' else self.worker_hosts
        if not 0 <= self.task_index < len(hosts):
            raise ClusterError('--task_index=%d is not a %s task: the cluster has %d (%s)'
                               % (self.task_index, self.job_name, len(hosts), ','.join(hosts)))
        aggregated = self.replicas_to_aggregate
        if aggregated is not None and aggregated < 1:
            raise ClusterError('--replicas_to_aggregate must be at least 1, not %d' % aggregated)
        return self


def from_tf_config(text, sync_replicas=False, replicas_to_aggregate=None):
    """A ClusterConfig from a ``TF_CONFIG`` JSON, as cluster managers set it:
    ``{"cluster": {"chief": [...], "worker": [...], "ps": [...]}, "task": {"type": ..., "index": ...}}``.

    A ``chief`` job (TF2's convention) becomes worker 0 and the workers follow it, so task
    ``worker:i`` is worker ``i + 1``; an ``evaluator`` task has no place in training.
    """
    try:
        spec = json.loads(text)
        cluster, task = spec['cluster'], spec['task']
        task_type, index = task['type'], int(task.get('index', 0))
    except (ValueError, KeyError, TypeError) as error:
        raise ClusterError('%s is not a cluster spec ({"cluster": {...}, "task": {"type": ..., '
                           '"index": ...}}): %s' % (TF_CONFIG_VARIABLE, error)) from None
    chiefs = list(cluster.get('chief', []))
    workers = chiefs + list(cluster.get('worker', []))
    if task_type == 'chief':
        task_type, index = 'worker', index
    elif task_type == 'worker':
        index += len(chiefs)
    elif task_type != 'ps':
        raise ClusterError('%s task type %r does not train (ps, worker or chief)'
                           % (TF_CONFIG_VARIABLE, task_type))
    return ClusterConfig(ps_hosts=tuple(cluster.get('ps', [])), worker_hosts=tuple(workers),
                         job_name=task_type, task_index=index, sync_replicas=sync_replicas,
                         replicas_to_aggregate=replicas_to_aggregate).check()


def from_flags(ps_hosts, worker_hosts, job_name, task_index, sync_replicas=False,
               replicas_to_aggregate=None, environ=None):
    """The cluster of the flags, else of ``TF_CONFIG`` when the flags name none, else no cluster."""
    environ = os.environ if environ is None else environ
    if not job_name and not ps_hosts and not worker_hosts and environ.get(TF_CONFIG_VARIABLE):
        return from_tf_config(environ[TF_CONFIG_VARIABLE], sync_replicas, replicas_to_aggregate)
    if (ps_hosts or worker_hosts) and not job_name:
        raise ClusterError('--ps_hosts/--worker_hosts need --job_name (ps or worker) and --task_index')
    return ClusterConfig(ps_hosts=tuple(ps_hosts or ()), worker_hosts=tuple(worker_hosts or ()),
                         job_name=job_name or None, task_index=task_index,
                         sync_replicas=sync_replicas,
                         replicas_to_aggregate=replicas_to_aggregate).check()


def start_server(cluster: ClusterConfig, session_config=None):
    """This task's ``tf.distribute.Server`` (it listens on its host:port from now on)."""
    return tf.distribute.Server(cluster.cluster_spec(), job_name=cluster.job_name,
                                task_index=cluster.task_index, config=session_config)


def device_setter(cluster: ClusterConfig):
    """Variables round robin on the parameter servers, every other op on this worker."""
    return tf.train.replica_device_setter(worker_device=cluster.task_device,
                                          cluster=cluster.cluster_spec())


class _SyncReplicasOptimizer(tf.train.SyncReplicasOptimizer):
    """SyncReplicasOptimizer whose chief queue runner ends quietly with the session: once training
    is over, the runner's thread waits for gradients that no worker will send, and closing the
    session cancels that wait; without this, each runner's thread prints a CancelledError traceback
    at the end of every successful synchronous run."""

    def get_chief_queue_runner(self):
        runner = super().get_chief_queue_runner()
        return tf.train.QueueRunner(runner.queue, runner.enqueue_ops, queue_closed_exception_types=(
            tf.errors.OutOfRangeError, tf.errors.CancelledError))


def synchronous(optimizer, cluster: ClusterConfig):
    """``optimizer`` wrapped in a SyncReplicasOptimizer with ``--sync_replicas``, else itself; and
    the hook that runs its token queue (None without)."""
    if not cluster.sync_replicas:
        return optimizer, None
    aggregated = cluster.replicas_to_aggregate or cluster.num_workers
    wrapped = _SyncReplicasOptimizer(optimizer, replicas_to_aggregate=aggregated,
                                     total_num_replicas=cluster.num_workers)
    # No tokens to start with: a worker's first step waits for the first update, so every update
    # takes one step of each worker (no worker runs ahead while another is still starting).
    return wrapped, wrapped.make_session_run_hook(cluster.is_chief, num_tokens=0)


def _done_queues(cluster: ClusterConfig):
    """One queue per parameter server, shared by name across the tasks' graphs: a worker enqueues
    into each when it is done, a parameter server dequeues once per worker."""
    queues = []
    for index in range(len(cluster.ps_hosts)):
        with tf.device('/job:ps/task:%d' % index):
            queues.append(tf.FIFOQueue(cluster.num_workers, tf.int32, shared_name='done_queue_%d' % index,
                                       name='done_queue_%d' % index))
    return queues


def signal_done(cluster: ClusterConfig, server, session_config=None):
    """Tells every parameter server this worker is done, in a graph and session of its own (the
    training session is closed by now). ``session_config``: the worker's, whose device filters keep
    it from waiting for workers that have already left."""
    with tf.Graph().as_default():
        signals = [queue.enqueue(cluster.task_index) for queue in _done_queues(cluster)]
        with tf.Session(server.target, config=session_config) as session:
            session.run(signals)


def serve_until_workers_done(cluster: ClusterConfig, server):
    """A parameter server's life: serve the workers until each has signalled done. Returns the global
    step held by this task (None where the global step lives on another parameter server)."""
    with tf.Graph().as_default():
        done = _done_queues(cluster)[cluster.task_index].dequeue()
        global_step = None
        if cluster.task_index == 0:
            # The workers create the global step first, so round robin puts it on ps task 0; a
            # variable of the same name on the same device is the same variable in every graph.
            with tf.device('/job:ps/task:0'):
                global_step = tf.train.get_or_create_global_step()
        with tf.Session(server.target) as session:
            for finished in range(cluster.num_workers):
                worker = session.run(done)
                tf.logging.info('worker %d is done (%d of %d)', worker, finished + 1,
                                cluster.num_workers)
            return None if global_step is None else int(session.run(global_step.read_value()))
