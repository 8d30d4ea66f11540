"""Speed and memory of lossling on real code, as ratios against baselines measured in the same run.

    python benchmarks/bench.py                      # the pinned corpus (kornia, monai, pytorch-metric-learning, timm)
    python benchmarks/bench.py --transformers       # also transformers 5.23.0, to check that cost grows linearly
    python benchmarks/bench.py --corpus DIR         # any folder of Python files instead of the pinned corpus
    python benchmarks/bench.py --big-only           # only the generated 20 MB file (--big-mb to resize it)

The pinned wheels are downloaded from PyPI once (pip download) and their .py files unpacked under --cache.
Every figure is a median of --repeat runs, single process unless stated. The baselines: ``ast.parse`` of the same
files (the floor for any Python checker), ``libcst.parse_module`` (with --libcst) and plain flake8 (pyflakes and
pycodestyle, with lossling's plugin filtered out of flake8's plugin list), on the first corpus only. A generated
20 MB file (a table of numbers, as generated code holds) gives peak memory and time on one large file. The cache
figures use a fresh temporary --cache-dir; every other lossling figure runs with --no-cache.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Callable

CORPUS = ("kornia==0.9.0", "monai==1.6.1", "pytorch-metric-learning==2.9.0", "timm==1.0.31")
TRANSFORMERS = ("transformers==5.23.0",)

# Plain flake8: every installed plugin but lossling's.
PLAIN_FLAKE8 = (
    "import sys, flake8.plugins.finder as finder\n"
    "found = finder.find_plugins\n"
    "finder.find_plugins = lambda *a, **k: [p for p in found(*a, **k) if p.package != 'lossling']\n"
    "from flake8.main.cli import main\n"
    "sys.exit(main())\n"
)
# Peak resident memory of a command, in MB, printed on the last line of stderr.
PEAK = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, file=sys.stderr)\n"
)


def fetch(specs: tuple[str, ...], cache: Path) -> Path:
    """Unpack the .py files of pinned wheels into cache/<name>/ (once) and return the folder holding them."""
    root = cache / "-".join(s.split("==")[0] for s in specs)
    for spec in specs:
        name = spec.split("==")[0]
        target = root / name
        if (target / ".done").exists():
            continue
        with tempfile.TemporaryDirectory() as wheels:
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
                            "-d", wheels, spec], check=True)
            wheel = next(Path(wheels).glob("*.whl"))
            shutil.rmtree(target, ignore_errors=True)
            with zipfile.ZipFile(wheel) as archive:
                for member in archive.namelist():
                    if member.endswith(".py"):
                        out = target / member
                        out.parent.mkdir(parents=True, exist_ok=True)
                        out.write_bytes(archive.read(member))
        (target / ".done").touch()
    return root


def python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if p.is_file())


def timed(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(*command: str) -> None:
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def parse_all(files: list[Path], parse) -> None:
    for path in files:
        try:
            parse(path.read_text(encoding="utf-8"))
        except Exception:  # a file the parser rejects still cost its time
            pass


def peak_mb(*command: str) -> float:
    done = subprocess.run([sys.executable, "-c", PEAK, *command], capture_output=True, text=True)
    return float(done.stderr.strip().splitlines()[-1])


def _spin(count: int) -> int:
    total = 0
    for number in range(count):
        total += number
    return total


def parallel_capacity(count: int = 10_000_000) -> float:
    """Wall time of two CPU-bound processes over that of one doing both jobs: 0.5 on two idle cores, up to 1.0 on
    a machine whose other load leaves one core. The -j 2 ratio can be no better than this."""
    from concurrent.futures import ProcessPoolExecutor

    serial = timed(lambda: (_spin(count), _spin(count)), 1)
    with ProcessPoolExecutor(max_workers=2) as pool:
        list(pool.map(_spin, [1, 1]))  # start the workers outside the timing
        parallel = timed(lambda: list(pool.map(_spin, [count, count])), 1)
    return parallel / serial


def interleaved(actions: dict[str, Callable[[], object]], repeat: int) -> dict[str, list[float]]:
    """Each action once per round, rounds repeated: a figure and its baseline are timed minutes apart at most,
    so a change in the machine's other load shifts both."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeat):
        for name, action in actions.items():
            times[name].append(timed(action, 1))
    return times


