"""Shape-generic generated modules: sizes read from the inputs, shape checks, dtype, imports,
the run-time memory bound, lists of expressions and progress messages."""

from __future__ import annotations

import ast
import importlib.util
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp

import symtn
from symtn.cli import main
from symtn.cli_codegen import gradient_bindings
from symtn.lower.backprop import forward_mode
from symtn.lower.codegen import generate
from symtn.lower.codegen_module import Progress
from symtn.lower.sizes import node_symbols
from tests.test_codegen import EXAMPLES, GRAD_CASES, _call, _import, _runnable, _tensors

MLP = """\
dim B, d = 5, h
x: [B, d]
W: [h, d]
c: [h]
z = tanh(W @ x + c)
loss = sum(z^2) / |B|
"""

FIXED = """\
dim B = 4, d = 3
x: [B, d]
w: [d]
y = x @ w
"""


def _mlp(b: int, h: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal((b, 5)), "W": rng.standard_normal((h, 5)), "c": rng.standard_normal(h)}


def _imports(text: str) -> set[str]:
    tree = ast.parse(text)
    return {a.name for node in tree.body if isinstance(node, ast.Import) for a in node.names}


def test_generic_module_runs_at_two_sizes() -> None:
    prog = symtn.parse(MLP)
    ns = symtn.compile(prog, ["z", "loss"])
    for b, h in ((3, 4), (11, 2)):
        v = _mlp(b, h)
        z = np.tanh(np.einsum("hd,Bd->hB", v["W"], v["x"]) + v["c"][:, None])
        got_z, got_loss = ns.all(v["x"], v["W"], v["c"])
        want_z = np.einsum("hB->" + "".join(prog.order("z")), z)
        np.testing.assert_allclose(got_z, want_z, rtol=1e-12)
        np.testing.assert_allclose(got_loss, np.sum(z**2) / b, rtol=1e-12)
        want = symtn.evaluate(prog.bindings["z"], v, order=prog.order("z"))
        np.testing.assert_allclose(ns.z(v["x"], v["W"], v["c"]), want, rtol=1e-12)


def test_fixed_size_is_checked() -> None:
    fn = symtn.compile(symtn.parse(FIXED), ["y"])
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((4, 3)), rng.standard_normal(3)
    np.testing.assert_allclose(fn(x, w), x @ w)
    with pytest.raises(ValueError, match=r"leg B of input x has size 2 but is fixed to 4"):
        fn(x[:2], w)  # a batch of 2 for `dim B = 4`: an error, not wrong numbers
    with pytest.raises(ValueError, match=r"input w has 2 axes .* declared with 1 legs \[d\]"):
        fn(x, np.ones((3, 1)))


def test_symbolic_sizes_must_agree_between_inputs() -> None:
    fn = symtn.compile(symtn.parse(MLP), ["z"])
    v = _mlp(3, 4)
    with pytest.raises(ValueError, match=r"leg h of input c has size 6 but size h is 4 \(leg h of input W\)"):
        fn(v["x"], v["W"], np.ones(6))
    with pytest.raises(ValueError, match=r"leg d of input W has size 4 but is fixed to 5"):
        fn(v["x"], v["W"][:, :4], v["c"])


def test_compound_size_is_read_and_checked() -> None:
    prog = symtn.parse("dim B, m, n\nx: [B, k: m * n]\nA: [i: m, j: n]\ny = x[k -> (i, j)] * A")
    fn = symtn.compile(prog, ["y"])
    rng = np.random.default_rng(2)
    for b, m, n in ((2, 3, 4), (5, 2, 7)):
        x, a = rng.standard_normal((b, m * n)), rng.standard_normal((m, n))
        out = "".join({"B": "b", "i": "i", "j": "j"}[leg] for leg in prog.order("y"))
        want = np.einsum(f"bij,ij->{out}", x.reshape(b, m, n), a)
        np.testing.assert_allclose(fn(x, a), want)
    with pytest.raises(ValueError, match=r"leg k of input x has size 13 but is declared m\*n = 12"):
        fn(rng.standard_normal((2, 13)), rng.standard_normal((3, 4)))


def test_given_size_specialises() -> None:
    fn = symtn.compile(symtn.parse(MLP), ["loss"], sizes={"B": 3})
    v = _mlp(3, 4)
    z = np.tanh(v["W"] @ v["x"].T + v["c"][:, None])
    np.testing.assert_allclose(fn(v["x"], v["W"], v["c"]), np.sum(z**2) / 3)
    w = _mlp(3, 7)  # h is still read from the inputs
    z = np.tanh(w["W"] @ w["x"].T + w["c"][:, None])
    np.testing.assert_allclose(fn(w["x"], w["W"], w["c"]), np.sum(z**2) / 3)
    with pytest.raises(ValueError, match=r"size B = 3 at generation time"):
        fn(*_mlp(4, 4).values())


