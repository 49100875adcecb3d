"""Tests of the symtn parsing frontend: grammar, AST construction and syntax diagnostics."""

from __future__ import annotations

from pathlib import Path

import pytest
from lark import Lark

from symtn.errors import SymtnSyntaxError
from symtn.frontend import ast
from symtn.frontend.grammar import load_grammar_text
from symtn.frontend.syntax import parse_text

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
EXAMPLE_FILES = sorted((SHARED / "examples").glob("*.stn")) + sorted((SHARED / "bad").glob("*.stn"))


def expr_of(src: str) -> ast.Expr:
    """Parse ``y = src`` and return the right-hand side."""
    (stmt,) = parse_text(f"y = {src}").stmts
    assert isinstance(stmt, ast.Assign)
    return stmt.value


def strip(node: object) -> object:
    """Return a comparable form of an AST node with every position removed."""
    if isinstance(node, tuple):
        return tuple(strip(n) for n in node)
    if hasattr(node, "__dataclass_fields__"):
        fields = {
            k: strip(getattr(node, k))
            for k in node.__dataclass_fields__
            if k not in {"pos", "name_pos", "spelling", "source"}
        }
        return (type(node).__name__, fields)
    return node


def syntax_error(src: str | bytes) -> SymtnSyntaxError:
    with pytest.raises(SymtnSyntaxError) as info:
        parse_text(src)
    return info.value


# ---------------------------------------------------------------- grammar and corpus
def test_grammar_builds_strict() -> None:
    Lark(load_grammar_text(), parser="lalr", strict=True, propagate_positions=True)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_parses(path: Path) -> None:
    program = parse_text(path.read_text(encoding="utf-8"), filename=str(path))
    assert program.stmts


def test_corpus_present_or_skipped() -> None:
    if not SHARED.is_dir():
        pytest.skip("shared/ folder not available")
    assert len(EXAMPLE_FILES) >= 18


def test_empty_program() -> None:
    assert parse_text("").stmts == ()
    assert parse_text("\n\n# only a comment\n;  \n").stmts == ()
    assert parse_text(b"").stmts == ()


# ---------------------------------------------------------------- precedence
def test_unary_minus_binds_looser_than_power() -> None:
    e = expr_of("-x^2")
    assert isinstance(e, ast.Neg)
    assert isinstance(e.expr, ast.BinOp) and e.expr.op == "^"


def test_power_with_negative_exponent() -> None:
    e = expr_of("x^-1")
    assert isinstance(e, ast.BinOp) and e.op == "^"
    assert isinstance(e.right, ast.Neg) and e.right.expr == ast.Num("1", pos=(1, 8, 1, 9))


def test_power_is_right_associative() -> None:
    e = expr_of("x^2^3")
    assert isinstance(e, ast.BinOp) and isinstance(e.right, ast.BinOp) and e.right.op == "^"


def test_products_are_one_left_assoc_level() -> None:
    e = expr_of("2 * A @ x")
    assert isinstance(e, ast.BinOp) and e.op == "@"
    assert isinstance(e.left, ast.BinOp) and e.left.op == "*"
    assert e.left.left == ast.Num("2", pos=(1, 5, 1, 6))
    e = expr_of("X * s @ Y / z")
    assert isinstance(e, ast.BinOp) and e.op == "/"
    assert isinstance(e.left, ast.BinOp) and e.left.op == "@"


def test_sum_looser_than_product() -> None:
    e = expr_of("a + b @ c - d")
    assert isinstance(e, ast.BinOp) and e.op == "-"
    assert isinstance(e.left, ast.BinOp) and e.left.op == "+"
    assert isinstance(e.left.right, ast.BinOp) and e.left.right.op == "@"


def test_projection_is_loosest() -> None:
    e = expr_of("U * s + V -> [i, j]")
    assert isinstance(e, ast.Project)
    assert isinstance(e.expr, ast.BinOp) and e.expr.op == "+"
    assert [item.name for item in e.legs.items if isinstance(item, ast.LegName)] == ["i", "j"]


def test_contract_with_subscript() -> None:
    e = expr_of("q *[e, h] k / 2")
    assert isinstance(e, ast.BinOp) and e.op == "/"
    inner = e.left
    assert isinstance(inner, ast.BinOp) and inner.op == "*[]" and inner.legs is not None
    assert [i.name for i in inner.legs.items if isinstance(i, ast.LegName)] == ["e", "h"]


