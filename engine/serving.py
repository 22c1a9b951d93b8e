"""What makes a bundle unfit to serve, beyond loading: lint errors and silent changes.

A bundle that loads can still be wrong in ways only lint sees: a ``risk-limits.yaml``
truncated mid-write before ``scoped:`` loads fine with fewer limits. And a document whose
content changed while its ``metadata.version`` did not makes every decision that cites
the version lie. :func:`serving_problems` finds both; :meth:`riskctl.Gate.reload` and
``load_bundle(..., serving=True)`` refuse a bundle that has any.
"""

from __future__ import annotations

from riskctl.bundle import PolicyBundle
from riskctl.errors import Diagnostic, Severity
from riskctl.lint import lint_policies

__all__ = ["serving_problems"]


def serving_problems(
    bundle: PolicyBundle, *, in_force: PolicyBundle | None = None
) -> tuple[Diagnostic, ...]:
    """Lint errors of ``bundle`` (their own codes) and, against ``in_force``, every document
    changed under an unchanged version (``reload.version-not-bumped``). Empty: fit to serve.

    Lint runs over the documents already loaded, never re-reading a file, so what is
    checked is exactly what would serve. Warnings do not block serving.
    """
    errors = [d for d in lint_policies(bundle.policies).diagnostics if d.severity is Severity.ERROR]
    unbumped = _unbumped(in_force, bundle) if in_force is not None else []
    return tuple(sorted(unbumped + errors, key=Diagnostic.sort_key))


def _unbumped(old: PolicyBundle, new: PolicyBundle) -> list[Diagnostic]:
    problems = []
    for policy in new.policies:
        ref = policy.document.ref
        version = policy.document.metadata.version
        if old.versions.get(ref) == version and old.digests[ref] != new.digests[ref]:
            problems.append(
                Diagnostic(
                    "reload.version-not-bumped",
                    f"{ref} changed but its metadata.version is still {version}; decisions "
                    "cite the version, so a change must bump it",
                    policy.source.location(("metadata", "version")),
                    hint=f"set metadata.version to {version + 1} if the change is intended",
                )
            )
    return problems
