"""Latent-space tools for a generator fed z ~ N(0, I): drawing, interpolating, truncating and arithmetic.

They turn the generator's input into something to explore: walks and grids between samples (slerp keeps
them where the prior puts its mass), the truncation trick and attribute vectors. NumPy only; every function
computes in float64 and returns float32, the generator's input dtype.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
from scipy import stats

from gan_utils.validation import check_int

__all__ = ["normal_latents", "slerp", "interpolate", "interpolation_grid", "truncate", "attribute_vector",
           "apply_attribute"]

#: Below this sin(omega) the two directions are (anti)parallel, the great circle is undefined, and slerp
#: falls back to linear interpolation (slerp's limit as omega -> 0).
PARALLEL_SIN = 1e-6
_METHODS = ("slerp", "linear")


# ----------------------------------------------------------------------------- checks


def _check_real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r}.")
    return float(value)


def _check_method(method) -> str:
    if not isinstance(method, str) or method not in _METHODS:
        raise ValueError(f"method must be 'slerp' or 'linear'; got {method!r}.")
    return method


def _float_array(name: str, values) -> np.ndarray:
    """`values` as a float64 array, or TypeError if they are not real numbers."""
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as error:  # e.g. ragged lists
        raise TypeError(f"{name} must be a numeric array; converting it failed ({error}).") from None
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"{name} must hold real numbers; got dtype {array.dtype}. "
                        "Convert it with np.asarray(..., dtype='float32').")
    return array.astype(np.float64)


def _latents(name: str, values, ndims: tuple[int, ...], shape: str) -> np.ndarray:
    """`values` as a non-empty, finite float64 array with ndim in `ndims` (described by `shape`), or a clear error."""
    array = _float_array(name, values)
    if array.ndim not in ndims:
        raise ValueError(f"{name} must be {shape}; got shape {array.shape}.")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); pass at least one latent vector of length >= 1.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values; latent vectors must be finite.")
    return array


def _pair(z0, z1) -> tuple[np.ndarray, np.ndarray]:
    """z0 and z1 as finite float64 vectors of one shape (d,)."""
    z0 = _latents("z0", z0, (1,), "a 1-D latent vector (d,)")
    z1 = _latents("z1", z1, (1,), "a 1-D latent vector (d,)")
    if z0.shape != z1.shape:
        raise ValueError(f"z0 and z1 must have the same length; got shapes {z0.shape} and {z1.shape}. "
                         "Draw both for one generator (one latent_dim).")
    return z0, z1


def _fractions(t) -> np.ndarray:
    """t as a float64 scalar or 1-D array with every value in [0, 1]."""
    array = _float_array("t", t)
    if array.ndim > 1:
        raise ValueError(f"t must be a number or a 1-D array; got shape {array.shape}. Flatten it with np.ravel(t).")
    inside = (array >= 0.0) & (array <= 1.0)  # False for NaN too
    if not inside.all():
        raise ValueError(f"every t must be a number in [0, 1] (0 gives z0, 1 gives z1); "
                         f"got {array[~inside][:5]}.")
    return array


# ----------------------------------------------------------------------------- paths


def _lerp(z0: np.ndarray, z1: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points (1 - t) z0 + t z1 for each t of a 1-D array: (len(t), d)."""
    t = t[:, None]
    return (1.0 - t) * z0 + t * z1


def _slerp(z0: np.ndarray, z1: np.ndarray, t: np.ndarray, names: tuple[str, str] = ("z0", "z1")) -> np.ndarray:
    """slerp for each t of a 1-D array: (len(t), d); `names` name z0 and z1 in the zero-vector error."""
    norms = np.linalg.norm(z0), np.linalg.norm(z1)
    for name, norm in zip(names, norms):
        if norm == 0.0:
            raise ValueError(f"{name} is the zero vector, which has no direction to slerp along; "
                             "use linear interpolation instead: interpolate(..., method='linear').")
    omega = np.arccos(np.clip(np.dot(z0 / norms[0], z1 / norms[1]), -1.0, 1.0))
    sin_omega = np.sin(omega)
    if sin_omega < PARALLEL_SIN:
        return _lerp(z0, z1, t)
    t = t[:, None]
    # Coefficients first: sin(omega) / sin(omega) is exactly 1, so t = 0 and t = 1 return z0 and z1 exactly.
    return np.sin((1.0 - t) * omega) / sin_omega * z0 + np.sin(t * omega) / sin_omega * z1


