"""Named incident scenarios, their runner and invariants (see issue 5)."""
