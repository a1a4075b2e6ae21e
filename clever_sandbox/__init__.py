"""clever_sandbox: a local, deterministic fake of the Clever API for tests and benchmarks.

It serves synthetic rostering data through the Data API v3.1 (``/v3.1/{districts, schools,
users, sections, terms, courses, resources}``), the Events API (``/v3.1/events``) and
``/oauth/tokens``, with Clever's paging, auth, rate limits and data quirks, plus fault
injection and a ``/_sandbox/...`` control API. It is an independent model built from Clever's
docs: it never imports the tap, so a misreading of the docs is not shared between the two.

In process::

    from clever_sandbox import SandboxConfig, SandboxServer

    with SandboxServer(SandboxConfig(districts=2, users_per_district=500, seed=7)) as sandbox:
        sandbox.base_url, sandbox.district_tokens, sandbox.district_ids
        events = sandbox.random_changes(n=50, seed=1)

From a shell: ``clever-sandbox serve --port 8765``. See ``clever_sandbox/README.md``.
"""

from .changes import ChangeError
from .config import SandboxConfig
from .faults import FaultRule
from .sandbox import Sandbox
from .server import SandboxServer

__all__ = ["ChangeError", "FaultRule", "Sandbox", "SandboxConfig", "SandboxServer"]
