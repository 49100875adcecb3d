"""The documentation site: built with mkdocs --strict, checked in headless Chromium, CLI page true.

* every subcommand and option of ``symtn``'s argparse parser is documented in ``docs/cli.md``;
* every ``$ symtn ...`` line of ``docs/cli.md`` runs (in-process) and exits 0, from a folder
  holding a copy of the bundled examples, as a checkout's root does;
* ``mkdocs build --strict`` passes (warnings are errors); every relative link, image, script and
  stylesheet of the built pages resolves, and so does every ``#fragment`` to another page;
* the API page documents every name of ``symtn.__all__`` and ``symtn.interp.__all__`` with text;
* the gallery page carries the SVGs of every bundled example, the interpretability page the
  demos' PNG figures;
* headless Chromium, served the site over a local http.server, loads every page (it has a
  heading) and decodes every image of every page with a non-zero size.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest

import symtn
import symtn.errors
import symtn.interp
from symtn.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PAGES = ("index", "tutorial", "notebook", "tutorial-notebook", "language", "errors", "cli", "api", "gallery",
         "interp")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _undocumented(parser: argparse.ArgumentParser, where: str, text: str) -> list[str]:
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        for flag in action.option_strings:
            if f"`{flag}" not in text and f"{flag}`" not in text:
                missing.append(f"`{where} {flag}`")
        if action.choices:
            missing += [f"`{where}` choice {c}" for c in action.choices if f"{c}" not in text]
    return missing


def test_cli_page_documents_every_subcommand_and_option() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    parser = build_parser()
    missing = _undocumented(parser, "symtn", text)
    for name, sub in _subparsers(parser).items():
        if f"## `symtn {name}" not in text:
            missing.append(f"section for `symtn {name}`")
        missing += _undocumented(sub, f"symtn {name}", text)
        section = text.split(f"## `symtn {name}", 1)[-1].split("\n## ", 1)[0]
        if f"$ symtn {name}" not in section:
            missing.append(f"an example command in the section of `symtn {name}`")
    assert not missing, "docs/cli.md lacks: " + ", ".join(missing)


def _cli_commands() -> list[str]:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```console\n(.*?)```", text, flags=re.S)
    return [line[2:].strip() for block in blocks for line in block.splitlines() if line.startswith("$ ")]


def _symtn_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["MPLBACKEND"] = "Agg"
    env["NO_MKDOCS_2_WARNING"] = "1"
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


def test_cli_page_has_examples() -> None:
    assert len(_cli_commands()) >= len(_subparsers(build_parser()))


@pytest.mark.parametrize("command", _cli_commands())
def test_cli_page_commands_run(command: str, cli_dir: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    argv = shlex.split(command)
    assert argv[0] == "symtn"
    monkeypatch.chdir(cli_dir)
    # `-W ignore=...` silences lints for the process: undo it for the tests that follow
    monkeypatch.setattr(symtn.errors, "IGNORED_LINTS", set(symtn.errors.IGNORED_LINTS))
    code = main(argv[1:])
    out, err = capsys.readouterr()
    assert code == 0, f"{command}\n{out[-2000:]}\n{err[-2000:]}"
    assert "Traceback" not in err


class _Refs(HTMLParser):
    """The references (``href``/``src``) and element ids of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.images: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if values.get("id"):
            self.ids.add(values["id"])
        if tag in ("a", "link") and values.get("href"):
            self.refs.append(values["href"])
        if tag in ("img", "script", "source", "iframe") and values.get("src"):
            self.refs.append(values["src"])
            if tag == "img":
                self.images.append(values["src"])


def _parse(page: Path) -> _Refs:
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    pytest.importorskip("material")
    pytest.importorskip("mkdocs_jupyter")
    out = tmp_path_factory.mktemp("site")
    got = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, env=_symtn_env(), capture_output=True, text=True, timeout=900,
    )
    assert got.returncode == 0, got.stdout[-3000:] + got.stderr[-5000:]
    return out


def _pages(site: Path) -> list[Path]:
    # 404.html is served at any depth by a web server, so mkdocs writes it with root-absolute links
    return sorted(p for p in site.rglob("*.html") if p.name != "404.html")


