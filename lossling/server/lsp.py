"""The language server: LSP over stdio on pygls, with lossling's findings, fixes and rule pages.

pygls runs the protocol: JSON-RPC framing on stdin/stdout, the initialize handshake and the capabilities it
advertises, and the open documents (text kept in sync from incremental changes, notebooks and their cells).
lsprotocol supplies the typed messages. This module decides what lossling does with them.

Checking happens on one worker thread, off the message loop, so requests keep being answered while a large file
is checked; one thread because the engine's inference is not thread-safe. Each result is stamped with the
document's version and the configuration's generation: a check whose document moved on is skipped or its result
dropped, never published. Diagnostics are pulled (``textDocument/diagnostic``) by clients that declare pull
support, and pushed to the others on open, on a change (after ``DEBOUNCE`` of quiet) and on save; never both,
so no client shows a finding twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence, TypeVar
from urllib.parse import unquote

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from .. import __version__
from ..config import ConfigError, Settings
from ..finding import Finding, Safety, applicable
from ..formats.common import fix_title, rule_name, severity
from . import analysis, pages
from .analysis import Analysis, Cell, Document, Flagged
from .settings import Configurations, Options, options
from .text import Lines, contains, edits, meets

FIX_ALL = "source.fixAll.lossling"
DEBOUNCE = 0.1  # seconds of quiet after a change before the unsaved text is checked
SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
            "info": types.DiagnosticSeverity.Information}
PYTHON_SUFFIXES = (".py", ".pyi")

log = logging.getLogger("lossling.server")
T = TypeVar("T")


@dataclass
class Result:
    """A document as it was checked, and what was found."""

    stamp: tuple
    document: Document
    versions: dict[str, int | None]  # the version of each part (the file, or each cell) that was checked
    settings: Settings | None  # None: not checked (excluded, not Python, or a bad configuration)
    analysis: Analysis
    encoding: str
    _lines: dict[str, Lines] = field(default_factory=dict)
    _diagnostics: dict[str, list[types.Diagnostic]] | None = None

    def lines(self, uri: str) -> Lines:
        if uri not in self._lines:
            self._lines[uri] = Lines(self.document.texts().get(uri, ""), self.encoding)
        return self._lines[uri]

    def diagnostics(self) -> dict[str, list[types.Diagnostic]]:
        """Every part's diagnostics (an empty list for a part with none, so that it is cleared)."""
        if self._diagnostics is None:
            found: dict[str, list[types.Diagnostic]] = {uri: [] for uri in self.document.texts()}
            for flagged in self.analysis.flagged:
                found.setdefault(flagged.uri, []).append(diagnostic(flagged.finding, self.lines(flagged.uri)))
            problem = self.analysis.problem
            if problem is not None:
                where = self.lines(problem.uri).rest_of_line(problem.line or 1, problem.col or 0)
                found.setdefault(problem.uri, []).append(types.Diagnostic(
                    where, problem.message, severity=types.DiagnosticSeverity.Error, source="lossling"))
            self._diagnostics = found
        return self._diagnostics


def diagnostic(finding: Finding, lines: Lines) -> types.Diagnostic:
    name = rule_name(finding.code) or ""
    href = pages.page_uri(finding.code)
    return types.Diagnostic(
        range=lines.range(finding.span), message=f"{finding.message} [{name}]" if name else finding.message,
        severity=SEVERITY.get(severity(finding.code), types.DiagnosticSeverity.Warning),
        code=finding.code, code_description=types.CodeDescription(href) if href else None, source="lossling",
        data={"name": name, "fix": finding.fix.safety.value if finding.fix else Safety.NONE.value})


def wanted(kind: str, only: Sequence[str] | None) -> bool:
    """Whether a code action of ``kind`` answers a request for the kinds ``only`` (None: any kind)."""
    return only is None or any(kind == o or kind.startswith(o + ".") for o in only)