def paired(times: dict[str, list[float]], top: str, bottom: str) -> float:
    """The median over rounds of ``top / bottom``, each measured in the same round."""
    return statistics.median(a / b for a, b in zip(times[top], times[bottom]))


def measure(folder: Path, repeat: int, with_libcst: bool, with_flake8: bool) -> dict[str, float]:
    files = python_files(folder)
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    lossling = [sys.executable, "-m", "lossling", "check", "--no-cache", str(folder)]
    actions: dict[str, Callable[[], object]] = {
        "ast.parse": lambda: parse_all(files, ast.parse),
        "lossling -j1": lambda: run(*lossling, "-j", "1"),
        "lossling -j2": lambda: run(*lossling, "-j", "2"),
        "lossling fix --diff -j1": lambda: run(sys.executable, "-m", "lossling", "fix", "--diff", "--no-cache", "-j",
                                               "1", str(folder)),
    }
    if with_libcst:
        import libcst

        actions["libcst.parse_module"] = lambda: parse_all(files, libcst.parse_module)
    times = interleaved(actions, repeat)
    figures: dict[str, float] = {"files": len(files), "lines": lines}
    figures.update({name: statistics.median(values) for name, values in times.items()})
    figures["machine 2 processes / 1 (x)"] = statistics.median(parallel_capacity() for _ in range(repeat))
    figures["ratio -j1 / ast.parse"] = paired(times, "lossling -j1", "ast.parse")
    figures["ratio -j2 / -j1"] = paired(times, "lossling -j2", "lossling -j1")
    figures["ratio fix / check"] = paired(times, "lossling fix --diff -j1", "lossling -j1")
    with tempfile.TemporaryDirectory() as cache_home:
        cached = [sys.executable, "-m", "lossling", "check", "--cache-dir", cache_home, "-j", "1", str(folder)]
        figures["lossling first run (cache)"] = timed(lambda: run(*cached), 1)
        figures["lossling second run (cache)"] = timed(lambda: run(*cached), repeat)
    figures["lossling peak MB"] = peak_mb(*lossling, "-j", "1")
    if with_flake8:
        plain = [sys.executable, "-c", PLAIN_FLAKE8, "-j", "1", "--exit-zero", str(folder)]
        plugin = [sys.executable, "-m", "flake8", "-j", "1", "--exit-zero", str(folder)]
        flake8 = interleaved({"flake8 plain -j1": lambda: run(*plain), "flake8 + lossling -j1": lambda: run(*plugin)},
                             repeat)
        figures.update({name: statistics.median(values) for name, values in flake8.items()})
        figures["ratio flake8 plugin / plain"] = paired(flake8, "flake8 + lossling -j1", "flake8 plain -j1")
    return figures


def generated(size_mb: float) -> str:
    """A generated module of about ``size_mb`` MB, as tools write them: a table of numbers (weights, a lookup
    table) and, after it, a loss function with one finding."""
    row = "    " + ", ".join(f"{i * 0.001:.6f}" for i in range(10)) + ",\n"
    rows = int(size_mb * 1_000_000) // len(row) + 1
    loss = "def loss(x):\n    return torch.log(torch.softmax(x, 1))\n"
    return "import torch\n\nTABLE = [\n" + row * rows + "]\n\n\n" + loss


