"""The one rule for server URLs in adapter settings: https, or plain http on this machine only."""

from __future__ import annotations

import pytest

from tradecore.errors import ConfigurationError
from tradecore_adapters._urls import checked_server_url, is_loopback_host


def check(raw: str) -> str:
    return checked_server_url(raw, owner="acme", setting="base_url", example="https://acme.test")


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.255.0.9", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "localhost",
     "LOCALHOST", "localhost."],
)  # fmt: skip
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host",
    ["203.0.113.5", "10.0.0.1", "0.0.0.0", "::", "2001:db8::1", "::ffff:203.0.113.5",
     "api.binance.com", "localhost.example.com", "mylocalhost", "127.1", "2130706433", ""],
)  # fmt: skip
def test_other_hosts_are_not_loopback(host: str) -> None:
    assert not is_loopback_host(host)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
        ("http://127.0.0.2:9000/", "http://127.0.0.2:9000"),
        ("http://[::1]:9000/api/", "http://[::1]:9000/api"),
        ("http://localhost:8081", "http://localhost:8081"),
        ("  http://LocalHost  ", "http://LocalHost"),
        ("https://api.binance.com", "https://api.binance.com"),
        ("https://203.0.113.5:8443/", "https://203.0.113.5:8443"),
        ("https://[2001:db8::1]/sim/openapi", "https://[2001:db8::1]/sim/openapi"),
    ],
)
def test_https_anywhere_and_http_on_this_machine_are_accepted(raw: str, expected: str) -> None:
    assert check(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "http://203.0.113.5",
        "http://api.binance.com",
        "HTTP://api.binance.com/",
        "http://[2001:db8::1]:80",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
        "http://0.0.0.0:9000",
    ],
)
def test_plain_http_to_another_host_is_refused_naming_the_setting(raw: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        check(raw)
    message = str(raised.value)
    assert message.startswith("acme: setting 'base_url' must use https:// for a remote host")
    assert "127.0.0.1, ::1, localhost" in message
    assert raw.strip() in message


def test_the_refusal_reads_as_one_sentence() -> None:
    with pytest.raises(ConfigurationError) as raised:
        check("http://203.0.113.5")
    assert str(raised.value) == (
        "acme: setting 'base_url' must use https:// for a remote host (http:// is only allowed "
        "on this machine: 127.0.0.1, ::1, localhost); got http://203.0.113.5"
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("ftp://example.com", "must be an http(s) URL such as https://acme.test"),
        ("ws://127.0.0.1:9000", "must be an http(s) URL"),
        ("file:///etc/passwd", "must be an http(s) URL"),
        ("api.binance.com", "must be an http(s) URL"),
        ("https://", "must be an http(s) URL"),
        ("https://host:port", "must be an http(s) URL"),
        ("https://api.test/?x=1", "must not have a query or a fragment"),
        ("https://api.test/#top", "must not have a query or a fragment"),
        ("https://user:hunter2@api.test", "must not carry a user or password"),
        ("ftp://user:hunter2@api.test", "must not carry a user or password"),
    ],
)
def test_other_schemes_and_shapes_are_refused(raw: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        check(raw)
    assert message in str(raised.value)
    assert "hunter2" not in str(raised.value)
