"""JUnit XML, for CI systems that show test reports: one test suite per checked file, one failing test case per
finding (a passing one for a file without findings), an error case for a file that could not be checked."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from .common import Report, severity, shown

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot hold


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def junit(report: Report) -> str:
    findings, errors = report.findings, report.errors
    root = ET.Element("testsuites", name="lossling", tests=str(len(findings) + _clean_files(report) + len(errors)),
                      failures=str(len(findings)), errors=str(len(errors)))
    for result in report.results:
        path = _clean(shown(result.path))
        suite = ET.SubElement(root, "testsuite", name=path)
        if result.error is not None:
            case = ET.SubElement(suite, "testcase", name="lossling", classname=path)
            ET.SubElement(case, "error", message=_clean(str(result.error)))
        for finding in result.findings:
            where = (f"cell {finding.cell}, " if finding.cell is not None else "") + \
                f"line {finding.line}, col {finding.col + 1}"
            case = ET.SubElement(suite, "testcase", name=finding.code, classname=path, line=str(finding.line),
                                 column=str(finding.col + 1))
            properties = ET.SubElement(case, "properties")
            ET.SubElement(properties, "property", name="severity", value=severity(finding.code))
            failure = ET.SubElement(case, "failure", message=_clean(finding.message), type=finding.code)
            failure.text = _clean(f"{where}: {finding.message}")
        if result.error is None and not result.findings:
            ET.SubElement(suite, "testcase", name="lossling", classname=path)
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(len(result.findings)))
        suite.set("errors", str(int(result.error is not None)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _clean_files(report: Report) -> int:
    return sum(1 for r in report.results if r.error is None and not r.findings)