def _example_inputs(prog: symtn.Program, size: int) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    syms: dict[str, sp.Symbol] = {}
    for node in [*prog.bindings.values(), *prog.tensors.values()]:
        syms.update(node_symbols(node))
    subs = {s: size for s in syms.values()}
    rng = np.random.default_rng(7)
    vals = {
        k: 0.5 * rng.standard_normal([int(s.subs(subs)) for _, s in t.slots]) for k, t in prog.tensors.items()
    }
    for k, t in prog.tensors.items():
        a = vals[k]
        if a.ndim == 2 and t.fact("symmetric") is not None:
            vals[k] = (a + a.T) / 2
        elif a.ndim == 2 and t.fact("antisymmetric") is not None:
            vals[k] = (a - a.T) / 2
    return dict.fromkeys(syms, size), vals


GENERIC = [
    pytest.param(path, id=path.stem)
    for path in EXAMPLES
    if any(node_symbols(n) for n in symtn.load(path).bindings.values())
]


@pytest.mark.parametrize("path", GENERIC)
def test_every_example_binding_is_shape_generic(path: Path) -> None:
    prog = symtn.load(path)
    for name in prog.bindings:
        if not _runnable(prog, name):
            continue
        try:
            fn = symtn.compile(prog, [name])  # no sizes: read from the inputs
        except symtn.SymtnError as err:  # a size no input carries (e.g. a binding of deltas only)
            assert err.code == "E300" and "no input leg has exactly that size" in str(err), name
            assert not _tensors(prog.bindings[name]) or name in {"P", "match"}, name
            continue
        for size in (3, 5):
            sizes, vals = _example_inputs(prog, size)
            want = symtn.evaluate(prog.bindings[name], vals, order=prog.order(name), sizes=sizes)
            got = np.asarray(_call(fn, vals))
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11, equal_nan=True, err_msg=name)


def test_example_gradients_are_shape_generic() -> None:
    checked, refused = 0, []
    for case in GRAD_CASES:
        path, loss = case.values
        prog = symtn.load(path)
        if not _runnable(prog, loss):
            continue
        names = {x.name for x in _tensors(prog.bindings[loss])}
        wrt = [t.name for t in prog.tensors.values() if not t.facts and t.name in names]
        if not wrt:
            continue
        nodes, orders = gradient_bindings(prog, loss, wrt)
        try:
            ns = symtn.compile(nodes, None, orders=orders)
        except symtn.SymtnError as err:
            refused.append(f"{path.name}:{loss}: {err}")
            continue
        for size in (3, 5):
            sizes, vals = _example_inputs(prog, size)
            outs = _call(ns.all, vals) if len(nodes) > 1 else (_call(ns, vals),)
            with forward_mode():  # the reference: the derivatives as diff wrote them
                want = symtn.lower.evaluate_many(nodes, vals, orders=orders, sizes=sizes)
            for (key, w), g in zip(want.items(), outs, strict=True):
                np.testing.assert_allclose(np.asarray(g), w, rtol=1e-8, atol=1e-10, err_msg=f"{loss} {key}")
        checked += 1
    assert checked >= 10, refused
    assert not refused, refused


def test_numpy_module_imports_only_numpy() -> None:
    text = symtn.codegen(symtn.parse(MLP), ["z", "loss"])
    assert _imports(text) <= {"numpy", "os", "math", "functools"}
    assert "opt_einsum" not in text and "symtn" not in text.split('"""', 2)[2]


def test_dtype_float32() -> None:
    prog = symtn.parse(MLP)
    ns = symtn.compile(prog, ["z", "loss"], dtype="float32")
    assert "DTYPE = numpy.float32" in ns.source
    v = _mlp(6, 3)
    z, loss = ns.all(v["x"], v["W"], v["c"])
    assert z.dtype == np.float32 and np.asarray(loss).dtype == np.float32
    want = np.tanh(v["W"] @ v["x"].T + v["c"][:, None])
    np.testing.assert_allclose(np.sum(np.asarray(z, dtype=float) ** 2) / 6, np.sum(want**2) / 6, rtol=1e-5)
    np.testing.assert_allclose(loss, np.sum(want**2) / 6, rtol=1e-5)
    assert ns.all(v["x"], v["W"], v["c"])[1].dtype == np.float32
    assert symtn.compile(prog, ["loss"])(v["x"], v["W"], v["c"]).dtype == np.float64
    with pytest.raises(symtn.SymtnError, match="float16"):
        symtn.codegen(prog, ["loss"], dtype="float16")


