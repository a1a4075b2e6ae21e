"""The Singer SDK's standard tap tests, run against the Clever sandbox.

The SDK builds its test class from a config at import time, so the sandbox starts when this
module is collected and stops when the test session ends. Small pages (50) make every stream
page several times; two districts exercise the partitions.
"""

from __future__ import annotations

import atexit

from singer_sdk.testing import get_tap_test_class

from clever_sandbox import SandboxConfig, SandboxServer
from tap_clever.tap import TapClever

_sandbox = SandboxServer(
    SandboxConfig(districts=2, users_per_district=400, seed=11, initial_events=25)
).start()
atexit.register(_sandbox.stop)

TestTapCleverStandard = get_tap_test_class(
    TapClever,
    config={
        "api_url": _sandbox.base_url,
        "oauth_url": _sandbox.base_url,
        "client_id": _sandbox.client_id,
        "client_secret": _sandbox.client_secret,
        "page_size": 50,
    },
)
