"""Inline waivers: ``# riskctl: ignore[CODE, ...] [until: YYYY-MM-DD] reason``.

A waiver sits on the line a finding points at and drops that finding from the report,
for the codes it names. The reason is mandatory: a waiver is a decision someone must be
able to read later. An optional ``until:`` date makes it temporary: from the day after,
the waiver stops working and is itself an error, so a "temporary" exception cannot
quietly become permanent. A waiver that suppresses nothing is a warning, so waivers do
not outlive the problem they excused.

Waivers never suppress findings about waivers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from riskctl.errors import Diagnostic, Location, Severity
from riskctl.lint.catalog import CATALOG
from riskctl.validation import suggest

__all__ = ["Waiver", "Waivers", "parse"]

_COMMENT = re.compile(r"#\s*riskctl:\s*ignore\[(?P<codes>[^\]]*)\](?P<rest>.*)$")
# "until: 2027-01-31" as documented; "until 2027-01-31" too, rather than reading the date as
# part of the reason and never expiring.
_UNTIL = re.compile(r"^\s*until(?::\s*|\s+(?=\d{4}-))(?P<date>\S*)(?P<rest>.*)$")


@dataclass(slots=True)
class Waiver:
    """One waiver comment: where it is, the codes it names, until when, and why."""

    location: Location
    codes: tuple[str, ...]
    reason: str
    until: dt.date | None = None
    used: set[str] = field(default_factory=set)


def parse(path: str, text: str) -> tuple[list[Waiver], list[Diagnostic]]:
    """The well-formed waivers of a file, and a finding for each malformed one."""
    waivers: list[Waiver] = []
    problems: list[Diagnostic] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _COMMENT.search(line)
        if match is None:
            continue
        where = Location(path, number, match.start() + 1)
        waiver, found = _parse_one(where, match["codes"], match["rest"])
        problems.extend(found)
        if waiver is not None:
            waivers.append(waiver)
    return waivers, problems


def _parse_one(
    where: Location, codes_text: str, rest: str
) -> tuple[Waiver | None, list[Diagnostic]]:
    codes = tuple(c.strip() for c in codes_text.split(",") if c.strip())
    problems = [_unknown_code(where, c) for c in codes if c not in CATALOG]
    known = tuple(c for c in codes if c in CATALOG)
    until: dt.date | None = None
    dated = _UNTIL.match(rest)
    if dated is not None:
        try:
            until = dt.date.fromisoformat(dated["date"])
        except ValueError:
            return None, [*problems, _bad_expiry(where, dated["date"])]
        rest = dated["rest"]
    reason = rest.strip()
    if not codes:
        return None, [*problems, _missing(where, "no code between the brackets")]
    if not reason:
        return None, [*problems, _missing(where, "no reason after the codes")]
    return (Waiver(where, known, reason, until) if known else None), problems


def _unknown_code(where: Location, code: str) -> Diagnostic:
    return Diagnostic(
        "waiver.unknown-code",
        f"the waiver names {code!r}, which is not a riskctl diagnostic code",
        where,
        hint=suggest(code, list(CATALOG)) or "riskctl lint --list-codes shows every code",
    )


def _bad_expiry(where: Location, text: str) -> Diagnostic:
    return Diagnostic(
        "waiver.bad-expiry",
        f"the waiver's until: date {text!r} is not a date; write it as YYYY-MM-DD",
        where,
        hint="e.g. # riskctl: ignore[limits.coverage] until: 2027-01-31 paper account",
    )


def _missing(where: Location, what: str) -> Diagnostic:
    return Diagnostic(
        "waiver.missing-reason",
        f"the waiver has {what}; a waiver needs one or more codes and a reason",
        where,
        hint="write # riskctl: ignore[CODE] why this finding is acceptable here",
    )


class Waivers:
    """Every waiver of the files linted, applied to findings on their lines."""

    def __init__(self, texts: Mapping[str, str], *, today: dt.date) -> None:
        self.today = today
        self.problems: list[Diagnostic] = []
        self.by_line: dict[tuple[str, int], list[Waiver]] = {}
        for path, text in texts.items():
            waivers, problems = parse(path, text)
            self.problems.extend(problems)
            for waiver in waivers:
                key = (waiver.location.path, waiver.location.line)
                self.by_line.setdefault(key, []).append(waiver)

    def apply(self, findings: Iterable[Diagnostic]) -> tuple[list[Diagnostic], int]:
        """The findings no active waiver covers, and how many were waived."""
        kept: list[Diagnostic] = []
        waived = 0
        for finding in findings:
            if self._waives(finding):
                waived += 1
            else:
                kept.append(finding)
        return kept, waived

    def _waives(self, finding: Diagnostic) -> bool:
        if finding.code.startswith("waiver."):
            return False
        key = (finding.location.path, finding.location.line)
        for waiver in self.by_line.get(key, ()):
            if finding.code in waiver.codes:
                waiver.used.add(finding.code)
                if not self._expired(waiver):
                    return True
        return False

    def _expired(self, waiver: Waiver) -> bool:
        return waiver.until is not None and waiver.until < self.today

    def findings(
        self, *, checked: Collection[str], skipped_codes: Collection[str]
    ) -> Iterator[Diagnostic]:
        """Malformed, expired and unused waivers.

        ``checked`` are the files every check ran on; elsewhere (files that did not load)
        an unused waiver may only mean its check did not run, so it is not reported. Nor
        is one for ``skipped_codes``, the codes of checks that were not asked for.
        """
        yield from self.problems
        for waivers in self.by_line.values():
            for waiver in waivers:
                yield from self._report(waiver, checked, skipped_codes)

    def _report(
        self, waiver: Waiver, checked: Collection[str], skipped_codes: Collection[str]
    ) -> Iterator[Diagnostic]:
        if self._expired(waiver):
            yield Diagnostic(
                "waiver.expired",
                f"the waiver for {', '.join(waiver.codes)} expired on {waiver.until}; what it"
                " excused is reported again",
                waiver.location,
                hint="fix the finding, or renew the waiver with a new date and reason",
            )
            return
        if waiver.location.path not in checked:
            return
        for code in waiver.codes:
            if code not in waiver.used and code not in skipped_codes:
                yield Diagnostic(
                    "waiver.unused",
                    f"the waiver for {code} suppresses nothing on this line",
                    waiver.location,
                    Severity.WARNING,
                    hint="remove it (or the code from it): the finding it excused is gone",
                )
