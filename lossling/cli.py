"""The ``lossling`` command: check, fix, rules, explain, server."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Callable

from . import __version__
from .cache import CACHE_DIR
from .config import ConfigError, Settings, check_codes, find_config, forget, load, override
from .discovery import discover
from .engine import FileResult, SourceError, check_source, decode, internal_error
from .output import FORMATS, error_line, render, statistics, text_line, unified_diff
from .rule import all_rules, rule_by_code
from .runner import FixOutcome, check_files, default_jobs, fix_files

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a program stopped by Ctrl-C


def _codes(value: str) -> tuple[str, ...]:
    return tuple(code.strip() for code in value.split(",") if code.strip())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lossling", description=__doc__)
    parser.add_argument("--version", action="version", version=f"lossling {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("paths", nargs="*", default=["."], help="files or folders; '-' reads standard input")
    for flag, meaning in (("--select", "codes or prefixes to enable (LOSS1 = the LOSS1xx family)"),
                          ("--ignore", "codes or prefixes to disable"),
                          ("--extend-select", "codes to enable on top of the selection"),
                          ("--exclude", "globs to exclude (replaces the defaults)"),
                          ("--extend-exclude", "globs to exclude on top of the defaults")):
        common.add_argument(flag, type=_codes, action="extend", help=meaning + "; comma-separated, repeatable")
    common.add_argument("--config", help="a pyproject.toml to read [tool.lossling] from")
    common.add_argument("--stdin-filename", help="the path standard input stands for (config matching, output)")
    common.add_argument("-j", "--jobs", type=int, default=default_jobs(), help="processes (default: cores)")
    common.add_argument("--no-cache", action="store_true", help="check every file afresh; read and write no cache")
    common.add_argument("--cache-dir", default=CACHE_DIR, help=f"where results are cached (default: {CACHE_DIR})")

    check = commands.add_parser("check", parents=[common], help="report findings")
    check.add_argument("--format", choices=FORMATS, default="text")
    check.add_argument("--statistics", action="store_true", help="count findings per rule")

    fix = commands.add_parser("fix", parents=[common], help="apply fixes")
    fix.add_argument("--unsafe-fixes", action="store_true", default=None, help="also apply fixes that change values")
    fix.add_argument("--diff", action="store_true", help="print a unified diff and write nothing")

    rules = commands.add_parser("rules", help="list every rule")
    rules.add_argument("--format", choices=("text", "json"), default="text")

    explain = commands.add_parser("explain", help="print a rule's page")
    explain.add_argument("code")

    commands.add_parser("server", help="run the language server (LSP over standard input and output)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    forget()
    try:
        if args.command == "rules":
            return _rules(args.format)
        if args.command == "explain":
            return _explain(args.code)
        if args.command == "server":
            from .server import main as serve  # pygls: imported only by the server

            return serve()
        return _run(args)
    except ConfigError as error:
        print(f"lossling: {error}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("lossling: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _settings_finder(args: argparse.Namespace) -> Callable[[str], Settings]:
    """Settings for a file or folder: its nearest ``[tool.lossling]`` (as in ruff, and as the flake8 plugin reads
    it), or ``--config FILE`` for every path; command-line flags override either."""
    for flag in ("select", "ignore", "extend_select"):
        codes = getattr(args, flag)
        if codes is not None:
            name = "--" + flag.replace("_", "-")
            if not codes:  # `--select ""`: an empty list would silently run no rule
                raise ConfigError(f"{name}: no rule code given")
            check_codes(codes, name)
    flags = {name: None if getattr(args, name) is None else tuple(getattr(args, name))
             for name in ("select", "ignore", "extend_select", "exclude", "extend_exclude")}
    flags["unsafe_fixes"] = getattr(args, "unsafe_fixes", None)
    if args.config:
        if not Path(args.config).is_file():
            raise ConfigError(f"{args.config}: no such configuration file")
        settings = override(load(args.config), **flags)
        return lambda path: settings
    cache: dict[Path | None, Settings] = {}

    def settings_for(path: str) -> Settings:
        config = find_config(path)
        if config not in cache:
            cache[config] = override(load(config), **flags)
        return cache[config]

    return settings_for


def _run(args: argparse.Namespace) -> int:
    settings_for = _settings_finder(args)
    if args.paths == ["-"]:
        return _stdin(args, settings_for(args.stdin_filename or "."))
    if "-" in args.paths:
        raise ConfigError("'-' (standard input) cannot be mixed with paths")
    missing = [path for path in args.paths if not os.path.exists(path) and not os.path.islink(path)]
    for path in missing:
        print(f"{path}: error: no such file or folder", file=sys.stderr)
    found = discover([path for path in args.paths if path not in missing], settings_for)
    files = [(file, settings_for(file)) for file in found]
    jobs = max(1, args.jobs)
    if args.command == "check":
        status = _check(files, args, jobs)
    else:
        status = _fix(files, args, jobs)
    return EXIT_ERROR if missing else status


def _check(files: list[tuple[str, Settings]], args: argparse.Namespace, jobs: int) -> int:
    results = sorted(check_files(files, jobs, _cache_dir(args)), key=lambda r: r.path)
    return _report(results, args)


def _cache_dir(args: argparse.Namespace) -> str | None:
    return None if args.no_cache else args.cache_dir


def _report(results: list[FileResult], args: argparse.Namespace) -> int:
    findings = [f for r in results for f in r.findings]
    printed = render(results, args.format)
    if printed:
        print(printed)
    if args.format == "text":
        for result in results:
            if result.error is not None:
                print(error_line(result), file=sys.stderr)
        if args.statistics and findings:
            print(statistics(findings))
    if any(r.error is not None for r in results):
        return EXIT_ERROR
    return EXIT_FINDINGS if findings else EXIT_CLEAN


def _fix(files: list[tuple[str, Settings]], args: argparse.Namespace, jobs: int) -> int:
    outcomes = sorted(fix_files(files, write=not args.diff, jobs=jobs, cache_dir=_cache_dir(args)),
                      key=lambda o: o.path)
    return _fix_report(outcomes, args.diff)


def _fix_report(outcomes: list[FixOutcome], diff: bool) -> int:
    errors = [o for o in outcomes if o.error is not None]
    if diff:
        for outcome in outcomes:
            if outcome.changed and outcome.error is None:
                sys.stdout.write(unified_diff(outcome.before, outcome.after, outcome.path))
        for outcome in errors:
            print(error_line(FileResult(outcome.path, error=outcome.error)), file=sys.stderr)
        if errors:
            return EXIT_ERROR
        return EXIT_FINDINGS if any(o.changed for o in outcomes) else EXIT_CLEAN
    fixed = sum(len(o.fixed) for o in outcomes)
    changed = sum(1 for o in outcomes if o.fixed)
    remaining = [f for o in outcomes for f in o.remaining]
    for finding in remaining:
        print(text_line(finding))
    for outcome in errors:
        print(error_line(FileResult(outcome.path, error=outcome.error)), file=sys.stderr)
    print(f"Fixed {fixed} finding{'s' * (fixed != 1)} in {changed} file{'s' * (changed != 1)} "
          f"({len(remaining)} remaining)")
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if remaining else EXIT_CLEAN


def _stdin(args: argparse.Namespace, settings: Settings) -> int:
    name = args.stdin_filename or "-"
    data = sys.stdin.buffer.read()
    if name.endswith(".ipynb"):
        return _stdin_notebook(args, settings, name, data)
    try:
        source = decode(data)
        if args.command == "check":
            checked = FileResult(name, check_source(source.text, name, settings))
        else:
            from .fixer import fix_source  # libcst: imported only by runs that fix

            result = fix_source(source.text, name, settings, settings.unsafe_fixes)
    except Exception as raised:  # a bug in a rule too: the editor must get its text back
        failed = FileResult(name, error=raised if isinstance(raised, SourceError) else internal_error(raised))
        if args.command == "check":
            return _report([failed], args)
        if not args.diff:
            sys.stdout.buffer.write(data)  # an editor piping through us must get its text back unchanged
        print(error_line(failed), file=sys.stderr)
        return EXIT_ERROR
    if args.command == "check":
        return _report([checked], args)
    if args.diff:
        outcome = FixOutcome(name, source.text, result.text, result.fixed, result.remaining)
        return _fix_report([outcome], diff=True)
    sys.stdout.buffer.write(source.encode(result.text))
    for finding in result.remaining:
        print(text_line(finding), file=sys.stderr)
    return EXIT_FINDINGS if result.remaining else EXIT_CLEAN


def _stdin_notebook(args: argparse.Namespace, settings: Settings, name: str, data: bytes) -> int:
    """A notebook on standard input (``--stdin-filename x.ipynb``): checked or fixed through a temporary copy and
    reported under its name; ``fix -`` writes the notebook's JSON to standard output."""
    from .notebook import check_notebook, fix_notebook

    with tempfile.TemporaryDirectory() as folder:
        copy = os.path.join(folder, os.path.basename(name))
        with open(copy, "wb") as handle:
            handle.write(data)
        if args.command == "check":
            result = check_notebook(copy, settings)
            result.path = name
            result.findings = [replace(f, path=name) for f in result.findings]
            return _report([result], args)
        outcome = fix_notebook(copy, settings, write=False)
    outcome.path = name
    outcome.remaining = [replace(f, path=name) for f in outcome.remaining]
    if args.diff or outcome.error is not None:
        if outcome.error is not None and not args.diff:
            sys.stdout.buffer.write(data)
        return _fix_report([outcome], diff=args.diff)
    sys.stdout.buffer.write(outcome.after.encode("utf-8") if outcome.changed else data)
    for finding in outcome.remaining:
        print(text_line(finding), file=sys.stderr)
    return EXIT_FINDINGS if outcome.remaining else EXIT_CLEAN


def _rules(fmt: str) -> int:
    rows = [{"code": r.code, "name": r.name, "summary": r.summary, "frameworks": list(r.frameworks),
             "fix": r.fix_safety.value} for r in all_rules()]
    if fmt == "json":
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(f"{row['code']}  {row['name']:<32} fix: {row['fix']:<7} {', '.join(row['frameworks'])}")
    return EXIT_CLEAN


def page_path(code: str) -> Path | None:
    """A rule's page: in the installed package (lossling/pages) or, in a checkout, in rules/."""
    here = Path(__file__).resolve().parent
    for folder in (here / "pages", here.parent / "rules"):
        candidate = folder / f"{code}.md"
        if candidate.is_file():
            return candidate
    return None


def _explain(code: str) -> int:
    code = code.upper()
    rule = rule_by_code().get(code) or next((r for r in all_rules() if r.name == code.lower()), None)
    page = page_path(rule.code) if rule else None
    if rule is None or page is None:
        print(f"lossling: unknown rule '{code}'", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(page.read_text(encoding="utf-8"))
    return EXIT_CLEAN