def measure_big(size_mb: float, repeat: int) -> dict[str, float]:
    """Peak memory and time of ``check -j 1`` on one generated file, against ``ast.parse`` of it in a process of
    its own (the floor for any checker that holds the file's tree)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.py"
        path.write_text(generated(size_mb))
        lossling = [sys.executable, "-m", "lossling", "check", "--no-cache", "-j", "1", str(path)]
        parse = [sys.executable, "-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())", str(path)]
        times = interleaved({"ast.parse": lambda: run(*parse), "lossling -j1": lambda: run(*lossling)}, repeat)
        return {"size MB": path.stat().st_size / 1e6, "lossling peak MB": peak_mb(*lossling),
                "ast.parse peak MB": peak_mb(*parse), "lossling -j1": statistics.median(times["lossling -j1"]),
                "ast.parse": statistics.median(times["ast.parse"]),
                "ratio -j1 / ast.parse": paired(times, "lossling -j1", "ast.parse")}


def report_big(f: dict[str, float]) -> None:
    print(f"\n== one generated file of {f['size MB']:.0f} MB (a table of numbers and a loss function)")
    print(f"  lossling -j1                     {f['lossling -j1']:6.2f} s")
    print(f"  ast.parse in its own process     {f['ast.parse']:6.2f} s")
    print(f"  lossling -j1 / ast.parse         {f['ratio -j1 / ast.parse']:6.2f}x   (bar: <= 4x)")
    print(f"  peak memory                      {f['lossling peak MB']:6.0f} MB  (bar: <= 1000 MB; "
          f"ast.parse alone: {f['ast.parse peak MB']:.0f} MB)")


def report(name: str, f: dict[str, float]) -> None:
    per = 100_000 / f["lines"]
    print(f"\n== {name}: {int(f['files'])} files, {int(f['lines'])} lines")
    for key, value in f.items():
        if key not in ("files", "lines") and not key.startswith("ratio"):
            unit = "MB" if "MB" in key else "x" if key.endswith("(x)") else "s"
            print(f"  {key:<30} {value:9.2f} {unit}")
    floor = f["ast.parse"]
    print(f"  lossling -j1 / ast.parse         {f['ratio -j1 / ast.parse']:6.2f}x   (bar: <= 4x)")
    print(f"  lossling -j2 / lossling -j1      {f['ratio -j2 / -j1']:6.2f}x   (bar: <= 0.6x; "
          f"this machine's floor now: {f['machine 2 processes / 1 (x)']:.2f}x)")
    print(f"  cached second run / first run    "
          f"{f['lossling second run (cache)'] / f['lossling first run (cache)']:6.2f}x   (bar: <= 0.10x)")
    print(f"  fix --diff / check (-j1)         {f['ratio fix / check']:6.2f}x")
    print(f"  peak memory                      {f['lossling peak MB']:6.0f} MB  (bar: <= 200 MB)")
    if "libcst.parse_module" in f:
        print(f"  libcst.parse_module / ast.parse  {f['libcst.parse_module'] / floor:6.2f}x")
    if "flake8 plain -j1" in f:
        added = f["ratio flake8 plugin / plain"] - 1
        print(f"  flake8 + plugin vs plain flake8  {added:+6.1%}   (bar: <= +10%)")
        print(f"  lossling -j1 / plain flake8      {f['lossling -j1'] / f['flake8 plain -j1']:6.2f}x")
    print(f"  lossling -j1 per 100k lines      {f['lossling -j1'] * per:6.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="a folder of Python files (default: the pinned corpus)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "lossling-bench")
    parser.add_argument("--transformers", action="store_true", help="also measure transformers 5.23.0")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--libcst", action="store_true", help="also time libcst.parse_module (slow)")
    parser.add_argument("--no-flake8", action="store_true", help="skip the flake8 figures")
    parser.add_argument("--big-mb", type=float, default=20, help="size of the generated file (0: skip it)")
    parser.add_argument("--big-only", action="store_true", help="measure the generated file only")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    if args.big_mb:
        report_big(measure_big(args.big_mb, args.repeat))
    if args.big_only:
        return 0
    corpora = [("corpus", args.corpus or fetch(CORPUS, args.cache))]
    if args.transformers:
        corpora.append(("transformers", fetch(TRANSFORMERS, args.cache)))
    results = {}
    for name, folder in corpora:  # flake8 (tens of seconds a run) is measured on the first corpus only
        results[name] = measure(folder, args.repeat, args.libcst, not args.no_flake8 and name == "corpus")
        report(name, results[name])
    if len(results) == 2:
        a, b = (r["lossling -j1"] / r["lines"] for r in results.values())
        print(f"\nper-line cost, transformers vs corpus: {b / a:.2f}x   (bar: within 0.8x..1.2x)")
        a, b = (r["ratio -j1 / ast.parse"] for r in results.values())
        print(f"the same, each against its own ast.parse (robust to load drift between corpora): {b / a:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
