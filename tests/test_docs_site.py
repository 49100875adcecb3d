"""The documentation site: built with mkdocs --strict, checked in headless Chromium, CLI page true.

* every subcommand and option of ``symtn``'s argparse parser is documented in ``docs/cli.md``;
* every ``$ symtn ...`` line of ``docs/cli.md`` runs and exits 0 (from a folder holding a copy of
  the bundled examples, as a checkout's root does);
* ``mkdocs build --strict`` passes (warnings are errors), every relative link and image of the
  built pages resolves, and the gallery page carries one SVG per drawn binding;
* headless Chromium loads the pages and renders every gallery SVG with a non-zero size.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest

from symtn.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_cli_page_documents_every_subcommand_and_option() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    missing = []
    for name, sub in _subparsers(build_parser()).items():
        if f"## `symtn {name}" not in text:
            missing.append(f"section for `symtn {name}`")
        for action in sub._actions:
            for flag in action.option_strings:
                if f"`{flag}" not in text and f"{flag}`" not in text:
                    missing.append(f"`symtn {name} {flag}`")
            if action.choices and not isinstance(action, argparse._SubParsersAction):
                missing += [f"`{name}` choice {c}" for c in action.choices if str(c) not in text]
    assert not missing, "docs/cli.md lacks: " + ", ".join(missing)


def _cli_commands() -> list[str]:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```console\n(.*?)```", text, flags=re.S)
    return [line[2:].strip() for block in blocks for line in block.splitlines() if line.startswith("$ ")]


def _symtn_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["MPLBACKEND"] = "Agg"
    return env


@pytest.fixture(scope="module")
def cli_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder like a checkout's root: ``symtn/examples`` and the inputs the page names."""
    here = tmp_path_factory.mktemp("cli")
    shutil.copytree(ROOT / "symtn" / "examples", here / "symtn" / "examples")
    rng = np.random.default_rng(0)
    np.savez(here / "gradients_inputs.npz", x=rng.normal(size=4), A=rng.normal(size=(4, 4)),
             W=rng.normal(size=(3, 4)), y=rng.normal(size=3))
    return here


@pytest.mark.parametrize("command", _cli_commands())
def test_cli_page_commands_run(command: str, cli_dir: Path) -> None:
    argv = shlex.split(command)
    assert argv[0] == "symtn"
    # the folder has a `symtn/` of examples only, so run the package by path, not `-m` from here
    run = [sys.executable, "-c", "import sys; from symtn.cli import main; sys.exit(main(sys.argv[1:]))"]
    got = subprocess.run(run + argv[1:], cwd=cli_dir, env=_symtn_env(), capture_output=True, text=True,
                         timeout=240)
    assert got.returncode == 0, f"{command}\n{got.stdout[-2000:]}\n{got.stderr[-2000:]}"
    assert "Traceback" not in got.stderr


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        if tag in ("img", "script") and values.get("src"):
            self.images.append(values["src"] or "")
        if tag == "link" and values.get("href"):
            self.links.append(values["href"] or "")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    out = tmp_path_factory.mktemp("site")
    got = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, env=_symtn_env(), capture_output=True, text=True, timeout=300,
    )
    assert got.returncode == 0, got.stdout[-3000:] + got.stderr[-5000:]
    return out


def test_site_has_every_page_and_no_broken_links(site: Path) -> None:
    # 404.html is served at any depth by a web server, so mkdocs writes it with root-absolute links
    pages = sorted(p for p in site.rglob("*.html") if p.name != "404.html")
    for name in ("index", "tutorial", "language", "errors", "cli", "api", "gallery", "interp"):
        assert (site / f"{name}.html").is_file(), name
    broken = []
    for page in pages:
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for ref in parser.links + parser.images:
            parts = urlsplit(ref)
            if parts.scheme or parts.netloc or not parts.path:
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {ref}")
    assert not broken, "broken links:\n" + "\n".join(broken[:40])