def test_positions() -> None:
    e = expr_of("W @ x")
    assert e.pos == (1, 5, 1, 10)
    assert isinstance(e, ast.BinOp) and e.right.pos == (1, 9, 1, 10)


# ---------------------------------------------------------------- atoms and leg lists
def test_leg_list_items() -> None:
    e = expr_of("x[(h, w) -> p, (a b) -> q, r -> (u, v: 4), t -> s, s + 1, t - 2, s <= t, k: n]")
    assert isinstance(e, ast.Ref) and len(e.legs) == 1
    merge, merge2, split, rename, off, off2, cmp, sized = e.legs[0].items
    assert isinstance(merge, ast.Merge) and [m.name for m in merge.srcs] == ["h", "w"]
    assert merge.dst.name == "p"
    assert isinstance(merge2, ast.Merge) and [m.name for m in merge2.srcs] == ["a", "b"]
    assert isinstance(split, ast.Split) and split.src.name == "r"
    assert strip(split.dsts[1]) == strip(ast.LegName("v", ast.SizeNum(4)))
    assert split.dsts[1].pos == (1, 41, 1, 45)
    assert isinstance(rename, ast.Rename) and (rename.src.name, rename.dst.name) == ("t", "s")
    assert isinstance(off, ast.Offset) and off.offset == 1 and off.leg.name == "s"
    assert isinstance(off2, ast.Offset) and off2.offset == -2
    assert isinstance(cmp, ast.Compare) and cmp.op == "<="
    assert isinstance(sized, ast.LegName) and strip(sized.size) == strip(ast.SizeName("n"))


def test_constants_are_refs() -> None:
    for src, name in [("delta[t, s + 1]", "delta"), ("iverson[s <= t]", "iverson"), ("ones[i]", "ones")]:
        e = expr_of(src)
        assert isinstance(e, ast.Ref) and e.name == name and len(e.legs) == 1
    e = expr_of("delta[]")
    assert isinstance(e, ast.Ref) and e.legs[0].items == ()


def test_calls() -> None:
    e = expr_of("sum(x)")
    assert isinstance(e, ast.Call) and e.subscript is None and e.name_pos == (1, 5, 1, 8)
    e = expr_of("softmax[s](x)[t -> u]")
    assert isinstance(e, ast.Call) and e.subscript is not None and len(e.relabels) == 1
    e = expr_of("layernorm[d](x, g, b)")
    assert isinstance(e, ast.Call) and len(e.args) == 3
    e = expr_of("sum(x, dim=s)")
    assert isinstance(e, ast.Call) and e.kwargs[0][0] == "dim"
    e = expr_of("f()")
    assert isinstance(e, ast.Call) and e.args == ()


def test_group_sizeof_numbers_and_primes() -> None:
    e = expr_of("(A ⊗ B)[(i, k) -> r]")
    assert isinstance(e, ast.Group) and len(e.relabels) == 1
    assert isinstance(expr_of("(x)"), ast.Group)
    assert strip(expr_of("|e|")) == strip(ast.SizeOf("e"))
    assert expr_of("1e-5") == ast.Num("1e-5", pos=(1, 5, 1, 9))
    assert isinstance(expr_of("0.7978845608"), ast.Num)
    e = expr_of("A' @ H[i, i'']")
    assert isinstance(e, ast.BinOp) and isinstance(e.left, ast.Ref) and e.left.name == "A'"


def test_derivative() -> None:
    e = expr_of("d(f)/d(X[i -> p])")
    assert isinstance(e, ast.Deriv) and e.wrt.name == "X"
    assert isinstance(e.wrt.legs[0].items[0], ast.Rename)
    e = expr_of("d(d(f)/d(x))/d(x)")
    assert isinstance(e, ast.Deriv) and isinstance(e.expr, ast.Deriv)
    e = expr_of("∂(f)/∂(X)[i -> j]")
    assert isinstance(e, ast.Deriv) and len(e.relabels) == 1


def test_d_prefix_is_not_a_derivative() -> None:
    e = expr_of("d_model + dd(x) + d")
    assert isinstance(e, ast.BinOp)
    assert isinstance(e.right, ast.Ref) and e.right.name == "d"
    left = e.left
    assert isinstance(left, ast.BinOp)
    assert left.left == ast.Ref("d_model", pos=(1, 5, 1, 12))
    assert isinstance(left.right, ast.Call) and left.right.name == "dd"
    e = expr_of("d (f)")  # a space: a call to a function named `d`
    assert isinstance(e, ast.Call) and e.name == "d"


