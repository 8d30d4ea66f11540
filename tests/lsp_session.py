"""Driving the real ``lossling server`` process over stdio with pytest-lsp's client, for tests and benchmarks.

Every wait is for a message, with a generous timeout (the machine may be loaded); nothing sleeps to synchronise.
Edits the server sends are applied here independently of the server's own position code, as a client would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any, AsyncIterator, Callable, TypeVar

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

ROOT = Path(__file__).resolve().parent.parent
SERVER = [sys.executable, "-m", "lossling", "server"]
TIMEOUT = 120.0  # seconds: far above any expected wait, so only a hung server fails a test
T = TypeVar("T")


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def capabilities(pull: bool = False, resolve: bool = False, document_changes: bool = True,
                 encoding: str = types.PositionEncodingKind.Utf16) -> types.ClientCapabilities:
    kinds = [types.CodeActionKind.QuickFix, types.CodeActionKind.Source, types.CodeActionKind.SourceFixAll]
    return types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=[encoding]),
        text_document=types.TextDocumentClientCapabilities(
            synchronization=types.TextDocumentSyncClientCapabilities(did_save=True),
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(
                version_support=True, code_description_support=True, data_support=True),
            code_action=types.CodeActionClientCapabilities(
                code_action_literal_support=types.ClientCodeActionLiteralOptions(
                    types.ClientCodeActionKindOptions(kinds)),
                is_preferred_support=True, data_support=True,
                resolve_support=types.ClientCodeActionResolveOptions(["edit"]) if resolve else None),
            hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.Markdown]),
            diagnostic=types.DiagnosticClientCapabilities() if pull else None),
        workspace=types.WorkspaceClientCapabilities(
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=document_changes),
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True),
            workspace_folders=True, diagnostics=types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)),
        notebook_document=types.NotebookDocumentClientCapabilities(
            types.NotebookDocumentSyncClientCapabilities()),
        window=types.WindowClientCapabilities(show_message=types.ShowMessageRequestClientCapabilities()))


def _client() -> LanguageClient:
    """pytest-lsp's client, also recording every publishDiagnostics with its version, the capabilities the server
    registers, and waking ``until`` on each message."""
    client = LanguageClient(converter_factory=default_converter)
    client.published = []  # type: ignore[attr-defined]
    client.registrations = []  # type: ignore[attr-defined]
    client.refreshes = 0  # type: ignore[attr-defined]
    client.arrived = asyncio.Event()  # type: ignore[attr-defined]
    features = dict(DEFAULT_CLIENT_FEATURES)

    def waking(handler: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(client: LanguageClient, params: Any) -> Any:
            result = handler(client, params)
            client.arrived.set()  # type: ignore[attr-defined]
            return result
        return wrapped

    def publish(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        client.published.append(params)  # type: ignore[attr-defined]

    def register(client: LanguageClient, params: types.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)  # type: ignore[attr-defined]

    def refresh(client: LanguageClient, params: None) -> None:
        client.refreshes += 1  # type: ignore[attr-defined]

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish
    features[types.CLIENT_REGISTER_CAPABILITY] = register
    features[types.WORKSPACE_DIAGNOSTIC_REFRESH] = refresh
    register_lsp_features(client, {method: waking(handler) for method, handler in features.items()})
    return client


@contextlib.asynccontextmanager
async def session(root: Path, *, command: list[str] | None = None, options: Any = None,
                  **wanted: Any) -> AsyncIterator[LanguageClient]:
    """A started and initialized server whose workspace folder is ``root``; shut down cleanly when the block
    ends without an error."""
    config = ClientServerConfig(server_command=command or SERVER, client_factory=_client,
                                server_env=_environment())
    client = await config.start()
    try:
        params = types.InitializeParams(
            capabilities=capabilities(**wanted), root_uri=root.as_uri(), initialization_options=options,
            workspace_folders=[types.WorkspaceFolder(root.as_uri(), root.name)])
        await asyncio.wait_for(client.initialize_session(params), TIMEOUT)
        yield client
        await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
        assert client._server.returncode == 0, "the server did not exit cleanly after shutdown"
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()  # a test failed before the shutdown: stop() would wait for the exit forever
        await client.stop()


async def until(client: LanguageClient, found: Callable[[], T | None], what: str) -> T:
    """Wait, message by message, until ``found()`` gives something."""
    async def wait() -> T:
        while True:
            client.arrived.clear()  # type: ignore[attr-defined]
            value = found()
            if value:
                return value
            await client.arrived.wait()  # type: ignore[attr-defined]
    try:
        return await asyncio.wait_for(wait(), TIMEOUT)
    except asyncio.TimeoutError:
        raise AssertionError(f"no {what} within {TIMEOUT:.0f} s") from None


async def diagnostics(client: LanguageClient, uri: str, version: int) -> list[types.Diagnostic]:
    """The diagnostics the server publishes for ``uri`` at ``version``."""
    def published() -> types.PublishDiagnosticsParams | None:
        return next((p for p in reversed(client.published)  # type: ignore[attr-defined]
                     if p.uri == uri and p.version == version), None)
    params = await until(client, published, f"diagnostics for {uri} version {version}")
    return list(params.diagnostics)


async def request(coroutine: Any) -> Any:
    return await asyncio.wait_for(coroutine, TIMEOUT)


def open_file(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = path.as_uri()
    text = path.read_text(encoding="utf-8") if text is None else text
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text)))
    return uri


def change(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version, uri), [types.TextDocumentContentChangeWholeDocument(text)]))


# Applying edits as a client does -----------------------------------------------------------------------------

def _offset(text: str, position: types.Position) -> int:
    """A UTF-16 position as an offset into ``text`` (lines end at \\n, \\r\\n or \\r)."""
    starts, i = [0], 0
    while i < len(text):
        if text[i] == "\r" and text[i + 1:i + 2] == "\n":
            i += 1
        if text[i] in "\r\n":
            starts.append(i + 1)
        i += 1
    if position.line >= len(starts):
        return len(text)
    offset, units = starts[position.line], 0
    while offset < len(text) and text[offset] not in "\r\n" and units < position.character:
        units += 2 if ord(text[offset]) > 0xFFFF else 1
        offset += 1
    return offset


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    spans = sorted(((_offset(text, e.range.start), _offset(text, e.range.end), e.new_text) for e in edits),
                   reverse=True)
    for (start, end, new), following in zip(spans, [None, *spans]):
        assert following is None or end <= following[0], "overlapping edits"
        text = text[:start] + new + text[end:]
    return text


def apply_workspace_edit(texts: dict[str, str], edit: types.WorkspaceEdit) -> dict[str, str]:
    """The texts (by uri) after the edit; only the changed ones."""
    changes: dict[str, list[types.TextEdit]] = {}
    for document in edit.document_changes or []:
        assert isinstance(document, types.TextDocumentEdit)
        changes.setdefault(document.text_document.uri, []).extend(document.edits)  # type: ignore[arg-type]
    for uri, edits in (edit.changes or {}).items():
        changes.setdefault(uri, []).extend(edits)
    return {uri: apply_edits(texts[uri], edits) for uri, edits in changes.items()}


def notebook_json(cells: list[tuple[str, str]]) -> str:
    """An nbformat 4 notebook with these (kind, source) cells."""
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {"language_info": {"name": "python"}},
                       "cells": [{"cell_type": kind, "metadata": {}, "source": source,
                                  **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                                 for kind, source in cells]})
