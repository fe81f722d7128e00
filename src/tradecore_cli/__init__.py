"""The ``tradecore`` command line: parse, bootstrap, call one service, render."""
