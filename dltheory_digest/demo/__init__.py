"""The embedded default: a bundled snapshot of the product's sources, served on 127.0.0.1.

`dltheory-digest demo` starts a `SnapshotServer`, writes a sources.yaml pointing at it
(`write_demo_sources`), and runs the real weekly flow for `DEMO_WEEK` with
`demo_settings_overrides`; `write_demo_digest` then puts the digest in the output folder,
beside (never over) a real digest of that week.
"""

from dltheory_digest.demo.output import DemoTarget, demo_target, write_demo_digest
from dltheory_digest.demo.server import (
    DEMO_WEEK,
    SNAPSHOT_DIR,
    SnapshotServer,
    demo_settings_overrides,
    write_demo_sources,
)

__all__ = [
    "DEMO_WEEK",
    "SNAPSHOT_DIR",
    "DemoTarget",
    "SnapshotServer",
    "demo_settings_overrides",
    "demo_target",
    "write_demo_digest",
    "write_demo_sources",
]