def test_api_page_renders_docstrings(site: Path) -> None:
    html = (site / "api.html").read_text(encoding="utf-8")
    for name in ("symtn.parse", "symtn.diff", "symtn.evaluate", "symtn.codegen", "symtn.simplify"):
        assert name in html, name
    assert "Raises" in html and "Returns" in html


def _gallery_svgs(site: Path) -> list[str]:
    parser = _Links()
    parser.feed((site / "gallery.html").read_text(encoding="utf-8"))
    return [src for src in parser.images if src.endswith(".svg")]


def test_gallery_draws_every_bundled_example(site: Path) -> None:
    svgs = _gallery_svgs(site)
    stems = {p.stem for p in (ROOT / "symtn" / "examples").glob("*.stn")}
    assert {src.split("/")[1] for src in svgs} == stems
    assert len(svgs) >= 3 * len(stems)
    for src in svgs:
        text = (site / src).read_text(encoding="utf-8")
        assert text.lstrip().startswith(("<svg", "<?xml")) and "</svg>" in text


def _chromium(*args: str, user_dir: Path) -> str:
    assert CHROMIUM is not None
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-quic",
             f"--user-data-dir={user_dir}"]
    got = subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120)
    assert got.returncode == 0, got.stderr[-2000:]
    return got.stdout


SIZES_SCRIPT = """
<script>
window.addEventListener('load', () => {
  const imgs = Array.from(document.querySelectorAll('img[src$=".svg"], img[src$=".png"]'));
  const bad = imgs.filter(i => !(i.complete && i.naturalWidth > 0 && i.naturalHeight > 0));
  document.body.setAttribute('data-svg-total', String(imgs.length));
  document.body.setAttribute('data-svg-bad', bad.map(i => i.getAttribute('src')).join(' '));
});
</script>
"""


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_pages_load_and_gallery_svgs_render_in_chromium(site: Path, tmp_path: Path) -> None:
    for name in ("index", "language", "cli", "api"):
        dom = _chromium("--dump-dom", (site / f"{name}.html").as_uri(), user_dir=tmp_path / name)
        assert "<h1" in dom and "symtn" in dom, name
    # the gallery with a probe that records, once loaded, which SVG images failed to decode
    page = site / "gallery.html"
    probe = site / "gallery_probe.html"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", SIZES_SCRIPT + "</body>"))
    dom = _chromium("--virtual-time-budget=20000", "--dump-dom", probe.as_uri(), user_dir=tmp_path / "g")
    total = re.search(r'data-svg-total="(\d+)"', dom)
    bad = re.search(r'data-svg-bad="([^"]*)"', dom)
    assert total is not None and bad is not None, "the probe did not run"
    assert int(total.group(1)) == len(_gallery_svgs(site))
    assert bad.group(1).strip() == "", "SVGs that did not render: " + bad.group(1)
    # the interpretability page's demo figures (PNG, drawn by matplotlib at build time)
    page = site / "interp.html"
    probe = site / "interp_probe.html"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", SIZES_SCRIPT + "</body>"))
    dom = _chromium("--virtual-time-budget=20000", "--dump-dom", probe.as_uri(), user_dir=tmp_path / "i")
    total = re.search(r'data-svg-total="(\d+)"', dom)
    bad = re.search(r'data-svg-bad="([^"]*)"', dom)
    assert total is not None and bad is not None and int(total.group(1)) >= 5
    assert bad.group(1).strip() == "", "figures that did not render: " + bad.group(1)


def test_interp_page_shows_the_demo_figures(site: Path) -> None:
    parser = _Links()
    parser.feed((site / "interp.html").read_text(encoding="utf-8"))
    pngs = [src for src in parser.images if src.endswith(".png")]
    names = {src.rsplit("/", 1)[-1] for src in pngs}
    assert {"induction_pattern.png", "backdoor_similarity.png", "forgetting_similarity.png"} <= names
    for src in pngs:
        data = (site / src).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, src
