"""DCGAN's losses on hand-made logits."""
import numpy as np
import tensorflow.compat.v1 as tf

from tf1zoo.ops import gan_losses


def _evaluate(tensor):
    with tf.Session() as session:
        return session.run(tensor)


def test_losses_on_hand_made_logits():
    with tf.Graph().as_default():
        real = tf.constant([0.0, 2.0])
        fake = tf.constant([-1.0, 0.0])
        d_loss, g_loss = _evaluate([gan_losses.discriminator_loss(real, fake),
                                    gan_losses.generator_loss(fake)])
    # -log sigmoid(x) = log(1 + e^-x); -log(1 - sigmoid(x)) = log(1 + e^x).
    real_term = (np.log(2.0) + np.log(1 + np.exp(-2.0))) / 2
    fake_term = (np.log(1 + np.exp(-1.0)) + np.log(2.0)) / 2
    np.testing.assert_allclose(d_loss, real_term + fake_term, rtol=1e-6)
    np.testing.assert_allclose(g_loss, (np.log(1 + np.exp(1.0)) + np.log(2.0)) / 2, rtol=1e-6)


def test_large_logits_stay_finite():
    with tf.Graph().as_default():
        d_loss, g_loss = _evaluate([gan_losses.discriminator_loss(tf.constant([-500.0]),
                                                                  tf.constant([500.0])),
                                    gan_losses.generator_loss(tf.constant([-500.0]))])
    np.testing.assert_allclose([d_loss, g_loss], [1000.0, 500.0], rtol=1e-6)
