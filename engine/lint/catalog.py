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
    "rule.duplicate-id": "Two rules share an id.",
}
