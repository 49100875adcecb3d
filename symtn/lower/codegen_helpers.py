"""Source text of the helper functions a generated module may define (emitted only when used).

``{xp}`` in the numpy helpers stands for the array module (``numpy`` or ``jax.numpy``).
"""

from __future__ import annotations

NUMPY_HELPERS = {
    "_logsumexp": '''
def _logsumexp(x, axes, keepdims=False):
    """log(sum(exp(x))) over ``axes``, with the maximum subtracted first (stable)."""
    m = {xp}.max(x, axis=axes, keepdims=True)
    m = {xp}.where({xp}.isfinite(m), m, 0.0)
    s = {xp}.log({xp}.sum({xp}.exp(x - m), axis=axes, keepdims=True)) + m
    return s if keepdims else {xp}.squeeze(s, axis=axes)
''',
    "_softmax": '''
def _softmax(x, axes):
    """exp(x) / sum(exp(x)) over ``axes`` (stable: exp(x - logsumexp(x)))."""
    return {xp}.exp(x - _logsumexp(x, axes, keepdims=True))
''',
    "_argext": '''
def _argext(x, axes, fn):
    """One-hot of the arg-max/min over ``axes`` (ties share the weight)."""
    hit = (x == fn(x, axis=axes, keepdims=True)).astype(x.dtype)
    return hit / {xp}.sum(hit, axis=axes, keepdims=True)
''',
    "_logdet": '''
def _logdet(m):
    """log det of the last two axes (complex log for a negative determinant)."""
    sign, logabs = {xp}.linalg.slogdet(m)
    return {xp}.where(sign > 0, logabs, {xp}.log(sign + 0j).real + logabs)
''',
    "_erf": """
_erf = numpy.vectorize(math.erf, otypes=[float])
""",
}

TORCH_HELPERS = {
    "_softmax": '''
def _softmax(x, axes):
    """exp(x) / sum(exp(x)) over ``axes`` (stable: exp(x - logsumexp(x)))."""
    return torch.exp(x - torch.logsumexp(x, dim=axes, keepdim=True))
''',
    "_argext": '''
def _argext(x, axes, fn):
    """One-hot of the arg-max/min over ``axes`` (ties share the weight)."""
    hit = (x == fn(x, dim=axes, keepdim=True)).to(x.dtype)
    return hit / torch.sum(hit, dim=axes, keepdim=True)
''',
}
