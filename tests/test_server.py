"""``lossling server`` end to end: the real server process over stdio, driven by pytest-lsp's client.

Each test starts a server, initializes it, and shuts it down at the end (the shutdown must exit with status 0).
What the server shows is compared with what ``lossling check`` prints and ``lossling fix`` writes for the same
files.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from lsprotocol import types

from helpers import RULE_PAGES, run
from helpers import write as write_files
from lsp_session import (ROOT, apply_workspace_edit, change, diagnostics, notebook_json, open_file,
                         request, session, until)

pytestmark = pytest.mark.asyncio
PATCHED = [sys.executable, str(ROOT / "tests" / "lsp_patched_server.py")]  # see that file

SOURCE = """\
import numpy as np
import torch


def loss(z: np.ndarray, p):
    a = np.log(np.exp(z) / np.sum(np.exp(z)))
    b = -torch.log(p).mean()
    return a, b
"""
# line 6: LOSS110, safe fix that adds `import scipy.special`; line 7: LOSS101, unsafe fix
OPT_IN = '[tool.lossling]\nextend-select = ["LOSS101", "LOSS110"]\n'  # the sample's two rules are opt-in


def write(root: Path, files: dict[str, str]) -> Path:
    """Write a workspace whose configuration selects the sample's opt-in rules (unless the test brings its own)."""
    return write_files(root, files if "pyproject.toml" in files else {"pyproject.toml": OPT_IN, **files})


def expected_findings(path: Path, *flags: str) -> list[dict]:
    result = run("check", "--format", "json", *flags, str(path))
    return json.loads(result.out)["findings"]


def fixed_by_cli(path: Path, tmp: Path, *flags: str) -> str:
    """What ``lossling fix`` writes for a copy of the file."""
    copy = tmp / "copy" / path.name
    copy.parent.mkdir(exist_ok=True)
    shutil.copy(path, copy)
    if (path.parent / "pyproject.toml").is_file():
        shutil.copy(path.parent / "pyproject.toml", copy.parent / "pyproject.toml")
    run("fix", *flags, str(copy))
    return copy.read_text(encoding="utf-8")


def where(diagnostic: types.Diagnostic) -> tuple:
    r = diagnostic.range
    return diagnostic.code, r.start.line + 1, r.start.character + 1, r.end.line + 1, r.end.character + 1


def codes(found: list[types.Diagnostic]) -> list:
    return [d.code for d in found]


async def actions_at(client, uri: str, diagnostic: types.Diagnostic, only: list[str] | None = None) -> list:
    """The code actions at the diagnostic's range: the quick fixes, unless ``only`` asks for other kinds."""
    params = types.CodeActionParams(types.TextDocumentIdentifier(uri), diagnostic.range,
                                    types.CodeActionContext([diagnostic], only=only))
    actions = await request(client.text_document_code_action_async(params)) or []
    return [a for a in actions if only is not None or a.kind == types.CodeActionKind.QuickFix]


def titled(actions: list, prefix: str) -> types.CodeAction:
    matching = [a for a in actions if a.title.startswith(prefix)]
    assert len(matching) == 1, [a.title for a in actions]
    return matching[0]


async def test_open_shows_what_check_prints(tmp_path):
    path = write(tmp_path, {"losses.py": SOURCE}) / "losses.py"
    expected = expected_findings(path)
    assert [f["code"] for f in expected] == ["LOSS110", "LOSS101"]
    async with session(tmp_path) as client:
        found = await diagnostics(client, open_file(client, path), 1)
    assert [where(d) for d in found] == [
        (f["code"], f["line"], f["column"], f["end_line"], f["end_column"]) for f in expected]
    for diagnostic, finding in zip(found, expected):
        assert diagnostic.message == f"{finding['message']} [{finding['name']}]"
        assert diagnostic.source == "lossling"
        assert diagnostic.severity == types.DiagnosticSeverity.Warning
        page = Path(unquote(urlparse(diagnostic.code_description.href).path))
        assert page.read_text(encoding="utf-8").startswith(f"# {finding['code']} {finding['name']}\n")


@pytest.mark.parametrize("encoding, units", [(types.PositionEncodingKind.Utf16, 2),
                                             (types.PositionEncodingKind.Utf8, 4)])