# ---------------------------------------------------------------- statements
def test_dim_and_leg() -> None:
    dim, leg = parse_text("dim n, d = 768, mn = m * n\nleg i, j : n batch").stmts
    assert isinstance(dim, ast.DimDecl)
    assert [(n, s is None) for n, s, _ in dim.entries] == [("n", True), ("d", False), ("mn", False)]
    assert strip(dim.entries[2][1]) == strip(ast.SizeBin("*", ast.SizeName("m"), ast.SizeName("n")))
    assert isinstance(leg, ast.LegDecl) and leg.names == ("i", "j") and leg.batch


def test_declarations_and_typed_bindings() -> None:
    src = "W_Q, W_K: [e, d: 64]\nS: [i, j] symmetric((i, j), (k, l)) const\nh: [t, d] const = x"
    decl, sym, typed = parse_text(src).stmts
    assert isinstance(decl, ast.TensorDecl) and decl.names == ("W_Q", "W_K") and decl.value is None
    assert decl.sig[1].size == ast.SizeNum(64, pos=(1, 18, 1, 20))
    assert isinstance(sym, ast.TensorDecl)
    assert [(m.kind, m.args) for m in sym.modifiers] == [
        ("symmetric", (("i", "j"), ("k", "l"))),
        ("const", ()),
    ]
    assert isinstance(typed, ast.TensorDecl) and typed.value == ast.Ref("x", pos=(3, 19, 3, 20))


def test_defs() -> None:
    src = (
        "def softmax[ax](x) = exp(x) / sum[ax](exp(x))\n"
        "def f(x: [n_in]) -> [n_out]\n"
        "def g(x: [t, d], y) -> [t, d] {\n  a = x; b: [t, d] = y\n\n  a + b\n}\n"
    )
    soft, opaque, block = parse_text(src).stmts
    assert isinstance(soft, ast.Def) and soft.leg_params == ("ax",) and isinstance(soft.body, ast.BinOp)
    assert isinstance(opaque, ast.Def) and opaque.body is None
    assert opaque.returns is not None and opaque.returns[0].name == "n_out"
    assert isinstance(block, ast.Def) and isinstance(block.body, ast.Block)
    assert [type(s).__name__ for s in block.body.stmts] == ["Assign", "TensorDecl"]
    assert isinstance(block.body.result, ast.BinOp)
    assert block.params[1] == ast.Param("y", None, pos=(3, 18, 3, 19))


def test_check_show_rule() -> None:
    src = "check a == b; check a ≡ 0\nshow expand(x)\nrule swap(A: [i, j], B): A @ B => B @ A"
    c1, c2, show, rule = parse_text(src).stmts
    assert isinstance(c1, ast.Check) and isinstance(c2, ast.Check)
    assert c2.right == ast.Num("0", pos=(1, 25, 1, 26))
    assert isinstance(show, ast.Show) and isinstance(show.expr, ast.Call)
    assert isinstance(rule, ast.Rule) and [p.name for p in rule.params] == ["A", "B"]
    assert isinstance(rule.lhs, ast.BinOp) and isinstance(rule.rhs, ast.BinOp)


def test_soft_keywords() -> None:
    (decl,) = parse_text("x: [dim, leg, show]").stmts
    assert isinstance(decl, ast.TensorDecl) and [leg.name for leg in decl.sig] == ["dim", "leg", "show"]
    assert isinstance(expr_of("dim @ check"), ast.BinOp)


JOINED = """dim n
leg t, s, a : n
X: [t, a]
A1, A2: [t, s]
W: [a, a]
y: [t, a] = X
check y == (                       # newlines inside (...) are ignored
    X
    + A1 @ X[t -> s]
    + A2 @ X[t -> s] @ W
)
"""


def _joined_sources() -> list[str]:
    """A program of our own, and the corpus's path-expansion example when ``../shared`` is there."""
    path = SHARED / "examples" / "11_path_expansion.stn"
    return [JOINED] + ([path.read_text(encoding="utf-8")] if path.is_file() else [])


