"""The shared 'the Winograd net restores the direct net's checkpoint and predicts the same' check."""
import tensorflow.compat.v1 as tf
import tf_slim as slim

from tf1zoo.ops import winograd


def direct_and_winograd_predictions(spec, images, checkpoint_prefix, skip_keys=(), **build_options):
    """Builds ``spec``'s detector directly, saves random weights, then rebuilds it with adaptive
    Winograd and restores them; returns ((direct outputs, op types), (Winograd outputs, op types)).

    The thin nets' layers have fewer channels than Winograd needs to pay: it is taken everywhere.
    """
    def predict(winograd_tile_size, restore):
        with tf.Graph().as_default(), tf.Session() as session, \
                slim.arg_scope([winograd.conv2d], min_input_channels=1):
            detector = spec.build(winograd_tile_size=winograd_tile_size, **build_options)
            predictions, _ = detector.predict(tf.constant(images, tf.float32), is_training=False)
            saver = tf.train.Saver()
            if restore:
                saver.restore(session, checkpoint_prefix)
                session.run(tf.local_variables_initializer())
            else:
                session.run(tf.global_variables_initializer())
                saver.save(session, checkpoint_prefix)
            op_types = [op.type for op in tf.get_default_graph().get_operations()]
            return session.run({key: predictions[key] for key in predictions
                                if key not in skip_keys}), op_types

    return predict(None, restore=False), predict(winograd.ADAPTIVE, restore=True)