def test_every_example_binding_stays_float32() -> None:
    checked = 0
    for path in EXAMPLES:
        prog = symtn.load(path)
        for name in prog.bindings:
            if not _runnable(prog, name):
                continue
            try:
                fn = symtn.compile(prog, [name], dtype="float32")
            except symtn.SymtnError as err:  # sizes no input carries; see the two tests above
                assert err.code == "E300" and "no input leg has exactly that size" in str(err), name
                continue
            sizes, vals = _example_inputs(prog, 3)
            got = np.asarray(_call(fn, vals))
            assert got.dtype == np.float32, name
            want = symtn.evaluate(prog.bindings[name], vals, order=prog.order(name), sizes=sizes)
            np.testing.assert_allclose(got, want, rtol=2e-3, atol=1e-4, equal_nan=True, err_msg=name)
            checked += 1
    assert checked >= 40


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed (optional)")
def test_jax_module_keeps_x64_setting_and_dtype() -> None:
    import jax

    before = bool(jax.config.jax_enable_x64)
    prog = symtn.parse(MLP)
    ns = symtn.compile(prog, ["z", "loss"], "jax")
    assert "jax_enable_x64" not in ns.source
    assert bool(jax.config.jax_enable_x64) == before
    for b, h in ((3, 4), (7, 2)):
        v = _mlp(b, h)
        z, loss = ns.all(v["x"], v["W"], v["c"])
        want = np.tanh(v["W"] @ v["x"].T + v["c"][:, None])
        assert np.asarray(loss).dtype == np.float64
        np.testing.assert_allclose(loss, np.sum(want**2) / b, rtol=1e-12)
    assert bool(jax.config.jax_enable_x64) == before
    ns32 = symtn.compile(prog, ["loss"], "jax", dtype="float32")
    assert np.asarray(ns32(v["x"], v["W"], v["c"])).dtype == np.float32
    with pytest.raises(ValueError, match="leg d of input x"):
        ns.z(v["x"][:, :2], v["W"], v["c"])


def test_torch_source_is_generic() -> None:
    text = symtn.codegen(symtn.parse(MLP), ["loss"], "torch", dtype="float32")
    assert _imports(text) <= {"torch", "os", "math", "functools"} and "DTYPE = torch.float32" in text
    assert "n_B = x.shape[0]" in text and "_sizes(" in text


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed (optional)")
def test_torch_module_runs_at_two_sizes() -> None:
    fn = symtn.compile(symtn.parse(MLP), ["loss"], "torch")
    for b in (2, 5):
        v = _mlp(b, 3)
        want = np.sum(np.tanh(v["W"] @ v["x"].T + v["c"][:, None]) ** 2) / b
        np.testing.assert_allclose(float(fn(*v.values())), want, rtol=1e-12)
    with pytest.raises(ValueError, match="leg d of input x"):
        fn(v["x"][:, :2], v["W"], v["c"])


CUBE = """
dim N
leg a, b, c, d, e, f : N
T1: [a, b, c]
T2: [c, d, e]
T3: [e, f, a]
R = T1 @ T2 @ T3
"""


def test_memory_limit_slices_at_generation_or_at_run_time() -> None:
    # at N = 24 the pair T1 T2 makes an [a, b, d, e] intermediate of 2.6 MB; R is 110 KB
    prog = symtn.parse(CUBE)
    rng = np.random.default_rng(0)
    t = [rng.standard_normal((24, 24, 24)) for _ in range(3)]
    want = np.einsum("abc,cde,efa->bdf", *t)
    sliced = symtn.compile(prog, ["R"], sizes={"N": 24}, memory_limit="512KB")
    assert "_sliced_einsum(" in sliced.source and sliced.module.MEMORY_LIMIT == 512_000
    np.testing.assert_allclose(sliced(*t), want, rtol=1e-12, atol=1e-12)  # passes the run-time check
    generic = symtn.compile(prog, ["R"], memory_limit="512KB")  # sizes unknown: sliced at run time
    small = [x[:6, :6, :6] for x in t]
    np.testing.assert_allclose(generic(*small), np.einsum("abc,cde,efa->bdf", *small), rtol=1e-12)
    assert not generic.module._SLICED  # small inputs: the plain plan, nothing sliced
    np.testing.assert_allclose(generic(*t), want, rtol=1e-12, atol=1e-12)
    trees = [tree for tree in generic.module._SLICED.values() if tree is not None]
    assert trees and all(tree.nslices > 1 for tree in trees)
    unsliced = max(tree.max_size() for tree in (tr.unslice_all() for tr in trees))
    assert unsliced * 8 == 2_654_208  # the [a, b, d, e] pair, above the limit before slicing
    assert max(tree.max_size() for tree in trees) * 8 <= 512_000  # every slice's intermediates fit
    generic.module.MEMORY_LIMIT = 100_000  # below R itself (110,592 bytes): slicing cannot help
    with pytest.raises(
        MemoryError, match=r"binding `R` needs an intermediate with legs \[.*\] of 110,592 bytes .* "
        r"above the memory limit of 100,000 bytes",
    ):
        generic(*t)


