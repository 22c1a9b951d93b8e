"""The policy document envelope shared by every kind, in the spirit of Kubernetes objects."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from riskctl.fields import Identifier, StrictModel

__all__ = ["API_VERSION", "Metadata", "PolicyDocument"]

API_VERSION = "riskctl/v1"

LabelKey = Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$")]
LabelValue = Annotated[str, Field(max_length=200)]


class Metadata(StrictModel):
    """Who owns a policy document and which version it is."""

    name: Identifier = Field(description="Document name, unique per kind in the bundle.")
    version: int = Field(
        strict=True,
        ge=1,
        le=1_000_000_000,
        description="Bumped on every change; decisions record it with the bundle hash.",
    )
    owner: str = Field(
        min_length=1, max_length=100, description="Team or person accountable, e.g. desk-crypto."
    )
    description: str | None = Field(
        default=None, max_length=2000, description="What this document is for."
    )
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict, description="Free-form labels for selection and reporting."
    )


class PolicyDocument(StrictModel):
    """Envelope fields; each kind subclasses this with its own ``kind`` literal and ``spec``."""

    api_version: Literal["riskctl/v1"] = Field(
        alias="apiVersion", description="Schema version of the document format: riskctl/v1."
    )
    kind: str = Field(description="Which policy kind the spec is.")
    metadata: Metadata = Field(description="Name, version and ownership.")

    @property
    def ref(self) -> str:
        """``Kind/name``: how decisions, audits and change proposals name a document."""
        return f"{self.kind}/{self.metadata.name}"