@pytest.mark.parametrize("source", _joined_sources(), ids=lambda s: "own" if s is JOINED else "corpus")
def test_implicit_line_joining_and_continuation(source: str) -> None:
    stmts = parse_text(source).stmts
    checks = [s for s in stmts if isinstance(s, ast.Check)]
    assert len(checks) == 1 and isinstance(checks[0].right, ast.Group)
    assert checks[0].right.pos[0] < checks[0].right.pos[2]  # spans several lines
    (stmt,) = parse_text("y = a \\\n  + b").stmts
    assert isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.BinOp)
    (stmt,) = parse_text("y = x[\n t -> s\n]").stmts
    assert isinstance(stmt, ast.Assign)


def test_unicode_matches_ascii() -> None:
    pairs = [
        ("u · A · v[i → j]", "u @ A @ v[i -> j]"),
        ("Σ[i](u ⊙ v)", "sum[i](u * v)"),
        ("A ⊙[j] B", "A *[j] B"),
        ("δ[i, j, k]", "delta[i, j, k]"),
        ("∂(s1)/∂(u)", "d(s1)/d(u)"),
        (
            "iverson[s ≤ t] + iverson[s ≥ t] + iverson[s ≠ t]",
            "iverson[s <= t] + iverson[s >= t] + iverson[s != t]",
        ),
    ]
    for uni, ascii_ in pairs:
        assert strip(expr_of(uni)) == strip(expr_of(ascii_)), uni
    (c1,) = parse_text("check s2 ≡ u · v").stmts
    (c2,) = parse_text("check s2 == u @ v").stmts
    assert strip(c1) == strip(c2)
    outer = expr_of("A ⊗ B")
    assert isinstance(outer, ast.BinOp) and outer.op == "outer" and outer.spelling == "⊗"


UNICODE = """dim n
leg i, j, k : n
A: [i, j]
u, v: [i]
s1 = u · A · v[i → j]
I3 = δ[i, j, k]
g = ∂(s1)/∂(u)
"""


def _unicode_sources() -> list[str]:
    path = SHARED / "examples" / "18_unicode.stn"
    return [UNICODE] + ([path.read_text(encoding="utf-8")] if path.is_file() else [])


@pytest.mark.parametrize("source", _unicode_sources(), ids=lambda s: "own" if s is UNICODE else "corpus")
def test_unicode_example_file(source: str) -> None:
    stmts = {s.name: s for s in parse_text(source).stmts if isinstance(s, ast.Assign)}
    assert strip(stmts["s1"].value) == strip(expr_of("u @ A @ v[i -> j]"))
    assert strip(stmts["I3"].value) == strip(expr_of("delta[i, j, k]"))
    assert isinstance(stmts["g"].value, ast.Deriv)


def test_crlf_and_bom() -> None:
    program = parse_text("\ufeffdim n\r\nleg i : n\r\n")
    assert len(program.stmts) == 2


# ---------------------------------------------------------------- diagnostics
def test_juxtaposition_rendering() -> None:
    err = syntax_error("h = W1 x + b1")
    assert err.span is not None and (err.span.line, err.span.column) == (1, 8)
    text = str(err)
    assert "two tensors written side by side at line 1, column 8" in text.splitlines()[0]
    assert "h = W1 x + b1\n       ^\n" in text
    assert "help: juxtaposition is not a product: write `A @ B` to connect shared legs" in text


@pytest.mark.parametrize(
    ("src", "code", "line", "column", "words"),
    [
        ("y = A B", "E002", 1, 7, "side by side"),
        ("dim n\ny = 2 * (A B)", "E002", 2, 12, "side by side"),
        ("def f(x) {\n  x y\n}", "E002", 2, 5, "side by side"),
        ("h = relu W", "E003", 1, 5, "relu(W)"),
        ("h = relu W @ x", "E003", 1, 5, "relu(W @ x)"),
        ("def g(x) = x\nh = g W", "E003", 2, 5, "g(W)"),
        ("y = x[t = s]", "E004", 1, 9, "[t -> s]"),
        ("W: (out, inp)", "E005", 1, 4, "[out, inp]"),
        ("y = d(f)/d x", "E006", 1, 10, "d(f)/d(X)"),
        ("y = d(f) x", "E006", 1, 10, "d(f)/d(X)"),
        ("y = x @", "E007", 1, 7, "after `@`"),
        ("y = (x +)", "E007", 1, 8, "after `+`"),
        ("check a = b", "E008", 1, 9, "=="),
        ("y = x)", "E010", 1, 6, "unmatched"),
        ("y = f(x]", "E010", 1, 8, "still open"),
        ("y = $", "E011", 1, 5, "unexpected character"),
        ("W: [i] foo", "E013", 1, 8, "unknown modifier"),
        ("P: [t] = delta[t, s + 0.5]", "E012", 1, 23, "whole number"),
        ("relu(x)", "E001", 1, 5, "a statement is"),
    ],
)
def test_labelled_errors(src: str, code: str, line: int, column: int, words: str) -> None:
    err = syntax_error(src)
    assert err.code == code, str(err)
    assert err.span is not None and (err.span.line, err.span.column) == (line, column), str(err)
    assert words in str(err)
    assert "^" in str(err) and "help:" in str(err)


