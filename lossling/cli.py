"""The ``lossling`` command: check, fix, rules, explain, clean, server."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import IO, Callable, Iterator

from . import __version__
from .cache import CACHE_DIR, is_cache
from .config import (DEFAULT_EXCLUDE, ConfigError, Settings, check_codes, describe, find_config, forget, load,
                     override, per_file_ignore)
from .discovery import discover, kind_of
from .document import Document, FileResult, FixOutcome, check_document, fix_document, read_document
from .engine import SourceError
from .formats import (FOR_PEOPLE, FORMATS, PLAIN, Report, Style, error_line, finding_line, render, shown,
                      statistics, summary, unified_diff)
from .pages import page_path
from .rule import all_rules, rule_by_code
from .runner import Target, check_files, default_jobs, fix_files, parallel_map

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
    common.add_argument("--per-file-ignores", type=str, action="append", metavar="GLOB:CODES",
                        help="codes to ignore in the files a glob (from the current folder) matches, e.g. "
                             "'tests/*:LOSS1'; repeatable; replaces the configuration's per-file-ignores")
    common.add_argument("--config", help="a pyproject.toml ([tool.lossling]) or lossling.toml (top-level keys)")
    common.add_argument("--stdin-filename", help="the path standard input stands for (config matching, output)")
    common.add_argument("-j", "--jobs", type=int, default=default_jobs(), help="processes (default: cores)")
    common.add_argument("--no-cache", action="store_true", help="check every file afresh; read and write no cache")
    common.add_argument("--cache-dir", default=CACHE_DIR, help=f"where results are cached (default: {CACHE_DIR})")
    common.add_argument("--exit-zero", action="store_true",
                        help="exit 0 even when findings remain (2 still means an error)")
    common.add_argument("-q", "--quiet", action="store_true", help="print findings only: no summary")
    common.add_argument("-s", "--silent", action="store_true", help="print nothing; the exit code tells")
    common.add_argument("--show-settings", action="store_true",
                        help="print the settings each path gets, as a lossling.toml, and check nothing")
    common.add_argument("--show-files", action="store_true", help="print the files that would be checked")

    check = commands.add_parser("check", parents=[common], help="report findings")
    check.add_argument("--format", choices=FORMATS, default="text")
    check.add_argument("--statistics", action="store_true",
                       help="count findings per rule, and say how many are fixable (JSON with --format json)")
    check.add_argument("-o", "--output-file", help="write the report to this file instead of standard output")
    check.add_argument("--add-noqa", action="store_true",
                       help="add '# noqa: CODE' to every line with a finding, instead of reporting it")

    fix = commands.add_parser("fix", parents=[common], help="apply fixes")
    fix.add_argument("--unsafe-fixes", action="store_true", default=None, help="also apply fixes that change values")
    fix.add_argument("--diff", action="store_true", help="print a unified diff and write nothing")
    fix.add_argument("--show-fixes", action="store_true", help="list what was fixed, per file and rule")
    fix.add_argument("--exit-non-zero-on-fix", action="store_true",
                     help="exit 1 when a file was fixed, even if no finding remains")

    rules = commands.add_parser("rules", help="list every rule")
    rules.add_argument("--format", choices=("text", "json"), default="text")

    explain = commands.add_parser("explain", help="print a rule's page")
    explain.add_argument("code")

    commands.add_parser("server", help="run the language server (LSP over standard input and output)")
    clean = commands.add_parser("clean", help=f"remove the result cache ({CACHE_DIR} here and below)")
    clean.add_argument("--cache-dir", help="remove this cache folder instead")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        forget()
        if args.command == "rules":
            return _rules(args.format)
        if args.command == "explain":
            return _explain(args.code)
        if args.command == "server":
            from .server import main as serve  # pygls: imported only by the server

            return serve()
        if args.command == "clean":
            return _clean(args.cache_dir)
        return _run(args)
    except ConfigError as error:
        print(f"lossling: {error}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("lossling: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


class Console:
    """Where a run writes: the report on standard output (or ``--output-file``); notes for people (the summary)
    and the files that could not be checked on standard error. ``--quiet`` drops the notes, ``--silent``
    everything but a fatal error."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.quiet, self.silent = args.quiet or args.silent, args.silent

    def report(self, text: str, stream: IO[str] | None = None) -> None:
        if text and not self.silent:
            print(text, file=stream or sys.stdout)

    def note(self, text: str) -> None:
        if not self.quiet:
            sys.stdout.flush()  # after the report, also when both go to one terminal or file
            print(text, file=sys.stderr)

    def problem(self, text: str) -> None:
        if not self.silent:
            sys.stdout.flush()
            print(text, file=sys.stderr)


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
    if args.per_file_ignores is not None:
        flags["per_file_ignores"] = tuple(per_file_ignore(value) for value in args.per_file_ignores)
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
    console = Console(args)
    if args.paths == ["-"]:
        if args.show_settings:
            print(describe(settings_for(args.stdin_filename or "."), args.stdin_filename or "-"))
            return EXIT_CLEAN
        return _stdin(args, settings_for(args.stdin_filename or "."), console)
    if "-" in args.paths:
        raise ConfigError("'-' (standard input) cannot be mixed with paths")
    missing = [path for path in args.paths if not os.path.exists(path) and not os.path.islink(path)]
    for path in missing:
        console.problem(error_line(FileResult(path, error=SourceError("no such file or folder"))))
    present = [path for path in args.paths if path not in missing]
    if args.show_settings:
        print("\n\n".join(describe(settings_for(path), shown(path)) for path in present))
        return EXIT_ERROR if missing else EXIT_CLEAN
    found = discover(present, settings_for)
    if args.show_files:
        for file in sorted(found):
            print(shown(file))
        return EXIT_ERROR if missing else EXIT_CLEAN
    files = [Target(file, kind_of(file), settings_for(file)) for file in found]
    jobs = max(1, args.jobs)
    if args.command == "check":
        status = _check(files, args, jobs, console)
    else:
        status = _fix(files, args, jobs, console)
    return EXIT_ERROR if missing else status


