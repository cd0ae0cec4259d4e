"""Between-graph replication: the cluster from flags and from TF_CONFIG, and a loopback cluster (one
parameter server and two workers, separate train_ssd.py processes on 127.0.0.1) that trains a thin
SSD synchronously and stops by itself."""
import glob
import json
import os
import re
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from tf1zoo.engine import cluster, fault_drill, inference

_HOSTS = {'ps': ['ps0:2222'], 'worker': ['w0:2222', 'w1:2222']}


def test_flags_name_the_task_and_worker_0_is_the_chief():
    worker = cluster.from_flags(['ps0:1'], ['w0:1', 'w1:1'], 'worker', 1, sync_replicas=True,
                                environ={})
    assert worker.distributed and not worker.is_chief and worker.num_workers == 2
    assert worker.task_device == '/job:worker/task:1'
    assert cluster.from_flags(['ps0:1'], ['w0:1'], 'worker', 0, environ={}).is_chief
    alone = cluster.from_flags([], [], None, 0, environ={})
    assert not alone.distributed and alone.is_chief


def test_tf_config_with_a_chief_makes_it_worker_0():
    spec = {'cluster': {'chief': ['c0:1'], 'worker': ['w0:1', 'w1:1'], 'ps': ['p0:1']},
            'task': {'type': 'worker', 'index': 1}}
    task = cluster.from_flags([], [], None, 0, environ={'TF_CONFIG': json.dumps(spec)})
    assert task.worker_hosts == ('c0:1', 'w0:1', 'w1:1') and task.ps_hosts == ('p0:1',)
    assert (task.job_name, task.task_index) == ('worker', 2)
    spec['task'] = {'type': 'chief', 'index': 0}
    assert cluster.from_tf_config(json.dumps(spec)).is_chief
    spec['task'] = {'type': 'ps', 'index': 0}
    assert cluster.from_tf_config(json.dumps(spec)).job_name == 'ps'


@pytest.mark.parametrize('arguments, message', [
    ((['p:1'], ['w:1'], 'worker', 1), r'--task_index=1 is not a worker task: the cluster has 1'),
    ((['p:1'], ['w:1'], None, 0), r'need --job_name'),
    (([], ['w:1'], 'worker', 0), r'needs --ps_hosts and --worker_hosts'),
    (([], [], None, 0, True), r'--sync_replicas needs a cluster'),
])
def test_a_task_outside_its_cluster_is_one_clear_error(arguments, message):
    with pytest.raises(cluster.ClusterError, match=message):
        cluster.from_flags(*arguments, environ={})


def test_a_tf_config_that_is_not_a_cluster_spec_is_refused():
    with pytest.raises(cluster.ClusterError, match='TF_CONFIG is not a cluster spec'):
        cluster.from_tf_config('{"cluster": {}}')
    with pytest.raises(cluster.ClusterError, match="task type 'evaluator' does not train"):
        cluster.from_tf_config(json.dumps({'cluster': _HOSTS, 'task': {'type': 'evaluator'}}))


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(('127.0.0.1', 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def test_a_loopback_cluster_trains_synchronously_and_stops_by_itself(tmp_path):
    records_dir = fault_drill.make_records(str(tmp_path))
    train_dir = str(tmp_path / 'train')
    ps_port, *worker_ports = _free_ports(3)
    max_steps, replicas = 3, 2
    script = os.path.join(os.path.dirname(__file__), '..', '..', 'scripts', 'train_ssd.py')
    command = [sys.executable, script, '--dataset_name=shapes', '--dataset_dir=' + records_dir,
               '--train_dir=' + train_dir, '--depth_multiplier=0.125', '--batch_size=1',
               '--max_steps=%d' % max_steps, '--shuffle_buffer=4', '--noprogress',
               '--save_summaries_steps=1000', '--ps_hosts=127.0.0.1:%d' % ps_port,
               '--worker_hosts=' + ','.join('127.0.0.1:%d' % port for port in worker_ports),
               '--sync_replicas', '--replicas_to_aggregate=%d' % replicas]
    tasks = [('ps', 0), ('worker', 0), ('worker', 1)]
    processes = [subprocess.Popen(command + ['--job_name=' + job, '--task_index=%d' % index],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for job, index in tasks]
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=400)[0])
    finally:
        for process in processes:
            process.kill()
    for (job, index), process, output in zip(tasks, processes, outputs):
        assert process.returncode == 0, '%s %d:\n%s' % (job, index, output[-3000:])
    # Each update of SyncReplicasOptimizer averages `replicas` worker steps into one global step.
    worker_steps = [int(re.search(r'worker %d ran (\d+) steps; the global step is %d'
                                  % (index, max_steps), output).group(1))
                    for (job, index), output in zip(tasks, outputs) if job == 'worker']
    assert sum(worker_steps) == max_steps * replicas, worker_steps
    assert 'worker 0 is done' in outputs[0] and 'worker 1 is done' in outputs[0]
    # The chief alone wrote the checkpoints; the last one restores into a fresh detector.
    prefix = tf.train.latest_checkpoint(train_dir)
    assert prefix.endswith('-%d' % max_steps)
    settings = inference.model_settings(prefix)[1]
    files = glob.glob(os.path.join(records_dir, 'shapes_trainval-*'))
    detections = list(inference.iterate_detections(
        lambda: inference.tfrecord_dataset(files, settings, 4), settings, prefix))
    assert len(detections) == 20 and np.all(np.isfinite(detections[0]['detection_scores']))
