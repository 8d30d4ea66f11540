"""Latency of ``lossling server`` from a ``textDocument/didChange`` to the diagnostics of that version.

    python benchmarks/lsp_latency.py                  # a 2,000-line file, 30 changes
    python benchmarks/lsp_latency.py --lines 5000 --changes 50

The server runs as an editor runs it (``python -m lossling server`` over stdio, driven by pygls's client). The file
is made of loss functions with findings; each change rewrites one line in the middle, and the clock runs from
sending the change to receiving ``publishDiagnostics`` for its version. The latency includes the server's debounce
(the quiet time it waits for after a keystroke), so the figures printed beside it are that debounce and, as the
baseline measured in the same run, ``check_source`` of the same text in this process: what is left is the
server's own cost (protocol, text sync, scheduling, converting findings).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lossling.config import Settings  # noqa: E402
from lossling.engine import check_source  # noqa: E402
from lossling.server.lsp import DEBOUNCE  # noqa: E402

BLOCK = '''\


def loss_{i}(logits, target, p):
    """Block {i}: a cross-entropy written out, and some ordinary code around it."""
    probs = torch.softmax(logits, dim=1)
    nll = -(target * torch.log(probs)).sum(dim=1)
    scale = {i} * 0.5 + 1.0
    weights = torch.ones_like(nll) * scale
    total = (nll * weights).mean()
    margin = torch.clamp(p, 0.0, 1.0)
    return total + margin.mean() * 0
'''


def source(lines: int) -> str:
    text, i = "import torch\nimport torch.nn.functional as F\n", 0
    while text.count("\n") < lines:
        text += BLOCK.format(i=i)
        i += 1
    return "".join(text.splitlines(keepends=True)[:lines])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure(text: str, changes: int, folder: Path) -> list[float]:
    path = folder / "losses.py"
    path.write_text(text)
    uri = path.as_uri()
    client = LanguageClient("lsp-latency", "1")
    arrived: dict[int, float] = {}
    event = asyncio.Event()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: types.PublishDiagnosticsParams) -> None:
        if params.uri == uri and params.version is not None:
            arrived.setdefault(params.version, time.perf_counter())
            event.set()

    async def version(number: int) -> float:
        while number not in arrived:
            event.clear()
            await asyncio.wait_for(event.wait(), 300)
        return arrived[number]

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    await client.start_io(sys.executable, "-m", "lossling", "server", env=env)
    capabilities = types.ClientCapabilities(text_document=types.TextDocumentClientCapabilities(
        publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True)))
    await client.initialize_async(types.InitializeParams(capabilities, root_uri=folder.as_uri()))
    client.initialized(types.InitializedParams())
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text)))
    await version(1)
    middle = text.count("\n") // 2
    line = text.splitlines()[middle]
    latencies = []
    for number in range(2, changes + 2):
        whole_line = types.Range(types.Position(middle, 0), types.Position(middle + 1, 0))
        change = types.TextDocumentContentChangePartial(whole_line, f"{line}  # edit {number}\n")
        start = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(number, uri), [change]))
        latencies.append(await version(number) - start)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--changes", type=int, default=30)
    args = parser.parse_args()
    text = source(args.lines)
    engine = []
    for _ in range(5):
        start = time.perf_counter()
        findings = check_source(text, "losses.py", Settings().rules("losses.py")).findings
        engine.append(time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as folder:
        latencies = asyncio.run(measure(text, args.changes, Path(folder)))
    check = statistics.median(engine)
    median, p90 = statistics.median(latencies), percentile(latencies, 0.9)
    print(f"file: {args.lines} lines, {len(findings)} findings; {args.changes} changes")
    print(f"didChange -> publishDiagnostics: median {median * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms")
    print(f"of which debounce {DEBOUNCE * 1000:.0f} ms; check_source in-process (baseline): "
          f"median {check * 1000:.0f} ms")
    print(f"server overhead over debounce + check: median {(median - DEBOUNCE - check) * 1000:.0f} ms "
          f"({median / (DEBOUNCE + check):.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
