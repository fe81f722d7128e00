"""Contract suites: subclass one in your tests and provide its fixtures.

``from tradecore.testing.contracts.broker import BrokerPortContract`` — fixtures ``broker`` and
``tradable_instrument``; ``from tradecore.testing.contracts.repository import
RepositoryPortContract`` — fixture ``repository``. They need pytest and pytest-asyncio
(``pip install 'tradecore[testing]'``).
"""
