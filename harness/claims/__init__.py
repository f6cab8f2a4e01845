"""Claims: each kind (harness.claims.kinds) says which manifest shape it accepts, which runs
it reads and which test decides it; harness.claims.registry maps names to kinds."""

from harness.claims.evaluate import evaluate_claims, flag_discrepancies, needs_ideal, wants_fresh

__all__ = ["evaluate_claims", "flag_discrepancies", "needs_ideal", "wants_fresh"]
