"""Generated modules (symtn.codegen / symtn.compile / `symtn codegen|grad|plan`).

Every binding of every bundled and shared example is generated, imported and compared with
``symtn.evaluate``; gradients of every scalar binding are compared with central finite
differences of the generated loss itself.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp

import symtn
from symtn.cli import main
from symtn.cli_codegen import gradient_bindings
from symtn.errors import NoRuleError
from symtn.ir import algebra as A
from symtn.lower.codegen import generate, sanitize
from symtn.lower.sizes import node_symbols
from tests.conftest import ROOT, corpus

EXAMPLES = corpus("examples") + sorted((ROOT / "symtn" / "examples").glob("*.stn"))
SIZE = 3


def _setup(prog: symtn.Program) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """Every size symbol bound to SIZE, and random inputs of those sizes."""
    syms: dict[str, sp.Symbol] = {}
    for node in [*prog.bindings.values(), *prog.tensors.values()]:
        syms.update(node_symbols(node))
    sizes = {name: SIZE for name in syms}
    subs = {sym: SIZE for sym in syms.values()}
    rng = np.random.default_rng(7)
    vals = {
        name: 0.5 * rng.standard_normal([int(s.subs(subs)) for _, s in t.slots])
        for name, t in prog.tensors.items()
    }
    for name, t in prog.tensors.items():  # declared symmetries hold for the inputs
        a = vals[name]
        if a.ndim == 2 and t.fact("symmetric") is not None:
            vals[name] = (a + a.T) / 2
        elif a.ndim == 2 and t.fact("antisymmetric") is not None:
            vals[name] = (a - a.T) / 2
    return sizes, vals


def _call(fn: Any, vals: dict[str, np.ndarray], params: dict[str, str] | None = None) -> Any:
    """Call a generated function with inputs by (sanitised) parameter name."""
    names = list(inspect.signature(fn).parameters)
    back = {v: k for k, v in (params or {}).items()}
    return fn(*[vals[back.get(p, p)] for p in names])


def _runnable(prog: symtn.Program, name: str) -> bool:
    try:
        generate(prog, [name], sizes=_setup(prog)[0])
    except NoRuleError:  # opaque user functions (`f`, `jac[f]`) have no numeric rule anywhere
        return False
    return True


CASES = [
    pytest.param(path, name, id=f"{path.stem}:{name}")
    for path in EXAMPLES
    for name in symtn.load(path).bindings
]


@pytest.mark.parametrize(("path", "name"), CASES)
def test_example_binding_matches_evaluate(path: Path, name: str) -> None:
    prog = symtn.load(path)
    sizes, vals = _setup(prog)
    if not _runnable(prog, name):
        with pytest.raises(NoRuleError):
            symtn.evaluate(prog.bindings[name], vals, sizes=sizes)
        return
    fn = symtn.compile(prog, [name], sizes=sizes)
    ast.parse(fn.source)
    assert "symtn" not in fn.source.split('"""', 2)[2]  # no run-time dependency on symtn
    got = np.asarray(_call(fn, vals))
    want = symtn.evaluate(prog.bindings[name], vals, order=prog.order(name), sizes=sizes)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11, equal_nan=True)


GRAD_CASES = [
    pytest.param(path, name, id=f"{path.stem}:{name}")
    for path in EXAMPLES
    for name, node in symtn.load(path).bindings.items()
    if not node.sig and any(not t.is_const for t in symtn.load(path).tensors.values())
]


@pytest.mark.parametrize(("path", "loss"), GRAD_CASES)
def test_generated_gradients_match_finite_differences(path: Path, loss: str) -> None:
    prog = symtn.load(path)
    if not _runnable(prog, loss):
        return
    sizes, vals = _setup(prog)
    wrt = [
        t.name
        for t in prog.tensors.values()
        if not t.facts  # symmetric / isometry variables have projected derivatives
        and t.name in {x.name for x in _tensors(prog.bindings[loss])}
    ]
    if not wrt:
        return
    nodes, orders = gradient_bindings(prog, loss, wrt)
    ns = symtn.compile(nodes, None, sizes=sizes, orders=orders)
    outs = _call(ns.all, vals) if len(nodes) > 1 else (_call(ns, vals),)
    f0 = float(outs[0])
    if not np.isfinite(f0):
        return
    rng = np.random.default_rng(3)
    for w, g in zip(wrt, outs[1:], strict=True):
        v = rng.standard_normal(vals[w].shape)
        eps = 1e-6
        plus = dict(vals, **{w: vals[w] + eps * v})
        minus = dict(vals, **{w: vals[w] - eps * v})
        fd = (float(_call(ns.__dict__[loss], plus)) - float(_call(ns.__dict__[loss], minus))) / (2 * eps)
        np.testing.assert_allclose(np.sum(np.asarray(g) * v), fd, rtol=1e-4, atol=1e-6, err_msg=w)