def test_site_has_every_page_and_no_broken_links(site: Path) -> None:
    for name in PAGES:
        assert (site / f"{name}.html").is_file(), name
    assert len(_pages(site)) >= len(PAGES) + len(list((DOCS / "reference").glob("*.md")))
    parsed = {page.resolve(): _parse(page) for page in _pages(site)}
    broken = []
    for page, refs in parsed.items():
        for ref in refs.refs:
            parts = urlsplit(ref)
            if parts.scheme or parts.netloc:
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not target.exists():
                broken.append(f"{page.relative_to(site.resolve())} -> {ref}")
            elif parts.fragment and target in parsed and unquote(parts.fragment) not in parsed[target].ids:
                broken.append(f"{page.relative_to(site.resolve())} -> {ref} (no such anchor)")
    assert not broken, "broken links:\n" + "\n".join(broken[:40])


def test_notebook_page_is_the_executed_notebook(site: Path) -> None:
    page = (site / "tutorial-notebook.html").read_text(encoding="utf-8")
    assert "symtn in a notebook" in page
    # outputs of the run: the diagrams symtn draws for expressions, and printed notation
    assert page.count("<svg") >= 3 and "jp-OutputArea" in page
    assert (site / "tutorial.ipynb").is_file()  # the download
    assert '<h1 id="tutorial">Tutorial' in (site / "tutorial.html").read_text(encoding="utf-8")


def test_api_page_documents_every_public_name(site: Path) -> None:
    text = (site / "api.html").read_text(encoding="utf-8")
    names = [f"symtn.{n}" for n in symtn.__all__] + [f"symtn.interp.{n}" for n in symtn.interp.__all__]
    empty = []
    for name in names:
        start = text.find(f'id="{name}"')
        assert start >= 0, f"{name} is not on the API page"
        body = text[start:start + 3000].split('class="doc doc-contents', 1)[-1][:1500]
        words = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).split()
        if len(words) < 6:
            empty.append(name)
    assert not empty, "documented without text: " + ", ".join(empty)
    assert "Raises" in text and "Returns" in text and "Parameters" in text


def _gallery_svgs(site: Path) -> list[str]:
    return [src for src in _parse(site / "gallery.html").images if src.endswith(".svg")]


def test_gallery_draws_every_bundled_example(site: Path) -> None:
    svgs = _gallery_svgs(site)
    stems = {p.stem for p in (ROOT / "symtn" / "examples").glob("*.stn")}
    assert {src.split("/")[1] for src in svgs} == stems
    bindings = sum(len(symtn.load(p).bindings) for p in (ROOT / "symtn" / "examples").glob("*.stn"))
    assert len(svgs) >= bindings
    gallery = (site / "gallery.html").read_text(encoding="utf-8")
    for stem in stems:  # each example's source is on the page
        first = (ROOT / "symtn" / "examples" / f"{stem}.stn").read_text(encoding="utf-8").splitlines()[0]
        assert html.escape(first, quote=False) in gallery or first in gallery, stem
    for src in svgs:
        text = (site / src).read_text(encoding="utf-8")
        assert text.lstrip().startswith(("<svg", "<?xml")) and "</svg>" in text


def test_interp_page_shows_the_demo_figures(site: Path) -> None:
    pngs = [src for src in _parse(site / "interp.html").images if src.endswith(".png")]
    names = {src.rsplit("/", 1)[-1] for src in pngs}
    assert {"induction_pattern.png", "backdoor_similarity.png", "forgetting_similarity.png"} <= names
    for src in pngs:
        data = (site / src).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, src


# The probe page holds every page in an iframe (same origin: the site is served over http). Its
# load event waits for every frame and every frame's images; the handler then records each page's
# first heading and the images that did not decode to a non-zero size, before --dump-dom.
PROBE = """<!doctype html><html><body>
%s
<script>
window.addEventListener('load', () => {
  const results = Array.from(document.querySelectorAll('iframe')).map(frame => {
    const doc = frame.contentDocument;
    const imgs = Array.from(doc.querySelectorAll('img'));
    const bad = imgs.filter(i => !(i.complete && i.naturalWidth > 0 && i.naturalHeight > 0));
    const svgs = imgs.filter(i => (i.getAttribute('src') || '').endsWith('.svg') && !bad.includes(i));
    const h1 = doc.querySelector('h1');
    return {page: frame.getAttribute('src'), h1: h1 ? h1.textContent : null, images: imgs.length,
            svgs: svgs.length, bad: bad.map(i => i.getAttribute('src'))};
  });
  const out = document.createElement('pre'); out.id = 'result';
  out.textContent = JSON.stringify(results); document.body.appendChild(out);
});
</script></body></html>
"""