def _check(files: list[Target], args: argparse.Namespace, jobs: int, console: Console) -> int:
    if args.add_noqa:
        return _add_noqa(files, jobs, console)
    results = sorted(check_files(files, jobs, _cache_dir(args)), key=lambda r: r.path)
    unsafe = frozenset(target.path for target in files if target.settings.unsafe_fixes)
    return _report(Report(results, unsafe), args, console)


def _add_noqa(files: list[Target], jobs: int, console: Console) -> int:
    """``--add-noqa``: silence every finding where it is, with a comment; what could not be silenced is listed."""
    from .add_noqa import add_noqa_file

    outcomes = sorted(parallel_map(add_noqa_file, [(target,) for target in files], jobs), key=lambda o: o.path)
    remaining = [f for o in outcomes for f in o.remaining]
    console.report("\n".join(finding_line(f) for f in remaining))
    for outcome in outcomes:
        if outcome.error is not None:
            console.problem(error_line(FileResult(outcome.path, error=outcome.error)))
    added = sum(len(o.fixed) for o in outcomes)
    changed = sum(1 for o in outcomes if o.changed)
    console.note(f"Added # noqa for {added} finding{'s' * (added != 1)} in {changed} file{'s' * (changed != 1)}")
    if any(o.error is not None for o in outcomes):
        return EXIT_ERROR
    return EXIT_FINDINGS if remaining else EXIT_CLEAN


def _cache_dir(args: argparse.Namespace) -> str | None:
    return None if args.no_cache else args.cache_dir


def _report(report: Report, args: argparse.Namespace, console: Console) -> int:
    """Print a check's report in its format (the statistics instead with --statistics), then, for people, the
    files that could not be checked and the summary on standard error."""
    fmt = args.format
    people = fmt in FOR_PEOPLE
    if args.output_file:
        body = statistics(report, fmt) if args.statistics else render(report, fmt)
        try:
            with open(args.output_file, "w", encoding="utf-8") as out:
                out.write(body + "\n" if body else "")
        except OSError as error:
            raise ConfigError(f"{args.output_file}: cannot write the report: {error.strerror or error}") from None
    else:
        style = Style.for_stream(sys.stdout) if people else PLAIN
        console.report(statistics(report, fmt) if args.statistics else render(report, fmt, style))
    if people or args.statistics:  # the machine formats carry the errors themselves; the statistics do not
        for result in report.errors:
            console.problem(error_line(result))
    if people:
        console.note(summary(report))
    if report.errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if report.findings and not args.exit_zero else EXIT_CLEAN


def _fix(files: list[Target], args: argparse.Namespace, jobs: int, console: Console) -> int:
    outcomes = sorted(fix_files(files, write=not args.diff, jobs=jobs, cache_dir=_cache_dir(args)),
                      key=lambda o: o.path)
    unsafe = frozenset(target.path for target in files if target.settings.unsafe_fixes)
    return _fix_report(outcomes, args, console, unsafe)


def _fix_report(outcomes: list[FixOutcome], args: argparse.Namespace, console: Console,
                unsafe: frozenset[str] = frozenset()) -> int:
    errors = [o for o in outcomes if o.error is not None]
    if args.diff:
        for outcome in outcomes:
            if outcome.changed and outcome.error is None and not console.silent:
                sys.stdout.write(unified_diff(outcome.before, outcome.after, outcome.path))
        for outcome in errors:
            console.problem(error_line(FileResult(outcome.path, error=outcome.error)))
        if errors:
            return EXIT_ERROR
        return EXIT_FINDINGS if any(o.changed for o in outcomes) and not args.exit_zero else EXIT_CLEAN
    fixed = sum(len(o.fixed) for o in outcomes)
    changed = sum(1 for o in outcomes if o.fixed)
    remaining = Report([FileResult(o.path, o.remaining) for o in outcomes], unsafe)
    style = Style.for_stream(sys.stdout)
    console.report("\n".join(finding_line(f, style=style) for f in remaining.findings))
    for outcome in errors:
        console.problem(error_line(FileResult(outcome.path, error=outcome.error)))
    if args.show_fixes and not console.quiet:
        console.report("\n".join(_fixes_by_file(outcomes)))
    if not console.quiet:
        more = sum(map(remaining.unsafe_only, remaining.findings))
        unsafe_note = f"; {more} fixable with `--unsafe-fixes`" if more else ""
        console.report(f"Fixed {fixed} finding{'s' * (fixed != 1)} in {changed} file{'s' * (changed != 1)} "
                       f"({len(remaining.findings)} remaining{unsafe_note})")
    if errors:
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_CLEAN
    return EXIT_FINDINGS if remaining.findings or (args.exit_non_zero_on_fix and changed) else EXIT_CLEAN