def _tensors(node: symtn.Node) -> list[Any]:
    from symtn.ir.walk import tensors

    return tensors(node)


def test_loss_and_gradients_share_the_forward_pass() -> None:
    prog = symtn.load(ROOT / "symtn" / "examples" / "digits_mlp.stn")
    names = ["loss", "gW1", "gb1", "gW2", "gb2"]
    text, fnames, steps = generate(prog, names, sizes={"batch": 8})
    combined = steps[fnames["*"]]
    separate = sum(len(steps[fnames[n]]) for n in names)
    assert len(combined) < separate
    body = text.split(f"def {fnames['*']}(")[1]
    assert body.count("numpy.tanh(") == 1  # the hidden layer is computed once for all five outputs


def test_sanitised_identifiers() -> None:
    lam = A.tensor("lambda", ("i", 3))
    sm = A.tensor("sum", ("i", 3), ("j", 2))
    t1 = A.tensor("t_1", ("j", 2))
    np_ = A.tensor("numpy", ("i", 3))
    nodes = {"class": sm @ t1 + np_ * 2, "print": A.elementwise(sp.exp(A.X0), lam @ sm)}
    ns = symtn.compile(nodes)
    tree = ast.parse(ns.source)
    funcs = [f for f in tree.body if isinstance(f, ast.FunctionDef) and not f.name.startswith("_")]
    params = {a.arg for f in funcs for a in f.args.args}
    assert params == {"lambda_", "sum_", "t_1_", "numpy_"}
    assert {sanitize(x) for x in ("lambda", "sum", "λ", "2x")} == {"lambda_", "sum_", "u03bb", "v_2x"}
    rng = np.random.default_rng(0)
    vals = {"lambda": rng.random(3), "sum": rng.random((3, 2)), "t_1": rng.random(2), "numpy": rng.random(3)}
    params = {"lambda": "lambda_", "sum": "sum_", "t_1": "t_1_", "numpy": "numpy_"}
    got = _call(ns.class_, vals, params)
    np.testing.assert_allclose(got, vals["sum"] @ vals["t_1"] + 2 * vals["numpy"])
    got = _call(ns.print_, vals, params)
    np.testing.assert_allclose(got, np.exp(vals["lambda"] @ vals["sum"]))


def test_copy_tensors_are_never_materialised() -> None:
    x, y, z = (A.tensor(n, ("i", 50)) for n in "xyz")
    e = A.sum_legs(A.hadamard(A.hadamard(x, y), z), ["i"])  # a copy tensor of order 3 joins x, y, z
    text, fnames, steps = generate({"e": e}, ["e"])
    eqs = [s.equation for s in steps[fnames["e"]]]
    assert eqs and all(eq.count("a") >= 2 or eq == "a->" for eq in eqs)  # repeated labels
    assert all(len(term) == 1 for eq in eqs for term in eq.split("->")[0].split(","))  # vectors only
    assert "eye(" not in text and "ones(" not in text
    rng = np.random.default_rng(0)
    v = {n: rng.random(50) for n in "xyz"}
    np.testing.assert_allclose(_call(symtn.compile(e), v), np.sum(v["x"] * v["y"] * v["z"]))


def test_logsumexp_is_stable() -> None:
    x = A.tensor("x", ("i", 4))
    node = symtn.logsumexp(x, "i")
    fn = symtn.compile(node)
    assert "_logsumexp" in fn.source or "_exp_shifted" in fn.source  # a max-shifting helper
    np.testing.assert_allclose(fn(np.array([1000.0, 1000.0, 0.0, -5.0])), 1000 + np.log(2), rtol=1e-12)