def _path(z0: np.ndarray, z1: np.ndarray, t: np.ndarray, method: str,
          names: tuple[str, str] = ("z0", "z1")) -> np.ndarray:
    """Points from z0 to z1 at each t of a 1-D array, by `method`: float64 (len(t), d)."""
    return _slerp(z0, z1, t, names) if method == "slerp" else _lerp(z0, z1, t)


# ----------------------------------------------------------------------------- public API


def normal_latents(n: int, latent_dim: int, seed: int = 0) -> np.ndarray:
    """n latent vectors z ~ N(0, I): float32 (n, latent_dim) from np.random.default_rng(seed).standard_normal.

    Exactly the z that gan_utils.train.sample draws for the same seed, so its images can be traced to their z.
    """
    n = check_int("n", n, 1)
    latent_dim = check_int("latent_dim", latent_dim, 1)
    seed = check_int("seed", seed, 0)
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)


def slerp(z0, z1, t) -> np.ndarray:
    """Spherical linear interpolation from z0 (t = 0) to z1 (t = 1), both (d,): float32 (d,) or (len(t), d).

    t is a number or a 1-D array in [0, 1]. With omega the angle between z0 and z1, the point is
    sin((1 - t) omega) / sin(omega) z0 + sin(t omega) / sin(omega) z1, exact at t = 0 and t = 1.
    Why not a straight line: N(0, I) samples in d dimensions lie near the sphere of radius sqrt(d), and a
    straight line between two of them dips inside it (midpoint norm about sqrt(d / 2)), where the generator
    saw almost no z in training; slerp keeps the norm constant between endpoints of equal norm.
    For (anti)parallel vectors (sin(omega) < PARALLEL_SIN) it falls back to linear interpolation.
    """
    z0, z1 = _pair(z0, z1)
    t = _fractions(t)
    path = _slerp(z0, z1, np.atleast_1d(t))
    return (path[0] if t.ndim == 0 else path).astype(np.float32)


def interpolate(z0, z1, steps: int, method: str = "slerp") -> np.ndarray:
    """`steps` points from z0 to z1 at t = linspace(0, 1, steps): float32 (steps, d), first z0, last z1.

    method is "slerp" (the default; see slerp for why) or "linear". Feed the rows to the generator to see a walk.
    """
    z0, z1 = _pair(z0, z1)
    steps = check_int("steps", steps, 2)
    return _path(z0, z1, np.linspace(0.0, 1.0, steps), _check_method(method)).astype(np.float32)


def interpolation_grid(corners, rows: int, cols: int, method: str = "slerp") -> np.ndarray:
    """A rows x cols grid of latents between four corners: float32 (rows * cols, d), row by row.

    corners (4, d) are top-left, top-right, bottom-left, bottom-right. The left and right edges are
    interpolated over `rows` steps, then each row across `cols` steps, so the corners sit exactly at the
    grid's corners. Show the generated images with plots.image_grid(images, ncols=cols).
    """
    corners = _latents("corners", corners, (2,), "a 2-D array (4, d) of corner latent vectors")
    if len(corners) != 4:
        raise ValueError(f"corners must hold 4 latent vectors (top-left, top-right, bottom-left, bottom-right); "
                         f"got {len(corners)}. Stack them with np.stack([tl, tr, bl, br]).")
    rows = check_int("rows", rows, 2)
    cols = check_int("cols", cols, 2)
    method = _check_method(method)
    top_left, top_right, bottom_left, bottom_right = corners
    down = np.linspace(0.0, 1.0, rows)
    left = _path(top_left, bottom_left, down, method, ("the top-left corner", "the bottom-left corner"))
    right = _path(top_right, bottom_right, down, method, ("the top-right corner", "the bottom-right corner"))
    across = np.linspace(0.0, 1.0, cols)
    return np.concatenate([_path(start, end, across, method, (f"row {i}'s left end", f"row {i}'s right end"))
                           for i, (start, end) in enumerate(zip(left, right))]).astype(np.float32)


