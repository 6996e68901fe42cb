"""dltheory-digest: a weekly digest of deep-learning theory, grouped by research direction."""

__version__ = "0.2.0"
