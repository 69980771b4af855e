"""Where the examples send their agents: the demo shop hosted by the lanterna server."""

import os

SERVER = os.environ.get("LANTERNA_API_URL") or os.environ.get("NOTTE_API_URL") or "http://127.0.0.1:8000"
SHOP = os.environ.get("LANTERNA_DEMO_URL", f"{SERVER.rstrip('/')}/demo")
