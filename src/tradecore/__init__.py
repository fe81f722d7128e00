"""tradecore: automate a trader's brokers (filled in with the services)."""
