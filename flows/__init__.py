"""Prefect flows: orchestration only; the work is in dltheory_digest.pipeline."""
