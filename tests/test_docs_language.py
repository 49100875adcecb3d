"""The language reference (docs/language.md) covers the whole language as the front end defines it.

Names and symbols are read from the front end and the grammar, so a builtin, a modifier, a keyword
or a Unicode operator added later without a line in the reference fails here. The examples
themselves run in ``tests/test_docs_blocks.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

from symtn.frontend.builtins import CONSTANTS, ELEMENTWISE, LEG_ACTING, SPECIAL
from symtn.frontend.syntax_labels import KEYWORDS
from symtn.frontend.transform import EXPECTATION_NAMES, NAME_ALIASES

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
PROGRAMS = "\n".join(re.findall(r"^```stn[^\n]*\n(.*?)^```", PAGE, flags=re.S | re.M))
# builtins handled by the expression resolver itself rather than the builtin tables
RESOLVER_CALLS = ("sym_grad", "subst", "taylor", "einsum")
MODIFIERS = ("const", "symmetric", "antisymmetric", "isometry", "positive", "nonnegative", "batch")


def test_every_builtin_is_used_in_a_program_of_the_page() -> None:
    names = [*ELEMENTWISE, *LEG_ACTING, *SPECIAL, *CONSTANTS, *RESOLVER_CALLS]
    unused = [n for n in names if not re.search(rf"(?<![\w]){re.escape(n)}[\[(]", PROGRAMS)]
    assert not unused, f"builtins without an example program in docs/language.md: {unused}"


def test_every_modifier_and_keyword_is_described() -> None:
    missing = [m for m in MODIFIERS if f"`{m}" not in PAGE]
    keywords = [k.lower() for k in KEYWORDS]
    missing += [k for k in keywords if f"`{k}`" not in PAGE]
    assert not missing, missing


def test_every_modifier_is_used_in_a_program_of_the_page() -> None:
    unused = [m for m in MODIFIERS if not re.search(rf"\b{m}\b", PROGRAMS)]
    assert not unused, unused


def test_every_unicode_spelling_is_listed() -> None:
    grammar = (ROOT / "grammar" / "symtn.lark").read_text(encoding="utf-8")
    rules = "\n".join(line for line in grammar.splitlines() if not line.lstrip().startswith("//"))
    symbols = {c for c in rules if ord(c) > 127} | set(NAME_ALIASES) | (set(EXPECTATION_NAMES) - {"E"})
    assert len(symbols) >= 12
    missing = sorted(s for s in symbols if s not in PAGE)
    assert not missing, f"Unicode spellings missing from docs/language.md: {missing}"


def test_every_error_code_named_on_the_page_is_catalogued() -> None:
    catalogue = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^### `?([EW][0-9]{3})", catalogue, flags=re.M))
    named = set(re.findall(r"\b([EW][0-9]{3})\b", PAGE))
    assert named and named <= headings, sorted(named - headings)
