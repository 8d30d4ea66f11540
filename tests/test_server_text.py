"""The server's text edits: applied as a client applies them (tests/lsp_session.py), they give the new text
exactly, whatever the line breaks and characters."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from lossling.server.text import edits
from lsp_session import apply_edits

pieces = st.sampled_from(["a", "b", "x = 1", "😀", "é", " ", "\n", "\r\n", "\r", "# noqa: E501", "import torch\n"])
texts = st.lists(pieces, max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts, texts)
def test_edits_turn_the_old_text_into_the_new(old, new):
    assert apply_edits(old, edits(old, new)) == new


def test_an_import_and_a_rewrite_far_apart_stay_two_small_edits():
    old = "import torch\n" + "x = 1\n" * 50 + "y = torch.log(torch.softmax(z, 1))\n"
    new = "import torch\nimport scipy.special\n" + "x = 1\n" * 50 + "y = torch.log_softmax(z, 1)\n"
    changes = edits(old, new)
    assert [(e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character, e.new_text)
            for e in changes] == [(1, 0, 1, 0, "import scipy.special\n"), (51, 13, 51, 33, "_softmax(z, 1")]
    assert apply_edits(old, changes) == new