def test_compile_single_binding_keeps_source() -> None:
    x = A.tensor("x", ("i", 3))
    fn = symtn.compile({"sq": A.hadamard(x, x)})
    assert callable(fn) and fn.source.startswith('"""Generated by symtn')
    np.testing.assert_allclose(fn(np.arange(3.0)), [0.0, 1.0, 4.0])
    assert symtn.codegen({"sq": A.hadamard(x, x)}) == fn.source


def test_size_no_input_carries_is_an_error() -> None:
    prog = symtn.parse("dim n, m\nx: [i: n]\ny = x * ones[j: m]")
    with pytest.raises(symtn.EvaluationError, match="size.*m") as err:
        symtn.codegen(prog, ["y"])
    assert err.value.code == "E300" and "--size m=" in str(err.value)
    fn = symtn.compile(prog, ["y"], sizes={"m": 2})  # given: specialised on m, generic in n
    np.testing.assert_allclose(fn(np.arange(3.0)), np.outer(np.arange(3.0), np.ones(2)))


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_optional_backends(backend: str) -> None:
    prog = symtn.load(ROOT / "symtn" / "examples" / "digits_mlp.stn")
    names = ["loss", "gW1", "gb2"]
    text = symtn.codegen(prog, names, backend, sizes={"batch": 8})
    ast.parse(text)
    assert f"import {backend}" in text and "import numpy" not in text
    assert f"{backend}.numpy.einsum(" in text if backend == "jax" else "torch.einsum(" in text
    if importlib.util.find_spec(backend) is None:  # optional extra absent: the source is all we check
        return
    rng = np.random.default_rng(1)
    vals = {k: rng.standard_normal(_shape(prog, k)) for k in prog.tensors}
    ns = symtn.compile(prog, names, backend, sizes={"batch": 8})
    got = [np.asarray(o) for o in _call(ns.all, vals)]
    want = symtn.lower.evaluate_many(
        {n: prog.bindings[n] for n in names}, vals, orders={n: prog.order(n) for n in names}
    )
    for g, n in zip(got, names, strict=True):
        np.testing.assert_allclose(g, want[n], rtol=1e-9, atol=1e-12)


def _shape(prog: symtn.Program, name: str) -> tuple[int, ...]:
    return tuple(8 if str(s) == "batch" else int(s) for _, s in prog.tensors[name].slots)


def _import(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


PROGRAM = """\
dim b, inp = 3, hid = 4
x: [b, inp] const
W: [hid, inp]
c: [hid]
h = tanh(W @ x + c)
loss = sum(h^2) / |b|
"""


def test_cli_codegen_grad_and_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prog = tmp_path / "p.stn"
    prog.write_text(PROGRAM)
    rng = np.random.default_rng(2)
    vals = {"x": rng.standard_normal((5, 3)), "W": rng.standard_normal((4, 3)), "c": rng.standard_normal(4)}
    out = tmp_path / "m.py"
    assert main(["codegen", str(prog), "h", "loss", "--size", "b=5", "-o", str(out)]) == 0
    mod = _import(out)
    h = np.tanh(vals["W"] @ vals["x"].T + vals["c"][:, None])
    np.testing.assert_allclose(_call(mod.h, vals), h)
    np.testing.assert_allclose(_call(mod.loss, vals), np.sum(h**2) / 5)
    gout = tmp_path / "g.py"
    assert main(["grad", str(prog), "--of", "loss", "--wrt", "W,c", "--size", "b=5", "-o", str(gout)]) == 0
    g = _import(gout)
    dz = 2 * h * (1 - h**2) / 5
    np.testing.assert_allclose(_call(g.d_loss_d_W, vals), dz @ vals["x"])
    loss, gw, gc = _call(g.loss_and_d_loss_d_W_and_d_loss_d_c, vals)
    np.testing.assert_allclose(gc, dz.sum(axis=1))
    capsys.readouterr()
    assert main(["plan", str(prog), "loss", "--size", "b=5"]) == 0
    printed = capsys.readouterr().out
    assert "flops" in printed and "bytes" in printed and "->" in printed
    assert main(["codegen", str(prog), "nope", "--size", "b=5"]) == 2
