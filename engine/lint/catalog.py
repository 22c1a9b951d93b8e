"""Every diagnostic code riskctl can report about a policy file, with a one-line summary.

SARIF rule ids, ``riskctl lint --list-codes`` and waivers all read this table, so a code
that is not here is a bug (a test enforces it).
"""

from __future__ import annotations

__all__ = ["CATALOG"]

CATALOG: dict[str, str] = {
    # files and YAML
    "file.not-found": "A path given to riskctl does not exist.",
    "file.no-policies": "A directory holds no *.yaml or *.yml policy files.",
    "file.unreadable": "A policy file cannot be read.",
    "file.too-large": "A policy file is larger than the 1 MiB limit.",
    "file.not-utf8": "A policy file is not valid UTF-8.",
    "yaml.syntax": "The file is not valid YAML.",
    "yaml.duplicate-key": "A mapping repeats a key; the second would silently win.",
    "yaml.tab-indent": "A tab is used for indentation; YAML indents with spaces.",
    "yaml.empty": "The file holds no document.",
    "yaml.multi-document": "The file holds more than one YAML document.",
    "yaml.too-many-nodes": "Anchors and aliases expand the document beyond the node limit.",
    "yaml.too-deep": "The document nests too deeply to load.",
    "yaml.bad-number": "A number cannot be read (for example, an integer of thousands of digits).",
    # documents and fields
    "policy.not-a-mapping": "The document is not a mapping.",
    "policy.unknown-api-version": "apiVersion is not riskctl/v1.",
    "policy.unknown-kind": "kind is not a known policy kind.",
    "policy.missing-field": "A required field is missing.",
    "policy.unknown-key": "A key is not a field of the model (often a typo).",
    "policy.wrong-type": "A value has the wrong type.",
    "policy.out-of-bounds": "A value is outside the field's bounds.",
    "policy.not-finite": "A number is NaN or infinite.",
    "policy.wrong-length": "A string or list is too short or too long.",
    "policy.bad-format": "A string does not match the field's format.",
    "policy.invalid-choice": "A value is not one of the allowed choices.",
    "policy.invalid-value": "A value is refused by the field's validation.",
    "policy.duplicate-name": "Two documents of the same kind share metadata.name.",
    "policy.environment-mismatch": "RiskLimits documents disagree on the environment.",
    # expressions and rules
    "expr.syntax": "An expression does not parse.",
    "expr.forbidden": "An expression uses syntax or a call outside the safe subset.",
    "expr.too-large": "An expression is too large.",
    "expr.unknown-name": "An expression names a field its stage's context does not have.",
    "expr.wrong-stage": "An expression names a field of another stage's context.",
    "expr.not-a-value": "An expression uses a group of fields as a value.",
    "expr.type-mismatch": "An expression combines values of incompatible types.",
    "expr.wrong-type": "An expression has the wrong result type (condition vs number).",
    "expr.invalid-choice": "An expression compares a field with a value it can never have.",
    "expr.nullable": "A condition may be null, which is neither true nor false.",
    "expr.always-same": "A test in an expression always has the same result.",
    "scope.outside-universe": "A rule, breaker, alert or band set is scoped to nothing traded.",
    "instruments.outside-universe": "An Instruments entry is for a pair no universe trades.",
    "instruments.missing": "A traded pair has conformance checks on but no Instruments entry.",
    "rule.duplicate-id": "Two rules share an id.",
    "expr.constant-condition": "A condition or part of one is always true or always false.",
    "expr.null-never-matches": "== or in on a field that may be null, with no is-None test of it.",
    "expr.division-by-zero-risk": "An expression divides by a value that can be 0, unguarded.",
    "rule.shadowed": "A rule repeats the stage, scope, mode and condition of an earlier rule.",
    # consistency
    "alert.warn-beyond-critical": "An alert's warn level is past its critical level.",
    "alert.duplicate-name": "Two alerts share a name.",
    "alert.share-not-positive": "An of_limit alert's warn or critical percent is not above 0.",
    "alert.limit-unset": "An of_limit alert's limit is set for none of the pairs it watches.",
    "alert.limit-varies": "An of_limit alert's limit differs across the pairs it watches.",
    "breaker.duplicate-name": "Two circuit breakers share a name.",
    "breaker.cooldown-shorter-than-window": "A breaker cools down before its count window ends.",
    "bands.unordered": "Inventory bands do not strictly increase (they overlap or repeat).",
    "bands.hysteresis-too-wide": "A band set's hysteresis is wider than its narrowest band.",
    "bands.ratio-above-one": "A position_ratio band ends above 1, which the ratio never reaches.",
    # limits
    "limits.duplicate-scope": "RiskLimits.scoped lists the same scope twice.",
    "limits.scope-outside-universe": "A scoped limit names a venue or symbol not in spec.venues.",
    "limits.looser-than-parent": "A more specific scope sets a looser limit than a wider one.",
    "limits.position-below-order": "max_position_qty is below max_order_qty for a symbol.",
    "limits.coverage": "A traded symbol lacks an order-size, notional, collar or loss limit.",
    # change discipline (lint --base)
    "change.bad-base": "The --base revision cannot be read.",
    "change.version-not-bumped": "A document changed since --base but kept its version.",
    "change.version-decreased": "A document's metadata.version is lower than at --base.",
    # change control (`riskctl propose`, `apply`, `history`, `rollback`; riskctl.change)
    "change.no-change-control": "A proposal was made but the policies hold no ChangeControl.",
    "change.expired": "A proposal's expires_at has passed.",
    "change.unknown-policy": "A proposed change names a document the policies do not have.",
    "change.no-such-field": "A proposed change names no single existing value.",
    "change.stale": "A proposed change's from differs from the value in the file.",
    "change.protected": "A proposed change touches a protected path.",
    "change.not-allowed": "A proposed change touches a path no allow entry covers.",
    "change.not-a-number": "A proposed change under numeric bounds is not a number.",
    "change.below-min": "A proposed value is below the allow entry's min.",
    "change.above-max": "A proposed value is above the allow entry's max.",
    "change.step-too-large": "A proposed value moves further than one step from the current.",
    "change.drift-too-large": "A proposed value moves further than one step from the day's "
    "baseline.",
    "change.daily-budget": "The proposal would exceed max_changes_per_day.",
    "change.invalid-result": "The policies after the change do not load or have lint errors.",
    "change.stale-plan": "The policy files changed since the plan was made.",
    "change.bad-plan": "A plan file was edited or cannot be rebuilt.",
    "change.approval-required": "The change needs --approved-by (ChangeControl approval).",
    "change.self-approval": "The approver is the proposal's author.",
    "change.unknown-receipt": "rollback --to names no receipt of the change log.",
    "change.log-malformed": "A change log line is not a JSON object.",
    "change.log-gap": "A change receipt's seq does not follow the one before it.",
    "change.log-prev-mismatch": "A change receipt does not point at the hash of the one before.",
    "change.log-hash-mismatch": "A change receipt's content does not match its hash (edited).",
    "change.files-differ": "The policy files do not hash to the last receipt's new hash.",
    "change.not-due": "An expiry names a receipt that is not an open override due now.",
    "change.expiry-superseded": "An expired override left a field that changed since it as is.",
    # the change-control watchdog (ChangeControl spec.watchdog)
    "watchdog.drop-beyond-loss-limit": "A watchdog's session_pnl drop is at or past the "
    "smallest max_daily_loss or max_drawdown.",
    # hygiene
    "hygiene.secret": "A policy file holds something that looks like a credential.",
    # waivers
    "waiver.missing-reason": "A waiver comment names no code or gives no reason.",
    "waiver.unknown-code": "A waiver names a code riskctl does not have.",
    "waiver.bad-expiry": "A waiver's until: date is not a YYYY-MM-DD date.",
    "waiver.expired": "A waiver's until: date has passed; its finding is reported again.",
    "waiver.unused": "A waiver suppresses nothing on its line.",
    # reloads and policy test files (reported by the gate and `riskctl test`)
    "reload.immutable-changed": "A reload changes the environment or the venue accounts.",
    "reload.version-not-bumped": "A reload changes a document's content under the same "
    "metadata.version.",
    "reload.failed": "A reload failed for a reason other than a located policy problem.",
    # the stateful runtime (`riskctl run`, the state store and its audit log)
    "runtime.error": "A runtime machine failed on a context; the decision is a reject.",
    "state.commit-failed": "The runtime could not commit its state; the decision is a reject.",
    "input.invalid": "A `riskctl run` line is not JSON or not a {stage, context} object.",
    # session files (`riskctl replay`, riskctl.session)
    "session.malformed-json": "A session line is not valid JSON.",
    "session.not-an-object": "A session line is JSON but not an object.",
    "session.unknown-type": "A session line's type is not one of the session event types.",
    "session.invalid-field": "A session event field is missing or has a bad value.",
    "session.misplaced-header": "The session header is not the first line.",
    "session.line-too-long": "A session line is longer than the reader accepts.",
    "session.unreadable": "The session file cannot be read (missing, or not gzip).",
    "session.not-utf8": "A session line is not UTF-8 text.",
    "order.fix-not-converging": "Fixing an order (clip, round) did not settle on one that passes.",
    "test.no-policies": "No policy files were found to run a policy test file against.",
    "test.not-a-mapping": "A policy test file is not a mapping.",
    "test.duplicate-case": "Two cases of a policy test file share a name.",
    "test.unknown-rule": "A policy test case names a rule id the policies do not have.",
    "test.unknown-name": (
        "A timeline step names a breaker, band set or alert the policies do not have."
    ),
    # the state store and its audit chain (riskctl.state)
    "store.no-directory": "A state file's directory does not exist.",
    "store.not-a-file": "A state path names a directory.",
    "store.not-sqlite": "A state file is not an SQLite file.",
    "store.not-riskctl": "A state file is an SQLite file of another program.",
    "store.no-wal": "A state file cannot use a WAL journal.",
    "store.schema-too-new": "A state file's schema is newer than this riskctl knows.",
    "store.busy": "A state file stayed locked by another writer past the busy timeout.",
    "store.write-failed": "A write to a state file failed and was rolled back.",
    "audit.gap": "An audit record's sequence number does not follow the one before it.",
    "audit.prev-mismatch": "An audit record does not point at the hash of the one before it.",
    "audit.hash-mismatch": "An audit record's content does not match its hash.",
}
