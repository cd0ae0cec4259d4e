"""In-graph replication over the devices of one machine (``--num_clones``), as tf-slim's
``deployment/model_deploy.py`` does it.

The batch of ``batch_size`` examples is split along its first axis into ``num_clones`` equal parts;
clone ``i`` builds the model on its part under the name scope ``clone_i``, on its own device (GPU
``i`` when the machine has enough GPUs, else the CPU), sharing the variables of clone 0, which live on
the parameter device (the CPU). Each clone's gradient of its loss divided by ``num_clones`` is
computed on the clone's device; the gradients are summed on the parameter device and applied once.
The regularisation loss is added to clone 0's loss alone (it belongs to the shared variables), and
batch norm's moving statistics are updated from clone 0's part of the batch alone.

For a loss that is a mean over the examples, ``num_clones`` clones give the loss and gradients of
one clone with the whole batch. A loss normalised by a count taken over the batch (SSD's multibox
loss divides by the matched anchors, Eq. 1) is normalised per clone instead, as on several GPUs.
"""
import tensorflow.compat.v1 as tf

# Ops that hold variables: they are placed on the parameter device, every other op on its clone's.
_VARIABLE_OP_TYPES = ('Variable', 'VariableV2', 'VarHandleOp', 'AutoReloadVariable')
PARAMETER_DEVICE = '/device:CPU:0'


def clone_devices(num_clones):
    """One device per clone: GPU ``i`` for clone ``i`` when the machine has ``num_clones`` GPUs,
    else the CPU for every clone (its clones then run side by side on the CPU's threads)."""
    if num_clones < 1:
        raise ValueError('--num_clones must be at least 1, not %d' % num_clones)
    if len(tf.config.list_physical_devices('GPU')) >= num_clones:
        return ['/device:GPU:%d' % i for i in range(num_clones)]
    return ['/device:CPU:0'] * num_clones


def split_batch(batch, num_clones):
    """A dict of batched tensors ``[batch_size, ...]`` -> ``num_clones`` dicts of
    ``[batch_size / num_clones, ...]`` tensors, the examples kept in order."""
    for name, tensor in batch.items():
        size = tensor.shape.as_list()[0] if tensor.shape.ndims else None
        if size is not None and size % num_clones:
            raise ValueError('--batch_size=%d does not split into --num_clones=%d equal parts (%s)'
                             % (size, num_clones, name))
    parts = {name: tf.split(tensor, num_clones, axis=0) for name, tensor in batch.items()}
    return [{name: parts[name][i] for name in batch} for i in range(num_clones)]


def _placement(clone_device):
    """A device function: variables on the parameter device, the clone's ops on its device."""
    def place(op):
        return PARAMETER_DEVICE if op.type in _VARIABLE_OP_TYPES else clone_device
    return place


def clone_scope(index):
    return 'clone_%d' % index


def build_clones(model_fn, batch, num_clones):
    """Builds ``model_fn`` once per clone on its part of ``batch``.

    Returns:
      The clones' `train_loop.ModelOutputs`, in clone order.

    Raises:
      ValueError: the batch does not split evenly, or the model made variables of its own in a clone
        after the first (``tf.Variable`` instead of ``tf.get_variable``: they would not be shared).
    """
    outputs = []
    devices = clone_devices(num_clones)
    for index, (device, part) in enumerate(zip(devices, split_batch(batch, num_clones))):
        trainable_before = len(tf.trainable_variables())
        with tf.name_scope(clone_scope(index)), tf.device(_placement(device)), \
                tf.variable_scope(tf.get_variable_scope(), reuse=True if index else None):
            outputs.append(model_fn(part))
        if index and len(tf.trainable_variables()) != trainable_before:
            raise ValueError('clone %d made %d trainable variables of its own: the model must '
                             'create its variables with tf.get_variable to be cloned'
                             % (index, len(tf.trainable_variables()) - trainable_before))
    return outputs


def mean_losses(clone_outputs):
    """{loss name: the mean of the clones' values} (the whole batch's loss for per-example means)."""
    names = clone_outputs[0].losses.keys()
    return {name: tf.add_n([clone.losses[name] for clone in clone_outputs]) / len(clone_outputs)
            for name in names}


def summed_gradients(optimizer, clone_outputs, regularization, variables):
    """The (gradient, variable) pairs of the mean clone loss plus ``regularization``: each clone's
    share on its device, summed on the parameter device. Variables no loss reaches are left out."""
    num_clones = len(clone_outputs)
    per_clone = []
    for index, clone in enumerate(clone_outputs):
        loss = tf.add_n(list(clone.losses.values())) / num_clones
        if index == 0:
            loss += regularization
        with tf.name_scope(clone_scope(index) + '/gradients'):
            per_clone.append(optimizer.compute_gradients(loss, variables,
                                                         colocate_gradients_with_ops=True))
    summed = []
    with tf.name_scope('clone_gradients_sum'), tf.device(PARAMETER_DEVICE):
        for pairs in zip(*per_clone):
            gradients = [gradient for gradient, _ in pairs if gradient is not None]
            if gradients:
                summed.append((tf.add_n(gradients) if len(gradients) > 1 else gradients[0],
                               pairs[0][1]))
    return summed


def first_clone_update_ops():
    """Batch norm's moving-statistics updates of clone 0 (tf-slim's model_deploy keeps those)."""
    return tf.get_collection(tf.GraphKeys.UPDATE_OPS, clone_scope(0) + '/')
