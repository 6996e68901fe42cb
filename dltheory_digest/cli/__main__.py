"""`python -m dltheory_digest.cli`: the `dltheory-digest` command without its console script."""

from dltheory_digest.cli import main

main()
