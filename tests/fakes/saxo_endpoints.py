"""Gateway endpoints of the fake Saxo Bank and their routes (paths below the gateway path).

Each handler takes the fake and a :class:`~tests.fakes.saxo_wire.Call` and returns the JSON
payload (status 200) or raises :class:`~tests.fakes.saxo_wire.SaxoError`. Endpoints, paging and
errors follow Saxo's OpenAPI reference (https://www.developer.saxo/openapi/referencedocs) and
https://www.developer.saxo/openapi/learn/openapi-request-response.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from tests.fakes import saxo_render as render
from tests.fakes.saxo_state import FakeAccount, FakeInstrument
from tests.fakes.saxo_wire import Call, error, invalid_model, page, parse_utc

if TYPE_CHECKING:
    from tests.fakes.saxo_exchange import FakeSaxo

Handler = Callable[["FakeSaxo", Call], Any]
INSTRUMENTS_TOP, INSTRUMENTS_MAX_TOP = 50, 1000  # /ref/v1/instruments: $top default, maximum


def _groups(call: Call, default: str) -> set[str]:
    raw = call.params.get("FieldGroups") or default
    return {part.strip() for part in raw.split(",") if part.strip()}


def _scope(fake: FakeSaxo, call: Call, *, me: bool) -> list[FakeAccount]:
    # The accounts a /port query covers: /me is the caller's; otherwise ClientKey is required
    # (as Saxo's reference says); AccountKey narrows to one account.
    params = call.params
    if not me:
        client_key = params.get("ClientKey")
        if not client_key:
            raise invalid_model(ClientKey=["ClientKey is required."])
        if client_key != fake.client_key:
            raise error(400, "InvalidRequest", f"Unknown ClientKey '{client_key}'.")
    account_key = params.get("AccountKey")
    if account_key:
        account = fake.accounts.get(account_key)
        if account is None:
            raise error(400, "IllegalAccount", f"Unknown AccountKey '{account_key}'.")
        return [account]
    return list(fake.accounts.values())


# -- port --------------------------------------------------------------------------------------


def users_me(fake: FakeSaxo, call: Call) -> Any:
    """``/port/v1/users/me``."""
    return {
        "ClientKey": fake.client_key,
        "Culture": "en-GB",
        "Language": "en",
        "LastLoginStatus": "Successful",
        "LegalAssetTypes": render.legal_asset_types(fake),
        "Name": fake.user_name,
        "TimeZoneId": 28,
        "UserId": fake.user_id,
        "UserKey": fake.client_key,
    }


def clients_me(fake: FakeSaxo, call: Call) -> Any:
    """``/port/v1/clients/me``: end-of-day FIFO netting."""
    default = fake.default_account
    return {
        "ClientId": fake.client_id,
        "ClientKey": fake.client_key,
        "DefaultAccountId": default.account_id if default else None,
        "DefaultAccountKey": default.account_key if default else None,
        "DefaultCurrency": default.currency if default else "EUR",
        "IsMarginTradingAllowed": False,
        "LegalAssetTypes": render.legal_asset_types(fake),
        "Name": fake.user_name,
        "PositionNettingMethod": "FIFO",
        "PositionNettingMode": "EndOfDay",
        "PositionNettingProfile": "FifoEndOfDay",
    }


def accounts(fake: FakeSaxo, call: Call, *, me: bool = True) -> Any:
    """``/port/v1/accounts`` (and ``/me``)."""
    rows = [render.account(fake, item) for item in _scope(fake, call, me=me)]
    return page(call, rows, fake.page_size)


def balances(fake: FakeSaxo, call: Call, *, me: bool = True) -> Any:
    """``/port/v1/balances``, for one account (``/me``: the default one unless AccountKey is
    given)."""
    scope = _scope(fake, call, me=me)
    item = scope[0] if call.params.get("AccountKey") else fake.default_account
    if item is None:
        raise error(400, "IllegalAccount", "The client has no account.")
    groups = {"NetPositionView"}
    rows = [render.net_position(fake, item, net, groups) for net in item.net_positions.values()]
    orders = sum(1 for o in fake.orders if o.is_open and o.account_key == item.account_key)
    return render.balance(item, rows, orders)


def net_positions(fake: FakeSaxo, call: Call, *, me: bool = False) -> Any:
    """``/port/v1/netpositions`` (DisplayAndFormat only when asked for)."""
    groups = _groups(call, "NetPositionBase,NetPositionView")
    rows = [
        render.net_position(fake, item, net, groups)
        for item in _scope(fake, call, me=me)
        for net in item.net_positions.values()
    ]
    return page(call, rows, fake.page_size)


def positions(fake: FakeSaxo, call: Call, *, me: bool = False) -> Any:
    """``/port/v1/positions``."""
    groups = _groups(call, "PositionBase,PositionView")
    rows = [
        render.position(fake, item, lot, groups)
        for item in _scope(fake, call, me=me)
        for lot in item.positions
    ]
    return page(call, rows, fake.page_size)


def closed_positions(fake: FakeSaxo, call: Call, *, me: bool = False) -> Any:
    """``/port/v1/closedpositions``."""
    groups = _groups(call, "ClosedPosition")
    rows = [
        render.closed_position(fake, item, closed, groups)
        for item in _scope(fake, call, me=me)
        for closed in item.closed_positions
    ]
    return page(call, rows, fake.page_size)


def orders(fake: FakeSaxo, call: Call, *, me: bool = False) -> Any:
    """``/port/v1/orders``: working orders (``Status=All`` lists the same: the fake has no related
    orders)."""
    keys = {item.account_key for item in _scope(fake, call, me=me)}
    groups = _groups(call, "ExchangeInfo")
    rows = [
        render.open_order(fake, order, groups)
        for order in fake.orders
        if order.is_open and order.account_key in keys
    ]
    return page(call, rows, fake.page_size)


def order_by_id(fake: FakeSaxo, call: Call) -> Any:
    """``/port/v1/orders/{ClientKey}/{OrderId}``: ``Data`` empty once not open."""
    client_key, order_id = call.args
    if client_key != fake.client_key:
        raise error(400, "InvalidRequest", f"Unknown ClientKey '{client_key}'.")
    order = fake.order(order_id)
    groups = _groups(call, "ExchangeInfo")
    rows = [render.open_order(fake, order, groups)] if order and order.is_open else []
    return {"Data": rows}


# -- cs ----------------------------------------------------------------------------------------


def order_activities(fake: FakeSaxo, call: Call) -> Any:
    """``/cs/v1/audit/orderactivities``: filters, ``EntryType=Last``, ``$skiptoken``."""
    params = call.params
    client_key = params.get("ClientKey")
    if client_key and client_key != fake.client_key:
        raise error(400, "BadRequestError", f"Unknown ClientKey '{client_key}'.")
    entries = list(fake.activities)
    if params.get("AccountKey"):
        account = fake.accounts.get(params["AccountKey"])
        if account is None:
            raise error(400, "BadRequestError", f"Unknown AccountKey '{params['AccountKey']}'.")
        entries = [e for e in entries if e.order.account_id == account.account_id]
    if params.get("OrderId"):
        entries = [e for e in entries if e.order.order_id == params["OrderId"]]
    try:
        since = parse_utc(params["FromDateTime"]) if params.get("FromDateTime") else None
        until = parse_utc(params["ToDateTime"]) if params.get("ToDateTime") else None
    except ValueError:
        raise error(400, "BadRequestError", "FromDateTime/ToDateTime are not dates.") from None
    entry_type = params.get("EntryType", "All")
    if entry_type not in ("All", "Last"):
        raise error(400, "BadRequestError", f"Unknown EntryType '{entry_type}'.")
    if entry_type == "Last":  # the latest state of each order, ToDateTime ignored
        latest = {e.order.order_id: e for e in entries}
        entries, until = sorted(latest.values(), key=lambda e: e.log_id), None
    if since is not None:
        entries = [e for e in entries if e.activity_time >= since]
    if until is not None:
        entries = [e for e in entries if e.activity_time <= until]
    if params.get("Status"):
        wanted = {s.strip() for s in params["Status"].split(",")}
        entries = [e for e in entries if e.status in wanted]
    groups = _groups(call, "")
    rows = [render.activity(fake, entry, groups) for entry in entries]
    return page(call, rows, fake.page_size, token_of=lambda row: str(row["LogId"]))


def _report_date(params: dict[str, str], name: str) -> date:
    raw = params.get(name)
    if not raw:
        raise error(400, "BadRequestError", f"{name} is required.", **{name: ["Required."]})
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise error(400, "BadRequestError", f"{name} must be YYYY-MM-DD.") from None


def report_trades(fake: FakeSaxo, call: Call) -> Any:
    """``/cs/v1/reports/trades/{ClientKey}``: back-office trades (T+1), TradeDate
    between FromDate and ToDate inclusive, or one ``TradeId`` (then AccountKey is required)."""
    params = call.params
    if not call.args or not call.args[0]:
        raise error(400, "BadRequestError", "ClientKey is required.", ClientKey=["Required."])
    if call.args[0] != fake.client_key:
        raise error(400, "BadRequestError", f"Unknown ClientKey '{call.args[0]}'.")
    scope = list(fake.accounts.values())
    if params.get("AccountKey"):
        account = fake.accounts.get(params["AccountKey"])
        if account is None:
            raise error(400, "BadRequestError", f"Unknown AccountKey '{params['AccountKey']}'.")
        scope = [account]
    trade_id = params.get("TradeId")
    if trade_id:
        if not params.get("AccountKey"):
            raise error(400, "BadRequestError", "AccountKey is required with TradeId.")
        chosen = [(a, t) for a in scope for t in a.report_trades if t.trade_id == trade_id]
    else:
        first, last = _report_date(params, "FromDate"), _report_date(params, "ToDate")
        chosen = [(a, t) for a in scope for t in a.report_trades if first <= t.trade_date <= last]
    chosen.sort(key=lambda pair: (pair[1].executed_at, int(pair[1].trade_id)))
    rows = [render.report_trade(fake, account, trade) for account, trade in chosen]
    return page(call, rows, fake.page_size, token_of=lambda row: str(row["TradeId"]))


# -- ref and trade -----------------------------------------------------------------------------


def _uics(raw: str, name: str) -> set[int]:
    try:
        return {int(part) for part in raw.split(",") if part.strip()}
    except ValueError:
        raise invalid_model(**{name: [f"'{raw}' is not a list of Uics."]}) from None


def instruments(fake: FakeSaxo, call: Call) -> Any:
    """``/ref/v1/instruments`` search: Keywords (all must match symbol or description),
    AssetTypes, Uics."""
    params = call.params
    keywords = params.get("Keywords", "").lower().split()
    types = {t.strip() for t in params.get("AssetTypes", "").split(",") if t.strip()}
    uics = _uics(params.get("Uics", ""), "Uics")
    found = [
        instrument
        for instrument in fake.instruments.values()
        if (not types or instrument.asset_type in types)
        and (not uics or instrument.uic in uics)
        and all(
            k in instrument.symbol.lower() or k in instrument.description.lower() for k in keywords
        )
    ]
    rows = [render.instrument_summary(i, bool(keywords)) for i in found]
    return page(call, rows, INSTRUMENTS_TOP, max_top=INSTRUMENTS_MAX_TOP)


def instrument_details(fake: FakeSaxo, call: Call) -> Any:
    """``/ref/v1/instruments/details/{Uic}/{AssetType}``; unknown → 404."""
    raw_uic, asset_type = call.args
    found = fake.instruments.get((int(raw_uic), asset_type)) if raw_uic.isdigit() else None
    if found is None:
        raise error(404, "IllegalInstrumentId", f"Unknown instrument {raw_uic}/{asset_type}.")
    return render.instrument_details(found)


def _priced(fake: FakeSaxo, uic: int, asset_type: str) -> FakeInstrument:
    found = fake.instruments.get((uic, asset_type))
    if found is None:  # the spec: 400 InvalidUic "UIC is either invalid or not specified"
        raise error(400, "InvalidUic", f"Uic {uic} is invalid for {asset_type}.")
    return found


def info_price(fake: FakeSaxo, call: Call) -> Any:
    """``/trade/v1/infoprices?Uic=&AssetType=``."""
    params = call.params
    raw_uic, asset_type = params.get("Uic", ""), params.get("AssetType")
    if not raw_uic.isdigit():
        raise error(400, "InvalidUic", "UIC is either invalid or not specified at all.")
    if not asset_type:
        raise invalid_model(AssetType=["AssetType is required."])
    found = _priced(fake, int(raw_uic), asset_type)
    return render.info_price(found, _groups(call, "Quote"), call.now)


def info_prices(fake: FakeSaxo, call: Call) -> Any:
    """``/trade/v1/infoprices/list?Uics=&AssetType=`` (the list variant)."""
    params = call.params
    asset_type = params.get("AssetType")
    if not asset_type:
        raise invalid_model(AssetType=["AssetType is required."])
    groups = _groups(call, "Quote")
    uics = sorted(_uics(params.get("Uics", ""), "Uics"))
    rows = [render.info_price(_priced(fake, u, asset_type), groups, call.now) for u in uics]
    return {"Data": rows}


def _me(handler: Callable[..., Any]) -> Handler:
    return lambda fake, call: handler(fake, call, me=True)


def _client(handler: Callable[..., Any]) -> Handler:
    return lambda fake, call: handler(fake, call, me=False)


ROUTES: list[tuple[str, tuple[str, ...], Handler]] = [
    ("GET", ("port", "v1", "users", "me"), users_me),
    ("GET", ("port", "v1", "clients", "me"), clients_me),
    ("GET", ("port", "v1", "accounts", "me"), _me(accounts)),
    ("GET", ("port", "v1", "accounts"), _client(accounts)),
    ("GET", ("port", "v1", "balances", "me"), _me(balances)),
    ("GET", ("port", "v1", "balances"), _client(balances)),
    ("GET", ("port", "v1", "netpositions", "me"), _me(net_positions)),
    ("GET", ("port", "v1", "netpositions"), _client(net_positions)),
    ("GET", ("port", "v1", "positions", "me"), _me(positions)),
    ("GET", ("port", "v1", "positions"), _client(positions)),
    ("GET", ("port", "v1", "closedpositions", "me"), _me(closed_positions)),
    ("GET", ("port", "v1", "closedpositions"), _client(closed_positions)),
    ("GET", ("port", "v1", "orders", "me"), _me(orders)),
    ("GET", ("port", "v1", "orders"), _client(orders)),
    ("GET", ("port", "v1", "orders", "{}", "{}"), order_by_id),
    ("GET", ("cs", "v1", "audit", "orderactivities"), order_activities),
    ("GET", ("cs", "v1", "reports", "trades"), report_trades),
    ("GET", ("cs", "v1", "reports", "trades", "{}"), report_trades),
    ("GET", ("ref", "v1", "instruments"), instruments),
    ("GET", ("ref", "v1", "instruments", "details", "{}", "{}"), instrument_details),
    ("GET", ("trade", "v1", "infoprices"), info_price),
    ("GET", ("trade", "v1", "infoprices", "list"), info_prices),
    ("POST", ("trade", "v2", "orders"), lambda fake, call: fake.place_order(call)),
    ("DELETE", ("trade", "v2", "orders", "{}"), lambda fake, call: fake.cancel_orders(call)),
]


def route(method: str, segments: list[str]) -> tuple[Handler, list[str]] | None:
    """The handler for ``method`` and the decoded path ``segments``, with the ``{}`` values."""
    for route_method, pattern, handler in ROUTES:
        if route_method != method or len(pattern) != len(segments):
            continue
        if all(p == "{}" or p == s for p, s in zip(pattern, segments, strict=True)):
            args = [s for p, s in zip(pattern, segments, strict=True) if p == "{}"]
            return handler, args
    return None
