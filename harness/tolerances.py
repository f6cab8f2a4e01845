"""What a claim allows: the manifest's ``tolerance:`` (an equivalence or non-inferiority
margin, or a false-alarm rate) and ``spread:`` (what a claimed +/- means). Value objects of
the core layer: the manifest (harness.intake.manifest) declares its claims with them and the
statistics (harness.stats) compute with them, neither importing the other."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """Frozen, unknown fields rejected, no inf/NaN: a tolerance of .inf means nothing."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Spread(Strict):
    kind: Literal["sd", "se", "ci"] = Field(description="What the +/- means.")
    value: float = Field(ge=0, description="sd or se; for ci the half-width.")
    n: int = Field(ge=1, description="Number of independent trials (seeds).")
    level: float = Field(default=0.95, gt=0, lt=1, description="Confidence level of a ci.")


class AbsoluteTolerance(Strict):
    kind: Literal["absolute"]
    value: float = Field(ge=0)


class RelativeTolerance(Strict):
    kind: Literal["relative"]
    value: float = Field(ge=0)


class DistanceTolerance(Strict):
    kind: Literal["distance"]
    statistic: Literal["tvd", "hellinger", "infidelity"]
    value: float = Field(ge=0, le=1)


class ShotNoiseTolerance(Strict):
    kind: Literal["shot-noise"]
    alpha: float = Field(default=0.01, gt=0, lt=1, description="False-alarm rate.")


class ExactTolerance(Strict):
    kind: Literal["exact"]


Tolerance = Annotated[
    AbsoluteTolerance | RelativeTolerance | DistanceTolerance | ShotNoiseTolerance | ExactTolerance,
    Field(discriminator="kind"),
]
