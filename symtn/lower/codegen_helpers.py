"""Source text of the helper functions a generated module may define (emitted only when used).

``{xp}`` in the numpy helpers stands for the array module (``numpy`` or ``jax.numpy``).
"""

from __future__ import annotations

NUMPY_HELPERS = {
    "_sliced_einsum": '''
def _sliced_einsum(eq, sliced, path, *ops):
    """The einsum ``eq`` one slice at a time: the labels ``sliced`` are fixed to each of their
    values in turn and the slices' contractions (along ``path``) summed or placed in the output,
    so no intermediate holds the sliced labels (chosen at generation time to bound its size)."""
    ins, out = eq.split("->")
    terms = ins.split(",")
    sizes = {{c: op.shape[k] for t, op in zip(terms, ops) for k, c in enumerate(t)}}
    sub = ",".join("".join(c for c in t if c not in sliced) for t in terms)
    sub += "->" + "".join(c for c in out if c not in sliced)
    result = numpy.zeros(tuple(sizes[c] for c in out), dtype=numpy.result_type(*ops))
    for idx in numpy.ndindex(*(sizes[c] for c in sliced)):
        fix = dict(zip(sliced, idx))
        parts = [op[tuple(fix.get(c, slice(None)) for c in t)] for t, op in zip(terms, ops)]
        result[tuple(fix.get(c, slice(None)) for c in out)] += numpy.einsum(
            sub, *parts, optimize=["einsum_path", *path]
        )
    return result
''',
    "_sliced_contract": '''
_SLICED = {{}}
"""(equation, input shapes, limit) -> the cotengra tree that slices it (None: not needed)."""


def _sliced_contract(eq, path, *ops):
    """The einsum ``eq`` along ``path``; when an intermediate of the path would be above
    MEMORY_LIMIT, cotengra's slicer (imported only then) picks labels for the actual sizes, and
    the slices are contracted one at a time with every intermediate under the limit. Raises
    MemoryLimitError (E310) when cotengra is missing or slicing cannot bring it under."""
    limit = MEMORY_LIMIT if MEMORY_LIMIT is not None else _available_memory() // 2
    key = (eq, tuple(op.shape for op in ops), limit)
    if key not in _SLICED:
        _SLICED[key] = _slice_tree(eq, path, ops, int(limit) // _ITEMSIZE)
    tree = _SLICED[key]
    if tree is None:
        return {xp}.einsum(eq, *ops, optimize=["einsum_path", *path])
    return tree.contract(list(ops))


def _slice_tree(eq, path, ops, entries):
    """A cotengra tree following ``path``, sliced to ``entries`` per intermediate (None when
    the path fits unsliced)."""
    try:
        import cotengra
    except ImportError:
        cotengra = None
    ins, out = eq.split("->")
    inputs = [tuple(t) for t in ins.split(",")]
    sizes = {{c: n for t, op in zip(inputs, ops) for c, n in zip(t, op.shape)}}
    if cotengra is None:
        raise MemoryLimitError(
            f"E310: the contraction {{eq}} (sizes {{sizes}}) needs slicing to stay under the memory "
            "limit, which needs cotengra (pip install cotengra); or raise MEMORY_LIMIT"
        )
    tree = cotengra.ContractionTree.from_path(inputs, tuple(out), sizes, path=[list(p) for p in path])
    if tree.max_size() <= entries:
        return None
    tree = tree.slice(target_size=entries, seed=0)
    if tree.max_size() > entries:
        raise MemoryLimitError(
            f"E310: the contraction {{eq}} (sizes {{sizes}}) still needs an intermediate of "
            f"{{_bytes(int(tree.max_size()) * _ITEMSIZE)}} after slicing over "
            f"[{{', '.join(tree.sliced_inds)}}], above the memory limit of {{_bytes(entries * _ITEMSIZE)}}"
        )
    return tree
''',
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
    "_exp_shifted": '''
def _exp_shifted(x, axes):
    """exp(x - m), its sum over ``axes`` and m, the maximum over ``axes`` (kept legs apart).

    log(sum) + m is logsumexp(x). A network with as many factors exp(x) as factors
    1 / sum(exp(x)) (on the same kept legs) has the same value with both shifted by m,
    and then nothing overflows.
    """
    m = {xp}.max(x, axis=axes, keepdims=True)
    m = {xp}.where({xp}.isfinite(m), m, 0.0)
    e = {xp}.exp(x - m)
    return e, {xp}.sum(e, axis=axes), {xp}.squeeze(m, axis=axes)
''',
    "_argext": '''
def _argext(x, axes, fn):
    """One-hot of the arg-max/min over ``axes`` (ties share the weight)."""
    hit = (x == fn(x, axis=axes, keepdims=True)).astype(x.dtype)
    return hit / {xp}.sum(hit, axis=axes, keepdims=True)
''',
    "_logdet": '''
def _logdet(m):
    """log det of the last two axes (nan for a negative determinant, as the evaluator)."""
    sign, logabs = {xp}.linalg.slogdet(m)
    return {xp}.where(sign >= 0, logabs, {xp}.nan)
''',
    "_tiled_sum": '''
def _tiled_sum(terms, block):
    """``c1 * x1 + c2 * x2 + ...`` of 2-D arrays, some of them transposed views, tile by tile.

    Each array is viewed as (block x block) tiles visited in one order, so the rows a transposed
    operand reads stay in cache (a plain ``a + b.T`` strides through all of ``b`` per row).
    Terms are added left to right, as the plain expression would, so values are identical.
    """
    n0, n1 = terms[0][1].shape
    m0, m1 = n0 - n0 % block, n1 - n1 % block
    out = {xp}.empty((n0, n1), dtype=DTYPE)
    for rows, cols in ((slice(m0, None), slice(None)), (slice(0, m0), slice(m1, None))):
        edge = None
        for c, x in terms:
            v = x[rows, cols] if c == 1 else c * x[rows, cols]
            edge = v if edge is None else edge + v
        out[rows, cols] = edge

    def tiles(a):
        return a[:m0, :m1].reshape(m0 // block, block, m1 // block, block).transpose(0, 2, 1, 3)

    acc, tmp = tiles(out), None
    (c0, x0), rest = terms[0], terms[1:]
    if c0 == 1 and rest and rest[0][0] in (1, -1):
        op = {xp}.add if rest[0][0] == 1 else {xp}.subtract
        op(tiles(x0), tiles(rest[0][1]), out=acc)
        rest = rest[1:]
    else:
        {xp}.multiply(tiles(x0), c0, out=acc)
    for c, x in rest:
        if c in (1, -1):
            ({xp}.add if c == 1 else {xp}.subtract)(acc, tiles(x), out=acc)
        else:
            tmp = tiles({xp}.empty_like(out)) if tmp is None else tmp
            {xp}.multiply(tiles(x), c, out=tmp)
            {xp}.add(acc, tmp, out=acc)
    return out
''',
    "_erf": """
_erf = numpy.vectorize(math.erf, otypes=[DTYPE])
""",
}

TORCH_HELPERS = {
    "_exp_shifted": '''
def _exp_shifted(x, axes):
    """exp(x - m), its sum over ``axes`` and m, the maximum over ``axes`` (kept legs apart)."""
    m = torch.amax(x, dim=axes, keepdim=True)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    e = torch.exp(x - m)
    return e, torch.sum(e, dim=axes), torch.squeeze(m, dim=axes)
''',
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

JAX_X64 = '''
def _float64(fn):
    """Run ``fn`` with jax's 64-bit mode on for this call only when DTYPE is float64 (jax
    computes in float32 by default; the module never changes the global setting)."""
    if DTYPE != jax.numpy.float64:
        return fn

    @functools.wraps(fn)
    def call(*args):
        if hasattr(jax, "enable_x64"):
            with jax.enable_x64(True):
                return fn(*args)
        from jax.experimental import enable_x64

        with enable_x64():
            return fn(*args)

    return call
'''
