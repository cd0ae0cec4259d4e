"""The GAN losses of DCGAN (Goodfellow et al. 2014's minimax game, generator loss in its
non-saturating form, as DCGAN trains it), on the discriminator's logits.

    discriminator_loss = mean(-log D(x)) + mean(-log(1 - D(G(z))))
    generator_loss     = mean(-log D(G(z)))

with D = sigmoid(logit), written as sigmoid cross-entropies so that large logits stay finite.
Logits are float32 ``[batch]``.
"""
from tf1zoo.ops import compat  # noqa: F401, I001  (TF 2.21 graph-mode set-up; must precede TF)
import tensorflow.compat.v1 as tf


def _cross_entropy(logits, label):
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.fill(tf.shape(logits), float(label)), logits=logits))


def discriminator_loss(real_logits, fake_logits):
    """Real images labelled 1, generated ones 0; the two means summed (a scalar)."""
    return _cross_entropy(real_logits, 1.0) + _cross_entropy(fake_logits, 0.0)


def generator_loss(fake_logits):
    """The non-saturating generator loss: generated images labelled 1 (a scalar)."""
    return _cross_entropy(fake_logits, 1.0)