def _probe_page(pages: list[str]) -> str:
    frames = "\n".join(f'<iframe src="{html.escape(p)}" width="1200" height="900"></iframe>' for p in pages)
    return PROBE % frames


@pytest.fixture()
def served(site: Path) -> Iterator[str]:
    """The built site over http on a free local port (a separate process, as a user would serve it)."""
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", str(site)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert server.stdout is not None
        port = re.search(r"port (\d+)", server.stdout.readline())
        assert port is not None, "http.server did not start"
        yield f"http://127.0.0.1:{port.group(1)}"
    finally:
        server.kill()
        server.wait()


def _chromium(*args: str, timeout: float) -> str:
    """Run headless Chromium; on a timeout kill its whole process group (the wrapper's children too)."""
    assert CHROMIUM is not None
    proc = subprocess.Popen([CHROMIUM, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"headless Chromium did not finish in {timeout} s")
    assert proc.returncode == 0, err[-2000:]
    return out


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_every_page_loads_and_every_image_renders_in_chromium(
    site: Path, served: str, tmp_path: Path
) -> None:
    pages = [str(p.relative_to(site)) for p in _pages(site)]
    (site / "_probe.html").write_text(_probe_page(pages), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-quic",
             # a request off this machine fails at once instead of delaying the load event
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom"]
    dom = _chromium(*flags, f"{served}/_probe.html", timeout=240)
    found = re.search(r'<pre id="result">(.*?)</pre>', dom, flags=re.S)
    assert found is not None, "the probe did not finish:\n" + dom[-2000:]
    results = {r["page"]: r for r in json.loads(html.unescape(found.group(1)))}
    assert sorted(results) == sorted(pages)
    headless = [p for p, r in results.items() if not r["h1"]]
    assert not headless, "pages without a heading in the browser: " + ", ".join(headless)
    bad = {p: r["bad"] for p, r in results.items() if r["bad"]}
    assert not bad, f"images that did not render: {bad}"
    assert results["gallery.html"]["svgs"] == len(_gallery_svgs(site)) > 0
    assert results["interp.html"]["images"] >= 5


def test_interp_page_names_every_module_of_the_toolkit() -> None:
    text = (DOCS / "interp.md").read_text(encoding="utf-8")
    modules = [p.stem for p in (ROOT / "symtn" / "interp").glob("*.py") if not p.stem.startswith("_")]
    missing = [m for m in modules if f"symtn.interp.{m}`" not in text and f"`{m}`" not in text
               and f", {m}`" not in text and f"`{m}," not in text]
    assert not missing, "docs/interp.md does not mention: " + ", ".join(missing)


def test_gallery_command_draws_the_given_programs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "quad.stn").write_text("dim n\nleg i, j: n\nx: [i]\nA: [i, j]\nf = x @ A @ x[i -> j]\n"
                                       "g = d(f)/d(x)\n", encoding="utf-8")
    assert main(["gallery", "out", "quad.stn"]) == 0
    assert "2 bindings from 1 program)" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "out" / "quad").iterdir()) == ["f.svg", "g.svg"]
    assert "f = x @ A @ x[i -&gt; j]" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert main(["gallery", "out2", "missing.stn"]) == 2
    assert "no such file missing.stn" in capsys.readouterr().err
    assert not (tmp_path / "out2").exists()


def test_readme_builds_the_site_in_one_command_and_its_links_resolve() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'pip install -e ".[docs]" && mkdocs build --strict' in text
    # markdown links to files (not the `f[i](x)` of notation in the text)
    links = re.findall(r"\]\(([\w./-]+/[\w./-]*|[\w-]+\.md)\)", text)
    local = [link for link in links if not urlsplit(link).scheme]
    assert any(link.endswith("language.md") for link in local)
    missing = [link for link in local if not (ROOT / unquote(urlsplit(link).path)).exists()]
    assert not missing, "README links to missing files: " + ", ".join(missing)
