"""Locust entry point: the pretix purchase users and the stages shape live in ops/load (see loadtest/README.md)."""
import sys
from pathlib import Path

from locust import events

# `locust -f loadtest/locustfile.py` puts loadtest/ on sys.path, not the repository: make ops importable
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ops.load.shape import StagesShape  # noqa: E402,F401 (Locust finds the classes in this module)
from ops.load.users import ApiBuyer, Buyer, Looker, install  # noqa: E402,F401

install(events)