async def test_ranges_count_the_clients_code_units(tmp_path, encoding, units):
    text = 'import torch\n\n\ndef loss(z, p):\n    s = "😀"; b = -torch.log(p).mean()\n    return b, s\n'
    path = write(tmp_path, {"emoji.py": text}) / "emoji.py"
    async with session(tmp_path, encoding=encoding) as client:
        [found] = await diagnostics(client, open_file(client, path), 1)
    column = text.splitlines()[4].index("torch.log")  # in code points; the emoji is one of them
    assert (found.range.start.line, found.range.start.character) == (4, column - 1 + units)


async def test_quick_fix_and_disable_edit_as_fix_writes(tmp_path):
    path = write(tmp_path, {"losses.py": SOURCE}) / "losses.py"
    async with session(tmp_path) as client:
        uri = open_file(client, path)
        softmax, log = await diagnostics(client, uri, 1)
        actions = await actions_at(client, uri, softmax)
        assert [a.title for a in actions] == ["Fix: Use `scipy.special.softmax(z, axis=None)`",
                                              "Disable LOSS110 for this line"]
        fix = actions[0]
        assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred
        text = apply_workspace_edit({uri: SOURCE}, fix.edit)[uri]
        assert text == fixed_by_cli(path, tmp_path, "--select", "LOSS110")  # this fix alone, its import included
        assert "import scipy.special\n" in text
        change(client, uri, 2, text)
        log_softmax, log = await diagnostics(client, uri, 2)
        assert (log_softmax.code, log.code) == ("LOSS102", "LOSS101")  # the log of that softmax, fixed next

        actions = await actions_at(client, uri, log)
        assert [a.title for a in actions] == ["Disable LOSS101 for this line"]  # unsafe fixes are not offered
        text = apply_workspace_edit({uri: text}, actions[0].edit)[uri]
        assert "    b = -torch.log(p).mean()  # noqa: LOSS101\n" in text
        change(client, uri, 3, text)
        assert codes(await diagnostics(client, uri, 3)) == ["LOSS102"]


async def test_disable_merges_with_an_existing_noqa(tmp_path):
    text = SOURCE.replace("b = -torch.log(p).mean()", "b = -torch.log(p).mean()  # noqa: E501")
    path = write(tmp_path, {"losses.py": text}) / "losses.py"
    async with session(tmp_path, document_changes=False) as client:
        uri = open_file(client, path)
        _, log = await diagnostics(client, uri, 1)
        action = titled(await actions_at(client, uri, log), "Disable LOSS101")
        assert action.edit.document_changes is None  # this client takes only plain `changes`
        fixed = apply_workspace_edit({uri: text}, action.edit)[uri]
        assert "b = -torch.log(p).mean()  # noqa: E501, LOSS101\n" in fixed
        change(client, uri, 2, fixed)
        assert codes(await diagnostics(client, uri, 2)) == ["LOSS110"]


async def test_unsafe_fix_offered_with_the_option(tmp_path):
    path = write(tmp_path, {"losses.py": SOURCE}) / "losses.py"
    async with session(tmp_path, options={"unsafe-fixes": True}) as client:
        uri = open_file(client, path)
        _, log = await diagnostics(client, uri, 1)
        fix = titled(await actions_at(client, uri, log), "Fix (unsafe): ")
        assert not fix.is_preferred
        text = apply_workspace_edit({uri: SOURCE}, fix.edit)[uri]
    assert text == fixed_by_cli(path, tmp_path, "--unsafe-fixes", "--select", "LOSS101")


@pytest.mark.parametrize("resolve", [True, False], ids=["resolved", "eager"])
async def test_fix_all_applies_the_safe_fixes(tmp_path, resolve):
    text = SOURCE + "\n\ndef nll(x):\n    return torch.log(torch.softmax(x, dim=1))\n"
    path = write(tmp_path, {"losses.py": text}) / "losses.py"
    async with session(tmp_path, resolve=resolve) as client:
        uri = open_file(client, path)
        found = await diagnostics(client, uri, 1)
        assert codes(found) == ["LOSS110", "LOSS101", "LOSS102"]
        [action] = await actions_at(client, uri, found[0], only=[types.CodeActionKind.SourceFixAll])
        assert action.kind == "source.fixAll.lossling"
        if resolve:
            assert action.edit is None
            action = await request(client.code_action_resolve_async(action))
        fixed = apply_workspace_edit({uri: text}, action.edit)[uri]
        assert fixed == fixed_by_cli(path, tmp_path)
        change(client, uri, 2, fixed)
        assert codes(await diagnostics(client, uri, 2)) == ["LOSS101"]  # unsafe: left for the user


