"""dltheory-digest: a weekly digest of deep-learning theory, grouped by research direction."""

__version__ = "0.1.0"
