"""One module per claim kind; each defines one ClaimKind subclass (see harness.claims.base)."""