async def test_fix_all_can_be_turned_off(tmp_path):
    path = write(tmp_path, {"losses.py": SOURCE}) / "losses.py"
    async with session(tmp_path, options={"fixAll": False}) as client:
        uri = open_file(client, path)
        found = await diagnostics(client, uri, 1)
        assert await actions_at(client, uri, found[0], only=[types.CodeActionKind.SourceFixAll]) == []


async def test_changes_update_diagnostics_and_stale_results_are_dropped(tmp_path):
    path = write(tmp_path, {"losses.py": "import torch\n"}) / "losses.py"  # clean on disk: the editor's text counts
    async with session(tmp_path) as client:
        uri = open_file(client, path, SOURCE)
        assert codes(await diagnostics(client, uri, 1)) == ["LOSS110", "LOSS101"]
        for version in range(2, 7):  # typing: one blank line at the top per change, sent without waiting
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version, uri),
                [types.TextDocumentContentChangePartial(types.Range(types.Position(0, 0), types.Position(0, 0)),
                                                        "\n")]))
        found = await diagnostics(client, uri, 6)
        assert [d.range.start.line for d in found] == [5 + 5, 6 + 5]
        versions = [p.version for p in client.published if p.uri == uri]
        assert versions == sorted(versions), "a result for an older version came after a newer one"
        client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
        await until(client, lambda: client.published[-1].uri == uri and not client.published[-1].diagnostics
                    and client.published[-1].version is None, "diagnostics cleared on close")


async def test_hover_explains_the_finding_from_its_page(tmp_path):
    text = "import torch\n\n\ndef nll(x):\n    return torch.log(torch.softmax(x, dim=1))\n"
    path = write(tmp_path, {"nll.py": text}) / "nll.py"
    page = (RULE_PAGES / "LOSS102.md").read_text(encoding="utf-8")
    why = page.split("## Why it is bad\n", 1)[1].split("\n## ", 1)[0].strip()
    async with session(tmp_path) as client:
        uri = open_file(client, path)
        [found] = await diagnostics(client, uri, 1)
        inside = types.Position(4, found.range.start.character + 3)
        hover = await request(client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri),
                                                                                 inside)))
        outside = await request(client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, 1))))
    assert hover.contents.kind == types.MarkupKind.Markdown
    assert "LOSS102 log-of-softmax" in hover.contents.value
    assert why in hover.contents.value  # where the original breaks, and what the stable form gives
    assert hover.range == found.range
    assert outside is None


async def test_syntax_error_is_one_diagnostic_on_its_line(tmp_path):
    broken = "import torch\n\n\ndef loss(z, p:\n    return -torch.log(p).mean()\n"
    path = write(tmp_path, {"broken.py": broken}) / "broken.py"
    expected = run("check", str(path))
    async with session(tmp_path) as client:
        uri = open_file(client, path)
        [error] = await diagnostics(client, uri, 1)
        assert error.severity == types.DiagnosticSeverity.Error and error.code is None
        assert error.message in expected.err  # the message `lossling check` prints, at its line
        assert f"broken.py:{error.range.start.line + 1}:" in expected.err
        change(client, uri, 2, broken.replace("p:\n", "p):\n"))
        assert codes(await diagnostics(client, uri, 2)) == ["LOSS101"]  # and the server goes on


async def test_a_failing_rule_is_logged_and_the_others_still_report(tmp_path):
    path = write(tmp_path, {"losses.py": SOURCE}) / "losses.py"
    async with session(tmp_path, command=PATCHED) as client:
        uri = open_file(client, path)
        assert codes(await diagnostics(client, uri, 1)) == ["LOSS110", "LOSS101"]
        change(client, uri, 2, SOURCE + "\n")
        assert codes(await diagnostics(client, uri, 2)) == ["LOSS110", "LOSS101"]
    logged = [m.message for m in client.log_messages if "LOSS999" in m.message]
    assert len(logged) == 1 and "ValueError: a bug in a rule" in logged[0]
    assert client.messages == []


async def test_severity_comes_from_the_rule(tmp_path):
    path = write(tmp_path, {"losses.py": SOURCE}) / "losses.py"
    async with session(tmp_path, command=PATCHED) as client:
        found = await diagnostics(client, open_file(client, path), 1)
    assert [(d.code, d.severity) for d in found] == [("LOSS110", types.DiagnosticSeverity.Error),
                                                     ("LOSS101", types.DiagnosticSeverity.Information)]


