"""The Binance broker plugin: signed REST for spot and USD-M futures."""
