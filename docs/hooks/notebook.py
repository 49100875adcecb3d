"""mkdocs hook: the executed notebook gets its own page, ``tutorial-notebook.html``.

mkdocs-jupyter renders ``docs/tutorial.ipynb`` (executing it) as a page whose file name would be
``tutorial.html``, the same as the tutorial's ``docs/tutorial.md``; mkdocs would write both to one
file and keep whichever came last. Hooks run after the plugins, so this one moves the notebook's
page to a name of its own before any page is written. Links written ``tutorial.ipynb`` follow it.
"""

from __future__ import annotations

import os
from typing import Any

NOTEBOOK = "tutorial.ipynb"
PAGE = "tutorial-notebook.html"


def on_files(files: Any, config: Any) -> Any:
    for file in files:
        if file.src_uri == NOTEBOOK and file.is_documentation_page():
            file.dest_path = PAGE
            file.abs_dest_path = os.path.normpath(os.path.join(config["site_dir"], PAGE))
            file.url = PAGE
    return files