async def test_notebook_cells_read_as_one_module(tmp_path):
    cells = [("code", "import torch\n\np = torch.softmax(z, dim=1)"), ("markdown", "# The loss"),
             ("code", "%matplotlib inline\nloss = -torch.log(p).mean()")]
    notebook = write(tmp_path, {"nb.ipynb": notebook_json(cells)}) / "nb.ipynb"
    [expected] = expected_findings(notebook)
    assert (expected["code"], expected["cell"]) == ("LOSS102", 3)  # the softmax in cell 1 flows into cell 3
    uri = notebook.as_uri()
    cell_uris = [f"vscode-notebook-cell:{notebook}#W{i}" for i in range(len(cells))]
    items = [types.TextDocumentItem(cell_uri, "python" if kind == "code" else "markdown", 1, source)
             for cell_uri, (kind, source) in zip(cell_uris, cells)]
    kinds = [types.NotebookCellKind.Code if kind == "code" else types.NotebookCellKind.Markup for kind, _ in cells]
    async with session(tmp_path) as client:
        client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
            types.NotebookDocument(uri, "jupyter-notebook", 1,
                                   [types.NotebookCell(kind, cell) for kind, cell in zip(kinds, cell_uris)]),
            items))
        [found] = await diagnostics(client, cell_uris[2], 1)
        assert where(found) == (expected["code"], expected["line"], expected["column"], expected["end_line"],
                                expected["end_column"])
        assert await diagnostics(client, cell_uris[0], 1) == []

        fix = titled(await actions_at(client, cell_uris[2], found), "Fix: ")
        texts = apply_workspace_edit({cell_uri: source for cell_uri, (_, source) in zip(cell_uris, cells)},
                                     fix.edit)
        run("fix", str(notebook))
        fixed = [cell["source"] for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]]
        assert texts == {cell_uris[2]: "".join(fixed[2])}

        client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
            types.VersionedNotebookDocumentIdentifier(2, uri),
            types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
                types.NotebookDocumentCellContentChanges(
                    types.VersionedTextDocumentIdentifier(2, cell_uris[2]),
                    [types.TextDocumentContentChangeWholeDocument(texts[cell_uris[2]])])]))))
        assert await diagnostics(client, cell_uris[2], 2) == []

        client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
            types.VersionedNotebookDocumentIdentifier(3, uri),
            types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
                types.NotebookDocumentCellContentChanges(
                    types.VersionedTextDocumentIdentifier(2, cell_uris[0]),
                    [types.TextDocumentContentChangeWholeDocument("import torch\n\np = torch.softmax(z, dim=1")])]))))
        [error] = await diagnostics(client, cell_uris[0], 2)  # an unparsable cell: one diagnostic, in that cell
        assert error.severity == types.DiagnosticSeverity.Error and error.range.start.line == 2


async def test_configuration_reloads_when_pyproject_changes(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    write(tmp_path, {"pyproject.toml": OPT_IN + 'ignore = ["LOSS101"]\n', "a.py": SOURCE, "b.py": SOURCE})
    async with session(tmp_path) as client:
        a = open_file(client, tmp_path / "a.py")
        assert codes(await diagnostics(client, a, 1)) == ["LOSS110"]
        [registration] = client.registrations
        assert registration.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
        assert registration.register_options["watchers"][0]["globPattern"] == "**/pyproject.toml"

        async def edited(text: str) -> None:
            before = len(client.published)
            pyproject.write_text(text)
            client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
                [types.FileEvent(pyproject.as_uri(), types.FileChangeType.Changed)]))
            await until(client, lambda: any(p.uri == a for p in client.published[before:]), "diagnostics again")

        await edited('[tool.lossling]\nselect = ["LOSS101"]\n')
        assert codes(client.published[-1].diagnostics) == ["LOSS101"]

        await edited('[tool.lossling]\nselct = ["LOSS101"]\n')  # a typo: shown once, nothing checked
        assert list(client.published[-1].diagnostics) == []
        b = open_file(client, tmp_path / "b.py")
        assert await diagnostics(client, b, 1) == []
        [message] = client.messages
        assert message.type == types.MessageType.Error and "unknown key 'selct'" in message.message

        await edited(OPT_IN)
        assert codes(client.published[-1].diagnostics) == ["LOSS110", "LOSS101"]


