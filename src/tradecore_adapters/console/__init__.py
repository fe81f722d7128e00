"""The console notifier: prints a cycle's digest to a terminal."""
