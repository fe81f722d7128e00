"""Adapters: everything that talks to the outside world (brokers, notifiers, repositories)."""