class Session:
    """The state of one client's session: its options, the open documents' latest results, and the scheduling
    of checks."""

    def __init__(self, server: LanguageServer) -> None:
        self.server = server
        self.configs = Configurations(Options())
        self.engine = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lossling-check")
        self.results: dict[str, Result] = {}
        self.latest: dict[str, tuple] = {}  # each document's newest stamp: checks for older ones are skipped
        self.running: dict[tuple[str, tuple], asyncio.Future] = {}
        self.timers: dict[str, asyncio.Task] = {}
        self.published: dict[str, set[str]] = {}  # document -> the parts showing pushed diagnostics
        self.shown: set[str] = set()  # configuration errors already shown (once each, until a reload)
        self.logged: set[str] = set()  # internal errors already logged
        self.pending: list[str] = []  # option problems to show once the session is initialized

    # Client capabilities ---------------------------------------------------------------------------------

    def capability(self, name: str, default: Any = None) -> Any:
        return get_capability(self.server.client_capabilities, name, default)

    @property
    def pull(self) -> bool:
        return self.capability("text_document.diagnostic") is not None

    @property
    def encoding(self) -> str:
        return str(self.server.workspace.position_encoding or types.PositionEncodingKind.Utf16)

    # Messages --------------------------------------------------------------------------------------------

    def show_once(self, message: str) -> None:
        if message not in self.shown:
            self.shown.add(message)
            log.error(message)
            self.server.window_show_message(types.ShowMessageParams(types.MessageType.Error, message))

    def log_once(self, message: str) -> None:
        if message not in self.logged:
            self.logged.add(message)
            log.error(message)
            self.server.window_log_message(types.LogMessageParams(types.MessageType.Error, message))

    # Lifecycle -------------------------------------------------------------------------------------------

    def initialize(self, params: types.InitializeParams) -> None:
        chosen, self.pending = options(params.initialization_options)
        self.configs = Configurations(chosen)

    def initialized(self, params: types.InitializedParams) -> None:
        for problem in self.pending:
            self.show_once(problem)
        if self.capability("workspace.did_change_watched_files.dynamic_registration", False):
            watch = types.DidChangeWatchedFilesRegistrationOptions(
                [types.FileSystemWatcher(glob_pattern="**/pyproject.toml")])
            registration = types.Registration("lossling-pyproject", types.WORKSPACE_DID_CHANGE_WATCHED_FILES, watch)
            self.server.client_register_capability(types.RegistrationParams([registration]))

    def shutdown(self, params: None) -> None:
        for timer in self.timers.values():
            timer.cancel()
        self.engine.shutdown(wait=False, cancel_futures=True)

    # Documents -------------------------------------------------------------------------------------------

    def key(self, uri: str) -> str:
        """The document a uri belongs to: itself, or the notebook of a cell."""
        book = self.server.workspace.get_notebook_document(cell_uri=uri)
        return book.uri if book is not None else uri

    def open_documents(self) -> list[str]:
        workspace = self.server.workspace
        books = [book.uri for book in workspace.notebook_documents.values()]
        files = [doc.uri for doc in workspace.text_documents.values()
                 if workspace.get_notebook_document(cell_uri=doc.uri) is None]
        return files + books

    def path(self, uri: str) -> str:
        """The file a document stands for; one not saved yet stands in the first workspace folder (for its
        configuration)."""
        path = to_fs_path(uri) if uri.startswith("file:") else None
        if path:
            return path
        folders = self.folders()
        return os.path.join(folders[0] if folders else os.getcwd(), "untitled.py")

    def folders(self) -> list[str]:
        workspace = self.server.workspace
        uris = [folder.uri for folder in workspace.folders.values()] or (
            [workspace.root_uri] if workspace.root_uri else [])
        return [path for path in (to_fs_path(uri) for uri in uris) if path]

    def folder(self, path: str) -> str | None:
        """The innermost workspace folder holding ``path``."""
        inside = [f for f in self.folders() if os.path.abspath(path).startswith(os.path.join(os.path.abspath(f), ""))]
        return max(inside, key=len) if inside else None

    def snapshot(self, key: str) -> Result | None:
        """The document as it is now, not yet checked (None once it is closed)."""
        workspace = self.server.workspace
        path = self.path(key)
        book = workspace.get_notebook_document(notebook_uri=key)
        if book is not None:
            cells, versions = [], {}
            for cell in book.cells:
                text = workspace.text_documents.get(unquote(cell.document))
                python = cell.kind == types.NotebookCellKind.Code and (
                    text is None or text.language_id in (None, "python"))
                cells.append(Cell(cell.document, text.source if text else "", python))
                versions[cell.document] = text.version if text else None
            document = Document(key, path, cells=tuple(cells), metadata=book.metadata)
            version: Any = (book.version, tuple(versions.values()))
            python = True
        else:
            text = workspace.text_documents.get(unquote(key))
            if text is None:
                return None
            document = Document(key, path, text=text.source)
            versions = {key: text.version}
            version = text.version
            python = text.language_id == "python" or path.endswith(PYTHON_SUFFIXES)
        settings = self.settings(path) if python else None
        stamp = (self.configs.generation, version)
        return Result(stamp, document, versions, settings, Analysis(), self.encoding)

    def settings(self, path: str) -> Settings | None:
        """The file's settings; None when its configuration is broken (shown once) or excludes it (as
        ``lossling check`` on its workspace folder would)."""
        settings = self.configs.settings_for(path)
        if isinstance(settings, ConfigError):
            self.show_once(f"lossling: {settings}")
            return None
        top = self.folder(path) or (settings.root if settings.source else None)
        if top is not None and settings.excluded(path, top):
            return None
        return settings

    # Checking --------------------------------------------------------------------------------------------

    async def result(self, key: str) -> Result | None:
        """The document's findings for its current text (checked now, or the result kept from before)."""
        loop = asyncio.get_running_loop()
        while True:
            now = self.snapshot(key)
            if now is None:
                return None
            self.latest[key] = now.stamp
            kept = self.results.get(key)
            if kept is not None and kept.stamp == now.stamp:
                return kept
            if now.settings is None:
                self.results[key] = now
                return now
            running = self.running.get((key, now.stamp))
            if running is None:
                running = loop.run_in_executor(self.engine, self._check, key, now.stamp, now.document,
                                               now.settings)
                self.running[(key, now.stamp)] = running
                running.add_done_callback(self._finished(key, now.stamp))
            found = await asyncio.shield(running)
            if found is None:
                continue  # skipped: the document changed before its turn came
            now.analysis = found
            for failure in found.failures:
                self.log_once(f"lossling: {key}: {failure}")
            if self.latest.get(key) == now.stamp:
                self.results[key] = now
                return now

    def _finished(self, key: str, stamp: tuple) -> Callable[[asyncio.Future], None]:
        def forget(_: asyncio.Future) -> None:
            self.running.pop((key, stamp), None)

        return forget

    def _check(self, key: str, stamp: tuple, document: Document, settings: Settings) -> Analysis | None:
        """On the worker thread: the check, unless a newer version of the document is already waiting."""
        if self.latest.get(key) != stamp:
            return None
        return analysis.analyse(document, settings)

    async def work(self, function: Callable[..., T], *args: Any) -> T | None:
        """Run engine work (a fix) on the worker thread; an internal error is logged and gives None."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self.engine, function, *args)
        except Exception as error:
            self.log_once(f"lossling: {function.__name__} failed: {type(error).__name__}: {error}")
            return None

    # Pushing diagnostics ---------------------------------------------------------------------------------

    def schedule(self, key: str, delay: float = 0.0) -> None:
        """Check the document after ``delay`` seconds without a newer change, and push its diagnostics."""
        if self.pull:
            return
        timer = self.timers.pop(key, None)
        if timer is not None:
            timer.cancel()  # its result, if it was being checked, would be stale: it is dropped
        self.timers[key] = asyncio.ensure_future(self._push(key, delay))

    async def _push(self, key: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        found = await self.result(key)
        if found is not None:
            self.publish(key, found.diagnostics(), found.versions)

    def publish(self, key: str, diagnostics: dict[str, list[types.Diagnostic]],
                versions: dict[str, int | None]) -> None:
        for uri in self.published.get(key, set()) - diagnostics.keys():
            diagnostics[uri] = []  # a cell that was removed
        for uri, items in diagnostics.items():
            self.server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri, items, versions.get(uri)))
        self.published[key] = {uri for uri, items in diagnostics.items() if items}

    def recheck(self, keys: list[str]) -> None:
        """Check these documents again although their text did not change (the configuration or a project file
        they draw on did)."""
        for key in keys:
            self.results.pop(key, None)
            self.schedule(key)
        if self.pull and keys and self.capability("workspace.diagnostics.refresh_support", False):
            self.server.workspace_diagnostic_refresh(None)

    def reload(self, chosen: Options | None = None) -> None:
        self.configs.reload(chosen)
        self.shown.clear()
        self.recheck(self.open_documents())

    def close(self, key: str) -> None:
        timer = self.timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        self.results.pop(key, None)
        self.latest.pop(key, None)
        shown = self.published.pop(key, set())
        if not self.pull:
            for uri in shown:
                self.server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))

    # Notifications ---------------------------------------------------------------------------------------

    def did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        self.schedule(params.text_document.uri)

    def did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        self.schedule(params.text_document.uri, DEBOUNCE)

    def did_save(self, params: types.DidSaveTextDocumentParams | types.DidSaveNotebookDocumentParams) -> None:
        uri = params.text_document.uri if isinstance(params, types.DidSaveTextDocumentParams) else \
            params.notebook_document.uri
        self.saved([self.path(uri)])
        self.schedule(self.key(uri))

    def did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self.close(params.text_document.uri)

    def did_open_notebook(self, params: types.DidOpenNotebookDocumentParams) -> None:
        self.schedule(params.notebook_document.uri)

    def did_change_notebook(self, params: types.DidChangeNotebookDocumentParams) -> None:
        self.schedule(params.notebook_document.uri, DEBOUNCE)

    def did_close_notebook(self, params: types.DidCloseNotebookDocumentParams) -> None:
        self.close(params.notebook_document.uri)

    def saved(self, paths: list[str]) -> None:
        """Files changed on disk: a pyproject.toml reloads the configuration; a Python file rechecks the open
        documents whose findings were inferred from it."""
        if any(os.path.basename(path) == "pyproject.toml" for path in paths):
            self.reload()
            return
        changed = {os.path.abspath(path) for path in paths}
        self.recheck([key for key, kept in self.results.items()
                      if changed & {os.path.abspath(p) for p in kept.analysis.consulted}])

    def did_change_watched_files(self, params: types.DidChangeWatchedFilesParams) -> None:
        self.saved([path for path in (to_fs_path(change.uri) for change in params.changes) if path])

    def did_change_configuration(self, params: types.DidChangeConfigurationParams) -> None:
        if isinstance(params.settings, dict) and isinstance(params.settings.get("lossling"), dict):
            chosen, problems = options(params.settings)
            for problem in problems:
                self.show_once(problem)
            self.reload(chosen)

    def did_change_workspace_folders(self, params: types.DidChangeWorkspaceFoldersParams) -> None:
        self.reload()  # another folder may now exclude, or stop excluding, an open file

    # Requests --------------------------------------------------------------------------------------------

    async def pull_diagnostics(self, params: types.DocumentDiagnosticParams) -> types.DocumentDiagnosticReport:
        uri = params.text_document.uri
        found = await self.result(self.key(uri))
        items = found.diagnostics().get(uri, []) if found is not None else []
        digest = hashlib.sha1(repr([(d.range, d.code, d.message, d.severity) for d in items]).encode())
        result_id = digest.hexdigest()[:16]
        if params.previous_result_id == result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id)
        return types.RelatedFullDocumentDiagnosticReport(items, result_id=result_id)

    async def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        found = await self.result(self.key(uri))
        if found is None or found.settings is None:
            return None
        lines, only = found.lines(uri), params.context.only
        first = (params.range.start.line + 1, lines.column(params.range.start))
        last = (params.range.end.line + 1, lines.column(params.range.end))
        actions = []
        if wanted(types.CodeActionKind.QuickFix, only):
            for flagged in found.analysis.flagged:
                if flagged.uri == uri and meets(flagged.finding.span, first, last):
                    actions.extend(await self.quick_fixes(found, flagged))
        if (self.configs.options.fix_all and wanted(FIX_ALL, only)
                and any(applicable(f.found, False) for f in found.analysis.flagged)):
            action = types.CodeAction("lossling: Fix all (safe fixes)", kind=FIX_ALL, data={"uri": uri})
            if "edit" in self.capability("text_document.code_action.resolve_support.properties", []):
                actions.append(action)  # the edits come with codeAction/resolve, if the user picks it
            else:
                actions.append(await self.resolve(action))
        return actions

    async def quick_fixes(self, found: Result, flagged: Flagged) -> list[types.CodeAction]:
        assert found.settings is not None
        shown = diagnostic(flagged.finding, found.lines(flagged.uri))
        actions = []
        fix = flagged.found.fix
        if fix is not None and applicable(flagged.found, found.settings.unsafe_fixes):
            texts = await self.work(analysis.fix_one, found.document, found.settings, flagged)
            if texts:
                safe = fix.safety is Safety.SAFE
                title = f"Fix{'' if safe else ' (unsafe)'}: {fix_title(fix)}"
                actions.append(types.CodeAction(title, kind=types.CodeActionKind.QuickFix, diagnostics=[shown],
                                                is_preferred=safe, edit=self.workspace_edit(found, texts)))
        texts = await self.work(analysis.with_noqa, found.document, flagged)
        if texts:
            actions.append(types.CodeAction(f"Disable {flagged.finding.code} for this line",
                                            kind=types.CodeActionKind.QuickFix, diagnostics=[shown],
                                            edit=self.workspace_edit(found, texts)))
        return actions

    async def resolve(self, action: types.CodeAction) -> types.CodeAction:
        data = action.data
        if action.kind != FIX_ALL or not isinstance(data, dict) or not isinstance(data.get("uri"), str):
            return action
        found = await self.result(self.key(data["uri"]))
        if found is not None and found.settings is not None:
            texts = await self.work(analysis.fix_all, found.document, found.settings)
            action.edit = self.workspace_edit(found, texts or {})
        return action

    def workspace_edit(self, found: Result, texts: dict[str, str]) -> types.WorkspaceEdit:
        """Edits from the checked text to ``texts``, addressed to the versions that were checked (a client
        refuses them if the document moved on)."""
        old = found.document.texts()
        changes = {uri: edits(old[uri], text, self.encoding) for uri, text in texts.items()}
        if not self.capability("workspace.workspace_edit.document_changes", False):
            return types.WorkspaceEdit(changes=changes)
        return types.WorkspaceEdit(document_changes=[
            types.TextDocumentEdit(types.OptionalVersionedTextDocumentIdentifier(uri, found.versions.get(uri)),
                                   list(change)) for uri, change in changes.items()])

    async def hover(self, params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        found = await self.result(self.key(uri))
        if found is None:
            return None
        lines = found.lines(uri)
        line, col = params.position.line + 1, lines.column(params.position)
        hits = [f for f in found.analysis.flagged if f.uri == uri and contains(f.finding.span, line, col)]
        if not hits:
            return None
        formats = self.capability("text_document.hover.content_format", None)
        markdown = formats is None or types.MarkupKind.Markdown in formats
        text = "\n\n---\n\n".join(pages.hover(f.finding, markdown) for f in hits)
        kind = types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText
        return types.Hover(types.MarkupContent(kind, text), lines.range(hits[0].finding.span))


def create() -> LanguageServer:
    """A server with lossling's features; ``start_io()`` runs it."""
    server = LanguageServer(
        "lossling", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        notebook_document_sync=types.NotebookDocumentSyncOptions(
            [types.NotebookDocumentFilterWithCells([types.NotebookCellLanguage("python")], notebook="*")],
            save=True))
    session = Session(server)
    handlers: list[tuple[str, Callable[..., Any], Any]] = [
        (types.INITIALIZE, session.initialize, None),
        (types.INITIALIZED, session.initialized, None),
        (types.SHUTDOWN, session.shutdown, None),
        (types.TEXT_DOCUMENT_DID_OPEN, session.did_open, None),
        (types.TEXT_DOCUMENT_DID_CHANGE, session.did_change, None),
        (types.TEXT_DOCUMENT_DID_SAVE, session.did_save, types.SaveOptions(include_text=False)),
        (types.TEXT_DOCUMENT_DID_CLOSE, session.did_close, None),
        (types.NOTEBOOK_DOCUMENT_DID_OPEN, session.did_open_notebook, None),
        (types.NOTEBOOK_DOCUMENT_DID_CHANGE, session.did_change_notebook, None),
        (types.NOTEBOOK_DOCUMENT_DID_SAVE, session.did_save, None),
        (types.NOTEBOOK_DOCUMENT_DID_CLOSE, session.did_close_notebook, None),
        (types.WORKSPACE_DID_CHANGE_WATCHED_FILES, session.did_change_watched_files, None),
        (types.WORKSPACE_DID_CHANGE_CONFIGURATION, session.did_change_configuration, None),
        (types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS, session.did_change_workspace_folders, None),
        (types.TEXT_DOCUMENT_DIAGNOSTIC, session.pull_diagnostics,
         types.DiagnosticOptions(inter_file_dependencies=True, workspace_diagnostics=False,
                                 identifier="lossling")),
        (types.TEXT_DOCUMENT_CODE_ACTION, session.code_actions,
         types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL],
                                 resolve_provider=True)),
        (types.CODE_ACTION_RESOLVE, session.resolve, None),
        (types.TEXT_DOCUMENT_HOVER, session.hover, None),
    ]
    for method, handler, feature_options in handlers:
        server.feature(method, feature_options)(_plain(handler))
    return server


def _plain(method: Callable[..., Any]) -> Callable[..., Any]:
    """A bound method as the plain function pygls registers (it marks its handlers with attributes)."""
    if asyncio.iscoroutinefunction(method):
        async def coroutine(params: Any) -> Any:
            return await method(params)

        return coroutine

    def function(params: Any) -> Any:
        return method(params)

    return function


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="lossling server: %(levelname)s: %(message)s")
    create().start_io()
    return 0