async def test_files_excluded_under_a_workspace_folder_are_not_checked(tmp_path):
    write(tmp_path, {"build/generated.py": SOURCE, "src/losses.py": SOURCE})
    printed = run("check", str(tmp_path)).out
    assert "losses.py" in printed and "generated.py" not in printed  # `build` is excluded by default
    async with session(tmp_path) as client:
        generated = open_file(client, tmp_path / "build" / "generated.py")
        losses = open_file(client, tmp_path / "src" / "losses.py")
        assert codes(await diagnostics(client, losses, 1)) == ["LOSS110", "LOSS101"]
        assert await diagnostics(client, generated, 1) == []
        before = len(client.published)  # build/ opened as a folder of its own: its files are checked there
        build = tmp_path / "build"
        client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(
            types.WorkspaceFoldersChangeEvent(added=[types.WorkspaceFolder(build.as_uri(), "build")], removed=[])))
        await until(client, lambda: [p for p in client.published[before:] if p.uri == generated and p.diagnostics],
                    "diagnostics for the file in the new folder")


async def test_initialization_options_and_configuration_changes(tmp_path):
    path = write(tmp_path, {"losses.py": SOURCE}) / "losses.py"
    async with session(tmp_path, options={"ignore": ["LOSS110"], "select": ["LOSS9"]}) as client:
        uri = open_file(client, path)
        assert codes(await diagnostics(client, uri, 1)) == ["LOSS101"]
        [message] = client.messages
        assert "unknown rule code 'LOSS9'" in message.message
        before = len(client.published)
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            {"lossling": {"select": ["LOSS110"]}}))
        await until(client, lambda: any(p.uri == uri for p in client.published[before:]), "diagnostics again")
        assert codes(client.published[-1].diagnostics) == ["LOSS110"]


async def test_saving_a_project_module_rechecks_the_files_that_import_it(tmp_path):
    write(tmp_path, {"pyproject.toml": "[tool.lossling]\n", "pkg/__init__.py": "", "pkg/config.py": "EPS = 1e-8\n",
                     "pkg/losses.py": "import torch\nfrom .config import EPS\n\n\ndef loss(probs):\n"
                                      "    return torch.clamp(probs, EPS, 1 - EPS).mean()\n"})
    config = tmp_path / "pkg" / "config.py"
    async with session(tmp_path) as client:
        losses = open_file(client, tmp_path / "pkg" / "losses.py")
        assert codes(await diagnostics(client, losses, 1)) == ["LOSS401"]
        config_uri = open_file(client, config)
        change(client, config_uri, 2, "EPS = 1e-3\n")
        config.write_text("EPS = 1e-3\n")
        before = len(client.published)
        client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(config_uri)))
        await until(client, lambda: any(p.uri == losses for p in client.published[before:]), "a recheck")
        assert [list(p.diagnostics) for p in client.published[before:] if p.uri == losses][-1] == []


async def test_pull_diagnostics_for_clients_that_ask(tmp_path):
    path = write(tmp_path, {"losses.py": SOURCE}) / "losses.py"
    expected = expected_findings(path)
    async with session(tmp_path, pull=True) as client:
        uri = open_file(client, path)
        params = types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri))
        report = await request(client.text_document_diagnostic_async(params))
        assert report.kind == "full"
        assert [where(d) for d in report.items] == [
            (f["code"], f["line"], f["column"], f["end_line"], f["end_column"]) for f in expected]
        again = await request(client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri), previous_result_id=report.result_id)))
        assert again.kind == "unchanged"
        change(client, uri, 2, SOURCE.replace("    b = -torch.log(p).mean()\n", ""))
        report = await request(client.text_document_diagnostic_async(params))
        assert codes(report.items) == ["LOSS110"]
        assert [p for p in client.published if p.uri == uri] == []  # pulled, so never pushed as well


async def test_shutdown_while_checking_exits_cleanly(tmp_path):
    big = SOURCE + "".join(f"\n\ndef loss_{i}(p):\n    return -torch.log(p).mean() * {i}\n" for i in range(300))
    path = write(tmp_path, {"big.py": big}) / "big.py"
    async with session(tmp_path) as client:
        open_file(client, path)  # the session then shuts down at once, most likely mid-check (exit status 0)
