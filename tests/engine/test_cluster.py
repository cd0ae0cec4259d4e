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

from tf1zoo.datasets import synthetic_shapes
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


def _run_loopback_cluster(command, replicas, max_steps):
    """Runs ``command`` as 1 parameter server + 2 workers on 127.0.0.1, synchronously; returns each
    task's (job, index) and output once all have exited 0."""
    ps_port, *worker_ports = _free_ports(3)
    command = command + ['--max_steps=%d' % max_steps, '--noprogress', '--save_summaries_steps=1000',
                         '--ps_hosts=127.0.0.1:%d' % ps_port,
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
        # Not even the chief's token queue runners, cancelled when its session closes.
        assert 'Traceback' not in output, '%s %d:\n%s' % (job, index, output[-3000:])
    return tasks, outputs


def _worker_steps(tasks, outputs, global_step):
    return [int(re.search(r'worker %d ran (\d+) steps; the global step is %d' % (index, global_step),
                          output).group(1))
            for (job, index), output in zip(tasks, outputs) if job == 'worker']


def _script(name):
    return os.path.join(os.path.dirname(__file__), '..', '..', 'scripts', name)


def test_a_loopback_cluster_trains_synchronously_and_stops_by_itself(tmp_path):
    records_dir = fault_drill.make_records(str(tmp_path))
    train_dir = str(tmp_path / 'train')
    max_steps, replicas = 3, 2
    command = [sys.executable, _script('train_ssd.py'), '--dataset_name=shapes',
               '--dataset_dir=' + records_dir, '--train_dir=' + train_dir, '--depth_multiplier=0.125',
               '--batch_size=1', '--shuffle_buffer=4']
    tasks, outputs = _run_loopback_cluster(command, replicas, max_steps)
    # Each update of SyncReplicasOptimizer averages `replicas` worker steps into one global step.
    worker_steps = _worker_steps(tasks, outputs, max_steps)
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


def test_dcgan_trains_synchronously_one_averaged_d_update_per_g_update(tmp_path):
    image_dir = str(tmp_path / 'centred')
    synthetic_shapes.generate_centred(image_dir, 12, 6, image_size=16, show_progress=False)
    train_dir = str(tmp_path / 'train')
    max_steps, replicas = 3, 2
    command = [sys.executable, _script('train_dcgan.py'), '--image_dir=' + os.path.join(image_dir, 'train'),
               '--train_dir=' + train_dir, '--image_size=16', '--depth_multiplier=0.0625',
               '--batch_size=4', '--generator_steps=2']
    tasks, outputs = _run_loopback_cluster(command, replicas, max_steps)
    worker_steps = _worker_steps(tasks, outputs, max_steps)
    assert sum(worker_steps) == max_steps * replicas, worker_steps
    # Every global step took one D update and two G updates, each of `replicas` averaged gradients:
    # the earlier updates' own counters went up with the global step.
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(train_dir))
    assert reader.get_tensor('global_step') == max_steps
    assert reader.get_tensor('sync_updates/discriminator') == max_steps
    assert reader.get_tensor('sync_updates/generator_1') == max_steps
    assert 'sync_updates/generator_2' not in reader.get_variable_to_shape_map()  # the global step