def _fixes_by_file(outcomes: list[FixOutcome]) -> Iterator[str]:
    """``--show-fixes``: each fixed file, then per rule how many of its findings were fixed."""
    names = {rule.code: rule.name for rule in all_rules()}
    for outcome in outcomes:
        if outcome.fixed:
            yield f"Fixed in {shown(outcome.path)}:"
            counts: dict[str, int] = {}
            for finding in outcome.fixed:
                counts[finding.code] = counts.get(finding.code, 0) + 1
            for code in sorted(counts):
                yield f"  {counts[code]:>4}  {code}  {names.get(code, '')}".rstrip()


def _stdin(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Standard input, as the file ``--stdin-filename`` names (a ``.ipynb`` name reads a notebook); ``fix -``
    writes the fixed file to standard output, and the input unchanged when it cannot be fixed (an editor piping
    through us must get its text back)."""
    if args.command == "check" and args.add_noqa:
        raise ConfigError("--add-noqa edits files: it cannot read standard input")
    name = args.stdin_filename or "-"
    data = sys.stdin.buffer.read()
    unsafe = frozenset({name}) if settings.unsafe_fixes else frozenset()
    rules = settings.rules(name)
    document: Document | None = None
    try:
        document = read_document(kind_of(name), data, name)
    except SourceError as error:
        failed = error
    if args.command == "check":
        if document is None:
            return _report(Report([FileResult(name, error=failed)]), args, console)
        return _report(Report([check_document(document, rules)], unsafe, {name: document.text()}), args, console)
    outcome = (fix_document(document, rules, settings.unsafe_fixes) if document is not None
               else FixOutcome(name, error=failed))
    if args.diff:
        return _fix_report([outcome], args, console, unsafe)
    if outcome.error is not None:
        sys.stdout.buffer.write(data)
        console.problem(error_line(FileResult(name, error=outcome.error)))
        return EXIT_ERROR
    sys.stdout.buffer.write(data if outcome.data is None else outcome.data)
    return _stdin_fixed(outcome.remaining, bool(outcome.fixed), args, console)


def _stdin_fixed(remaining: list, fixed: bool, args: argparse.Namespace, console: Console) -> int:
    """After ``fix -`` wrote the source: what remains goes to standard error, and the exit code."""
    for finding in remaining:
        console.problem(finding_line(finding))
    if args.exit_zero:
        return EXIT_CLEAN
    return EXIT_FINDINGS if remaining or (args.exit_non_zero_on_fix and fixed) else EXIT_CLEAN


def _rules(fmt: str) -> int:
    rows = [{"code": r.code, "name": r.name, "summary": r.summary, "frameworks": list(r.frameworks),
             "fix": r.fix_safety.value} for r in all_rules()]
    if fmt == "json":
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(f"{row['code']}  {row['name']:<32} fix: {row['fix']:<7} {', '.join(row['frameworks'])}")
    return EXIT_CLEAN


def _explain(code: str) -> int:
    code = code.upper()
    rule = rule_by_code().get(code) or next((r for r in all_rules() if r.name == code.lower()), None)
    page = page_path(rule.code) if rule else None
    if rule is None or page is None:
        print(f"lossling: unknown rule '{code}'", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(page.read_text(encoding="utf-8"))
    return EXIT_CLEAN


def _clean(cache_dir: str | None) -> int:
    """Remove ``--cache-dir``, or every ``.lossling_cache`` in the current folder and below (a run from a
    subfolder keeps its own). A folder that holds anything but cache entries is left alone, with a message."""
    if cache_dir is not None:
        if not os.path.isdir(cache_dir):
            print(f"lossling: no cache at {cache_dir}", file=sys.stderr)
            return EXIT_CLEAN
        folders = [cache_dir]
    else:
        folders = list(_caches_below("."))
    status = EXIT_CLEAN
    for folder in folders:
        if not is_cache(folder):
            print(f"lossling: {shown(folder)} holds files that are not cache entries; left as it is", file=sys.stderr)
            status = EXIT_ERROR
            continue
        shutil.rmtree(folder)
        print(f"Removed {shown(folder)}", file=sys.stderr)
    return status


def _caches_below(top: str) -> Iterator[str]:
    skipped = set(DEFAULT_EXCLUDE) - {CACHE_DIR}
    for folder, subfolders, _ in os.walk(top):
        if CACHE_DIR in subfolders:
            yield os.path.normpath(os.path.join(folder, CACHE_DIR))
        subfolders[:] = [name for name in subfolders if name not in skipped and name != CACHE_DIR]
