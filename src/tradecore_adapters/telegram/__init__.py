"""The ``telegram`` notifier: each cycle's digest as messages in a Telegram chat.

See ``docs/notifications/telegram.md``. Built on python-telegram-bot's ``Bot``; importing this
package does not import python-telegram-bot until a notifier is built.
"""
