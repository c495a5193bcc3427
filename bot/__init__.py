"""The execution core under test (see issue 4)."""