def truncate(z, threshold: float, *, seed: int = 0) -> np.ndarray:
    """BigGAN's truncation trick (Brock et al. 2019): every component of z with |z_i| > threshold is redrawn
    from N(0, 1) restricted to [-threshold, threshold]; the others are kept. float32 with z's shape, (d,) or (n, d).

    The result follows the normal distribution truncated at +-threshold, component by component, so samples stay
    near the typical set's shell instead of being pulled to the prior's centre (as psi * z would). A smaller
    threshold gives more typical, higher-fidelity images with less variety; math.inf changes nothing. The
    redrawn values come from `seed`, so the same z, threshold and seed always give the same result.
    (StyleGAN's truncation, w_avg + psi (w - w_avg), acts in the mapping network's output space instead.)
    """
    z = _latents("z", z, (1, 2), "a latent vector (d,) or a batch of them (n, d)")
    threshold = _check_real("threshold", threshold)
    if not threshold > 0:  # False for NaN too
        raise ValueError(f"threshold must be positive (math.inf keeps z as it is; BigGAN uses values around "
                         f"0.5 to 2); got {threshold}.")
    seed = check_int("seed", seed, 0)
    z = z.astype(np.float64)
    outside = np.abs(z) > threshold
    if outside.any():
        z[outside] = stats.truncnorm.rvs(-threshold, threshold, size=int(outside.sum()),
                                         random_state=np.random.default_rng(seed))
    return z.astype(np.float32)


def attribute_vector(z_with, z_without) -> np.ndarray:
    """The direction of an attribute, mean(z_with) - mean(z_without) over rows: float32 (d,).

    z_with (n, d) generate images with the attribute (e.g. thick strokes), z_without (m, d) images without it.
    Averaging over several samples cancels their other features, which is why latent arithmetic uses group
    means rather than single vectors (Radford et al. 2015).
    """
    z_with = _latents("z_with", z_with, (2,), "a 2-D batch of latent vectors (n, d)")
    z_without = _latents("z_without", z_without, (2,), "a 2-D batch of latent vectors (n, d)")
    if z_with.shape[1] != z_without.shape[1]:
        raise ValueError(f"z_with and z_without must have the same latent dimension; got {z_with.shape[1]} "
                         f"and {z_without.shape[1]}. Use latents of one generator.")
    return (z_with.mean(axis=0) - z_without.mean(axis=0)).astype(np.float32)


def apply_attribute(z, vector, strength: float = 1.0) -> np.ndarray:
    """z + strength * vector, added to every row of z (d,) or (n, d): float32 with z's shape.

    `vector` (d,) comes from attribute_vector; a negative strength removes the attribute instead.
    """
    z = _latents("z", z, (1, 2), "a latent vector (d,) or a batch of them (n, d)")
    vector = _latents("vector", vector, (1,), "a 1-D attribute vector (d,), as attribute_vector returns")
    if z.shape[-1] != len(vector):
        raise ValueError(f"z has latent dimension {z.shape[-1]} but vector has length {len(vector)}; "
                         "compute the vector from latents of the same generator.")
    strength = _check_real("strength", strength)
    if not math.isfinite(strength):
        raise ValueError(f"strength must be a finite number; got {strength}.")
    return (z + strength * vector).astype(np.float32)
