"""The ``paper`` broker: a deterministic simulated venue, so everything runs with no credentials.

Prices are a seeded random walk, the account has a reproducible trading history that grows with
the clock, and orders placed through it fill against the simulated prices. Nothing here touches
the network. The broker is registered by :mod:`tradecore_adapters.paper.plugin`.
"""
