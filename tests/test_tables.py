"""Large tables of constants are summarized before parsing (issue 14 item 16): the tree keeps the rows that tell
the analysis something, every kept node stays where it is in the file, a bad row is still a syntax error, and the
findings are those of the whole table."""

from __future__ import annotations

import ast

import pytest

from helpers import check, fix, run
from lossling import tables
from lossling.engine import SourceError, parse

HEAD = "import torch\n\nTABLE = [\n"
TAIL = ("]\n\n\ndef normalize(x):\n    w = torch.tensor(TABLE)\n"
        "    return x / w.sum() + torch.log(torch.softmax(x, 1))\n"
        "\n\ndef scale(x):\n    return x / torch.tensor(TABLE)\n")


def table(rows: int, zero_at: int | None = None) -> str:
    body = "".join(f"    {1 + (i * 37) % 1000 / 7:.4f}, {2 + i % 13}, {-(i % 5) - 0.5},\n" for i in range(rows))
    if zero_at is not None:
        lines = body.splitlines(keepends=True)
        lines[zero_at] = "    0.0, 3, -1.5,\n"
        body = "".join(lines)
    return HEAD + body + TAIL


@pytest.fixture
def small_tables(monkeypatch):
    """Summarize small files too, so that a test needs no megabytes."""
    monkeypatch.setattr(tables, "MIN_SIZE", 0)
    monkeypatch.setattr(tables, "MIN_ROWS", 50)
    monkeypatch.setattr(tables, "_BATCH", 64)


def test_rows_are_emptied_and_the_telling_ones_kept(small_tables):
    text = table(500, zero_at=321)
    summary = tables.summarized(text)
    lines, kept = text.splitlines(), summary.splitlines()
    assert len(kept) == len(lines)  # every line keeps its number
    assert all(k == line or k == "" for k, line in zip(kept, lines))  # a row is kept whole or emptied
    rows = [k for k in kept[3:503] if k]
    assert len(rows) < 20
    numbers = [float(n) for line in lines[3:503] for n in line.strip(" ,").split(",")]
    kept_numbers = [float(n) for line in rows for n in line.strip(" ,").split(",")]
    assert min(kept_numbers) == min(numbers) and max(kept_numbers) == max(numbers) and 0.0 in kept_numbers
    assert kept[3] == lines[3] and kept[502] == lines[502]  # first and last rows


def test_nodes_stay_where_they_are_in_the_file(small_tables):
    text = table(500)
    tree = parse(text)
    assert len(tree.body[1].value.elts) < 60  # the table's list holds the kept rows only
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.lineno >= 4:
            line = text.splitlines()[node.lineno - 1]
            assert line[node.col_offset:node.end_col_offset] == repr(node.value) or \
                float(line[node.col_offset:node.end_col_offset]) == node.value


@pytest.mark.parametrize("zero_at", [None, 250])
def test_findings_are_those_of_the_whole_table(small_tables, monkeypatch, zero_at):
    text = table(500, zero_at)
    summarized = [(f.line, f.col, f.code, f.message) for f in check(text)]
    monkeypatch.setattr(tables, "MIN_SIZE", 10 ** 12)
    whole = [(f.line, f.col, f.code, f.message) for f in check(text)]
    assert summarized == whole and any(code == "LOSS102" for _, _, code, _ in whole)


def test_a_bad_row_is_still_a_syntax_error_where_it_is(small_tables):
    lines = table(500).splitlines(keepends=True)
    lines[203] = "    1.5,, 2,\n"
    with pytest.raises(SourceError) as raised:
        parse("".join(lines))
    assert (raised.value.line, raised.value.col) == (204, 8)  # the second comma


def test_rows_of_lists_dicts_and_strings(small_tables):
    nested = "X = [\n" + "".join(f"    [{i}, {i * 0.5}, 'a{i}'],\n" for i in range(300)) + "]\n"
    mapping = "Y = {\n" + "".join(f"    'k{i}': {i % 7},\n" for i in range(300)) + "}\n"
    for text in (nested, mapping):
        summary = tables.summarized(text)
        assert summary != text and len(summary.splitlines()) == len(text.splitlines())
        ast.parse(summary)


def test_a_big_table_file_is_checked_and_fixed(tmp_path):
    """The real thresholds: a 2 MB table is summarized, and check and fix give what the whole file says."""
    text = table(70_000)
    assert len(text) > tables.MIN_SIZE
    assert len(parse(text).body[1].value.elts) < 100
    path = tmp_path / "big.py"
    path.write_text(text)
    result = run("check", "--select", "LOSS102", "big.py", cwd=tmp_path)
    assert result.code == 1 and result.out.startswith(f"big.py:{70_000 + 9}:")
    assert run("fix", "--select", "LOSS102", "big.py", cwd=tmp_path).code == 0
    assert path.read_text() == text.replace("torch.log(torch.softmax(x, 1))", "torch.log_softmax(x, 1)")
    assert fix(path.read_text()) == path.read_text()