def test_messages_of_labels() -> None:
    assert syntax_error("y = W x + b").message == "two tensors written side by side"
    help = syntax_error("h = relu W").help or ""
    assert help.startswith("apply functions with parentheses: relu(")


def test_unclosed_bracket_reports_opening() -> None:
    err = syntax_error("dim n\ny = softmax[s](q @ k\n")
    assert err.code == "E009" and err.span is not None
    assert (err.span.line, err.span.column) == (2, 15)
    assert "unclosed `(`" in str(err)
    err = syntax_error("y = x[a,\n  b\n")
    assert err.span is not None and (err.span.line, err.span.column) == (1, 6)
    err = syntax_error("def f(x) {\n  a = x\n  a\n")
    assert err.code == "E009" and err.span is not None and (err.span.line, err.span.column) == (1, 10)
    err = syntax_error("y = d(f\n")
    assert err.code == "E009" and "`d(`" in str(err)


def test_unclosed_bracket_before_next_statement() -> None:
    err = syntax_error("y = f(x\nz = 3\n")
    assert err.code == "E009" and err.span is not None and (err.span.line, err.span.column) == (1, 6)


def test_block_needs_final_expression() -> None:
    err = syntax_error("def f(x) {\n  a = x\n}")
    assert err.code == "E001" and "ends with an expression" in str(err)


def test_reserved_words() -> None:
    err = syntax_error("show = 3")
    assert "reserved" in str(err)


def test_typed_binding_single_name() -> None:
    assert syntax_error("W, V: [i] = x").code == "E014"


@pytest.mark.parametrize(
    "data",
    [b"\xff\xfe\x00garbage", b"dim n\x00\x01\x02", "y = x\x00", bytes(range(256)), b"\x89PNG\r\n\x1a\n"],
)
def test_binary_input(data: str | bytes) -> None:
    err = syntax_error(data)
    assert err.span is not None and err.span.line >= 1


def test_random_text_only_raises_syntax_errors() -> None:
    import random

    rng = random.Random(1234)
    alphabet = list("abxyzdWAB01239 ()[]{}<>=-+*/@^|,:;.'#\\\n\t_→·⊙⊗∂Σδ≤≡") + ["d(", "->", "dim ", "def "]
    for _ in range(400):
        src = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        try:
            parse_text(src)
        except SymtnSyntaxError as err:
            assert err.span is not None, src


def test_filename_note() -> None:
    err = syntax_error("y = A B")
    with pytest.raises(SymtnSyntaxError) as info:
        parse_text("y = A B", filename="prog.stn")
    assert "prog.stn" in str(info.value) and info.value.code == err.code


def test_deep_nesting() -> None:
    depth = 3000
    e = expr_of("(" * depth + "x" + ")" * depth)
    assert isinstance(e, ast.Group)
    (stmt,) = parse_text("y = " + " + ".join(["x"] * 3000)).stmts
    assert isinstance(stmt, ast.Assign)


def test_label_examples_match_their_label() -> None:
    from lark.exceptions import UnexpectedToken

    from symtn.frontend.grammar import get_parser
    from symtn.frontend.syntax_errors import _match_label
    from symtn.frontend.syntax_labels import EXAMPLES

    parser = get_parser()
    for label, examples in EXAMPLES.items():
        for src in examples:
            with pytest.raises(UnexpectedToken) as info:
                parser.parse(src)
            assert _match_label(info.value, parser) == label, src
            assert syntax_error(src).code in {"E002", "E003", "E004", "E005", "E006", "E007", "E008"}


def test_stray_bracket_mid_line_is_not_unclosed() -> None:
    err = syntax_error("def f(x) {\n  a = x\n  a + {b\n}\n")
    assert err.code == "E001" and err.span is not None and (err.span.line, err.span.column) == (3, 7)