def test_torch_module_refuses_above_the_limit() -> None:
    text = symtn.codegen(symtn.parse(CUBE), ["R"], "torch", memory_limit="512KB")
    assert "_sliced_contract" not in text  # no run-time slicing outside numpy: E310 instead


def test_list_of_expressions() -> None:
    x = symtn.tensor("x", i=3)
    w = symtn.tensor("w", i=3)
    loss = symtn.sum(x * w * w)
    g = symtn.diff(loss, w)
    ns = symtn.compile([loss, g])
    xv, wv = np.arange(3.0), np.array([1.0, -2.0, 0.5])
    got_loss, got_g = ns.all(x=xv, w=wv)  # parameters of undeclared tensors: sorted by name
    np.testing.assert_allclose(got_loss, np.sum(xv * wv**2))
    np.testing.assert_allclose(got_g, 2 * xv * wv)
    np.testing.assert_allclose(ns.value_1(w=wv, x=xv), 2 * xv * wv)
    assert "def value_0(" in symtn.codegen((loss, g))
    with pytest.raises(symtn.SymtnError, match="list of expressions"):
        symtn.codegen([loss, "g"])
    with pytest.raises(symtn.SymtnError, match="not int"):
        symtn.codegen(3)


def test_progress_messages() -> None:
    out = io.StringIO()
    generate(symtn.parse(MLP), ["z", "loss"], progress=Progress(out, after=0.0))
    lines = out.getvalue().splitlines()
    assert "planning z..." in lines and "planning all together: loss (2/2)..." in lines
    quiet = io.StringIO()
    generate(symtn.parse(MLP), ["z"], progress=Progress(quiet))  # under a second: silent
    assert quiet.getvalue() == ""


def test_cli_generic_codegen_grad_and_dtype(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "mlp.stn"
    src.write_text(MLP)
    monkeypatch.setattr(Progress, "__init__", lambda self, stream, after=1.0: _init(self, stream))
    out = tmp_path / "g.py"
    assert main(["grad", str(src), "--of", "loss", "--wrt", "W", "--dtype", "float32", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "planning d_loss_d_W" in err and "differentiating" in err
    mod = _import(out)
    for b in (2, 9):
        v = _mlp(b, 3)
        h = np.tanh(v["W"] @ v["x"].T + v["c"][:, None])
        grad = mod.d_loss_d_W(**v)
        assert grad.dtype == np.float32
        np.testing.assert_allclose(grad, (2 * h * (1 - h**2) / b) @ v["x"], rtol=1e-4, atol=1e-6)
    assert main(["plan", str(src), "loss"]) == 0
    printed = capsys.readouterr().out
    assert "sizes not given, counted at B=509, h=521" in printed


def _init(self: Progress, stream: Any) -> None:
    self.stream, self.after, self.start, self.phase = stream, 0.0, 0.0, "planning"


def test_generic_module_plans_per_size_regime() -> None:
    # inner = E[f g] of two bilinear models (bilinear_digits.stn) generated generic in `hidden`:
    # at 32 units the plan goes through [hidden, hidden] Gram matrices, never the dense
    # [cls, pixel, pixel] interaction tensors (that plan is only the cheaper one for wide layers)
    from symtn.interp import bilinear as bl

    fn = symtn.compile(bl.program(), ["inner"])
    for hidden in (32, 600):
        a, b = bl.init_params(hidden, seed=1), bl.init_params(hidden, seed=2)
        args = (a["W"], a["V"], a["U"], b["W"], b["V"], b["U"])
        qa = np.einsum("ck,ki,kj->cij", a["U"], a["W"], a["V"])
        qb = np.einsum("ck,ki,kj->cij", b["U"], b["W"], b["V"])
        tr = np.einsum("cii->c", qa) * np.einsum("cii->c", qb)
        want = tr + np.einsum("cij,cij->c", qa, qb) + np.einsum("cij,cji->c", qa, qb)  # Wick pairings
        np.testing.assert_allclose(fn(*args), want, rtol=1e-10)
        key = ("inner", tuple(x.shape for x in args), fn.module.MEMORY_LIMIT)
        legs = {legs: n for _, legs, n in fn.module._CHOSEN[key]}
        largest = max(legs.values())
        if hidden == 32:
            assert "cls, pixel, pixel" not in legs and largest == 32 * 32, legs
        else:  # 600 units: the [hidden, pixel, pixel] outer product costs fewer FLOPs
            assert largest == hidden * 64 * 64, legs
