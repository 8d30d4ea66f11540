"""``lossling server``: a Language Server Protocol server over stdio, so that editors show lossling's findings,
fixes and rule pages as the code is typed.

Modules: ``lsp`` (the pygls server: sessions, scheduling, LSP messages), ``analysis`` (what the engine, fixer and
notebook support give for a document held in memory), ``settings`` (configuration per file and the client's
options), ``text`` (LSP positions and edits), ``pages`` (rule pages for links and hovers).
"""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from .lsp import main as serve
    except ImportError as error:  # pygls and lsprotocol are the optional extra lossling[server]
        print(f"lossling: the server needs pygls and lsprotocol ({error}); "
              "install them with: python -m pip install 'lossling[server]'", file=sys.stderr)
        return 2
    return serve()
