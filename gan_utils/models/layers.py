"""Layers shared by the model families: minibatch standard deviation and spectral normalisation.

Spectral normalisation is written here because Keras' own layer differs from the paper: it writes W/sigma
back into the kernel, so no gradient flows through sigma (a projection, not Miyato et al.'s reparameterisation).
"""
from __future__ import annotations

import contextlib
import numbers
import threading

import keras
from keras import ops

MINIBATCH_STD_EPSILON = 1e-8  # inside the sqrt: keeps the gradient finite when a feature is constant over the batch
NORM_EPSILON = 1e-12  # floors vector norms and sigma, so a zero kernel gives zeros, not NaN


@keras.saving.register_keras_serializable(package="gan_utils")
class MinibatchStdDev(keras.layers.Layer):
    """Appends one channel holding the batch's mean per-feature standard deviation (Karras et al. 2018, ProGAN).

    A discriminator that sees this batch statistic can tell a collapsed batch of near-identical fakes from a
    diverse real one, which penalises mode collapse. Computed in float32 and cast back to the input dtype.
    """

    def __init__(self, epsilon: float = MINIBATCH_STD_EPSILON, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(epsilon, numbers.Real) or isinstance(epsilon, bool) or not epsilon > 0:
            raise ValueError(f"epsilon must be a positive number (it keeps the sqrt differentiable); got {epsilon!r}.")
        self.epsilon = float(epsilon)

    def call(self, inputs):
        x = keras.ops.cast(inputs, "float32")
        std = keras.ops.sqrt(keras.ops.var(x, axis=0) + self.epsilon)  # per feature (h, w, c), over the batch
        channel = keras.ops.ones_like(x[..., :1]) * keras.ops.mean(std)  # one scalar, broadcast to every pixel
        return keras.ops.concatenate([inputs, keras.ops.cast(channel, inputs.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1]
        return (*input_shape[:-1], None if channels is None else channels + 1)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


def _normalise(vector):
    return vector / ops.maximum(ops.sqrt(ops.sum(ops.square(vector))), NORM_EPSILON)


@keras.saving.register_keras_serializable(package="gan_utils")
class SpectralNormalization(keras.layers.Wrapper):
    """Wraps a Dense, Conv1D/2D/3D or Embedding layer so that it computes with W / sigma(W) (Miyato et al. 2018).

    W is the wrapped layer's own kernel (or embeddings), reshaped to a matrix with one column per output
    feature; it is never overwritten. sigma = v^T W u estimates W's largest singular value from u, a stored
    float32 unit vector (non-trainable, so it is checkpointed), and v = normalise(W u). sigma is recomputed
    from the current W in every call, training or not, so gradients flow through it and rescaling W leaves
    the output unchanged. A training call first refines u by one power-iteration step, without gradient;
    inside `power_iteration_paused` training calls leave u as it is, so a train step moves it only once.
    For a convolution, sigma of the reshaped kernel only approximates the operator norm of the convolution.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D,
                                  keras.layers.Conv3D, keras.layers.Embedding)):
            raise TypeError(f"SpectralNormalization wraps a Dense, Conv1D, Conv2D, Conv3D or Embedding layer; "
                            f"got {type(layer).__name__}.")
        if isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)) and layer.groups != 1:
            raise ValueError(f"SpectralNormalization supports convolutions with groups=1; {layer.name!r} has "
                             f"groups={layer.groups}.")
        super().__init__(layer, **kwargs)
        self._paused = threading.local()  # per thread: MirroredStrategy traces each replica in its own thread

    @property
    def update_u(self) -> bool:
        """Whether a training call in this thread refines u (False inside power_iteration_paused)."""
        return not getattr(self._paused, "value", False)

    @update_u.setter
    def update_u(self, value: bool):
        self._paused.value = not value

    def build(self, input_shape=None):
        super().build(input_shape)
        outputs = self._raw_kernel().shape[-1]
        self.u = self.add_weight(shape=(outputs,), initializer=keras.initializers.RandomNormal(stddev=1.0),
                                 trainable=False, dtype="float32", name="u",
                                 aggregation="only_first_replica")  # every replica computes the same u

    def _raw_kernel(self):
        return self.layer.embeddings if isinstance(self.layer, keras.layers.Embedding) else self.layer.kernel

    def power_iteration(self):
        """One power-iteration step on the current kernel: u <- normalise(W^T normalise(W u)), no gradient."""
        matrix = ops.stop_gradient(self._matrix())
        v = _normalise(ops.matmul(matrix, _normalise(self.u)))
        self.u.assign(_normalise(ops.matmul(ops.transpose(matrix), v)))

    def _matrix(self):
        kernel = ops.cast(self._raw_kernel(), "float32")
        return ops.reshape(kernel, (-1, kernel.shape[-1]))

    def sigma(self):
        """The estimate v^T W u of W's largest singular value, float32, differentiable with respect to W."""
        matrix = self._matrix()
        u = ops.stop_gradient(_normalise(self.u))
        v = ops.stop_gradient(_normalise(ops.matmul(matrix, u)))
        return ops.maximum(ops.sum(v * ops.matmul(matrix, u)), NORM_EPSILON)

    def normalized_kernel(self):
        """W / sigma(W) in the raw kernel's shape, float32."""
        return ops.cast(self._raw_kernel(), "float32") / self.sigma()

    def call(self, inputs, training=None):
        if training and self.update_u:
            self.power_iteration()
        layer = self.layer
        kernel = ops.cast(self.normalized_kernel(), layer.compute_dtype)
        if isinstance(layer, keras.layers.Embedding):
            return ops.take(kernel, ops.cast(inputs, "int32"), axis=0)
        if isinstance(layer, keras.layers.Dense):
            outputs = ops.matmul(ops.cast(inputs, layer.compute_dtype), kernel)
            bias_shape = None
        else:
            outputs = layer.convolution_op(ops.cast(inputs, layer.compute_dtype), kernel)
            channels_last = layer.data_format == "channels_last"
            bias_shape = (1,) * (layer.rank + 1) + (-1,) if channels_last else (1, -1) + (1,) * layer.rank
        if layer.bias is not None:
            bias = ops.cast(layer.bias, layer.compute_dtype)
            outputs = outputs + (bias if bias_shape is None else ops.reshape(bias, bias_shape))
        return layer.activation(outputs) if layer.activation is not None else outputs

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)


def _sublayers(layer):
    """layer and every layer inside it, depth first (functional models, Sequential models and wrappers)."""
    yield layer
    for child in getattr(layer, "layers", ()):
        yield from _sublayers(child)
    if isinstance(layer, keras.layers.Wrapper):
        yield from _sublayers(layer.layer)


def batch_coupled_layers(model: keras.layers.Layer) -> list[str]:
    """The names of the layers in `model` whose training-mode output for one sample depends on the others in
    its batch (minibatch standard deviation, batch normalisation): with them, the input gradient of D's
    batch sum is not a per-sample gradient, so R1 and gradient penalties would pick up cross-sample terms."""
    coupled = (MinibatchStdDev, keras.layers.BatchNormalization)
    return [layer.name for layer in _sublayers(model) if isinstance(layer, coupled)]


@contextlib.contextmanager
def power_iteration_paused(model: keras.layers.Layer):
    """Inside, the SpectralNormalization layers of `model` keep u fixed even in training calls. A train step
    makes its first discriminator call outside and every later one (fakes, penalties, the generator's step)
    inside, so u moves once per step. Read when a call is traced, so it also holds inside tf.function; the
    flag is per thread, so replicas traced in parallel threads do not pause each other."""
    wrapped = [layer for layer in _sublayers(model) if isinstance(layer, SpectralNormalization)]
    previous = [layer.update_u for layer in wrapped]
    for layer in wrapped:
        layer.update_u = False
    try:
        yield
    finally:
        for layer, flag in zip(wrapped, previous):
            layer.update_u = flag
