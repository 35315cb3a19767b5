"""The MetaTrader 5 broker adapter.

Runs in the Celery worker on the MetaTrader host (queue ``mt5``; the
``MetaTrader5`` package is Windows-only and talks to one terminal per
process, so run one worker process per MT5 account). Orders go through
:class:`~apps.marketdata.mt5.trading.MT5TradingClient`, which sends each
order exactly once (the ``client_order_id`` rides in the order comment and
is looked up before sending and after a lost reply).

Account ``broker_config``: ``login``, ``server``, ``password_env`` (the name
of the worker's environment variable holding the password), ``terminal_path``,
``symbol_map`` (``{"EURUSD": "EURUSD.m"}``), ``server_timezone`` (IANA, e.g.
``Europe/Athens``), ``magic`` (default ``770000 + account id``) and
``deviation_points`` (default 20).

Mapping to MetaTrader:

* market orders: ``TRADE_ACTION_DEAL`` (IOC/FOK filling; a partial fill
  cancels the rest); limit/stop/stop-limit: ``TRADE_ACTION_PENDING``;
  stop-loss / take-profit / trailing stop legs of a bracket are the
  position's SL/TP (``TRADE_ACTION_SLTP``), so they vanish with the position
  at the broker; cancel: ``TRADE_ACTION_REMOVE``; amend:
  ``TRADE_ACTION_MODIFY``; position close: an opposite deal naming the
  position;
* return codes become order states: ``DONE``/``PLACED`` accepted or filled,
  ``REQUOTE`` retried then rejected, ``NO_MONEY``, ``MARKET_CLOSED``,
  ``INVALID_*`` ... rejected with the code and a readable reason;
* a lost reply leaves the order ``new`` with a ``submit_unknown`` event: it
  is looked up (never resent) until found, or rejected as ``LOST`` after
  :data:`UNKNOWN_TIMEOUT` with nothing at the broker;
* fills of resting orders, SL/TP hits and trades made in the terminal by hand
  arrive as deals (``history_deals_get``), booked by :meth:`MT5Broker.sync`
  and by :meth:`MT5Broker.reconcile`, which also repairs orders, positions
  and the balance and records every repair.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.marketdata.calendar import datetime_to_us, us_to_datetime
from apps.marketdata.mt5 import trading as mt5t
from apps.marketdata.mt5.client import MT5Client, MT5Error
from apps.trading import services
from apps.trading.brokers import mt5_queue
from apps.trading.brokers.base import (
    Broker,
    BrokerAccount,
    BrokerDeal,
    BrokerPosition,
    BrokerUnavailable,
)
from apps.trading.models import LedgerEntry, Order, Position, Reconciliation, TradingAccount

logger = logging.getLogger(__name__)

ACTOR = "broker:mt5"
#: After a lost reply, how long an order that cannot be found stays ``new``.
UNKNOWN_TIMEOUT = timedelta(seconds=60)
#: Deals are re-read from a little before the cursor (several share a millisecond).
CURSOR_OVERLAP_US = 2_000_000
PROTECTIVE = (Order.Role.STOP_LOSS, Order.Role.TAKE_PROFIT, Order.Role.TRAILING_STOP)
WORKING = (Order.Status.ACCEPTED, Order.Status.PARTIALLY_FILLED)


def module() -> Any:
    """The ``MetaTrader5`` module, or what ``settings.MT5_MODULE`` names
    (``"package.module:attribute"``; the tests' fake terminal)."""
    path = getattr(settings, "MT5_MODULE", "") or ""
    if not path:
        return None  # MT5Client imports MetaTrader5 itself, lazily
    module_name, _, attribute = path.partition(":")
    loaded = importlib.import_module(module_name)
    return getattr(loaded, attribute) if attribute else loaded


@dataclass
class _Session:
    config: dict
    client: MT5Client
    trading: mt5t.MT5TradingClient
    connects_seen: int = 0


class MT5Broker(Broker):
    name = "mt5"
    synchronous = False

    def __init__(self) -> None:
        self._sessions: dict[int, _Session] = {}
        self._lock = threading.Lock()

    @property
    def queue(self) -> str:  # type: ignore[override]
        return mt5_queue()

    # ------------------------------------------------------------ sessions

    def session(self, account: TradingAccount) -> _Session:
        """This process's connection to the account's terminal (made once)."""
        config = account.broker_config or {}
        with self._lock:
            current = self._sessions.get(account.pk)
            if current is not None and current.config == config:
                return current
            if current is not None:
                current.client.close()
            password_env = config.get("password_env")
            password = os.environ.get(password_env) if password_env else None
            if password_env and password is None:
                raise BrokerUnavailable(
                    f"Environment variable {password_env} is not set on the MT5 worker."
                )
            client = MT5Client(
                terminal_path=config.get("terminal_path"),
                login=config.get("login"),
                password=password,
                server=config.get("server"),
                symbol_map=config.get("symbol_map") or {},
                module=module(),
            )
            trading = mt5t.MT5TradingClient(
                client, server_timezone=config.get("server_timezone", "UTC")
            )
            session = _Session(dict(config), client, trading)
            self._sessions[account.pk] = session
            return session

    def forget(self, account: TradingAccount | None = None) -> None:
        """Drop cached connections (all, or one account's)."""
        with self._lock:
            keys = list(self._sessions) if account is None else [account.pk]
            for key in keys:
                session = self._sessions.pop(key, None)
                if session is not None:
                    session.client.close()

    def _trading(self, account: TradingAccount) -> mt5t.MT5TradingClient:
        trading = self.session(account).trading
        self._after_call(account)
        return trading

    def _after_call(self, account: TradingAccount) -> None:
        """Notice a reconnect of the terminal since the last call."""
        session = self._sessions.get(account.pk)
        if session is None:
            return
        if session.connects_seen and session.client.connects > session.connects_seen:
            self._reconnected(account)
        session.connects_seen = max(session.connects_seen, session.client.connects)

    @staticmethod
    def _reconnected(account: TradingAccount) -> None:
        """The terminal was re-attached: what happened meanwhile is unknown."""
        logger.warning("MT5 account %s reconnected: reconciling", account.pk)
        services.reconciliation_request(account=account, trigger=Reconciliation.Trigger.RECONNECT)

    @staticmethod
    def magic(account: TradingAccount) -> int:
        return int((account.broker_config or {}).get("magic", 770_000 + account.pk))

    @staticmethod
    def deviation(account: TradingAccount) -> int:
        return int((account.broker_config or {}).get("deviation_points", 20))

    # ------------------------------------------------------------ submit

    def submit(self, order: Order) -> None:
        account = order.account
        try:
            trading = self._trading(account)
        except BrokerUnavailable as exc:
            self._reject(order, "BROKER_UNAVAILABLE", str(exc))
            return
        if order.events.filter(event="submit_unknown").exists():
            self._resolve_unknown(order, trading)
            return
        if order.role in PROTECTIVE:
            self._protect(order, trading)
            return
        position = order.position
        if order.role == Order.Role.CLOSE and position and position.broker_position_id:
            result = trading.close_position(
                position.broker_position_id,
                order.quantity,
                self.deviation(account),
                client_order_id=order.client_order_id,
                magic=self.magic(account),
            )
        else:
            result = trading.submit(
                client_order_id=order.client_order_id,
                symbol=order.instrument.symbol,
                side=order.side,
                type=order.type,
                volume=order.quantity,
                price=order.price,
                stop_price=order.stop_price,
                sl=order.stop_loss,
                tp=order.take_profit,
                time_in_force=order.time_in_force,
                expire_at=order.expire_at,
                deviation_points=self.deviation(account),
                magic=self.magic(account),
            )
        self._after_call(account)
        self._book_result(order, result)

    def _book_result(self, order: Order, result: mt5t.SubmitResult) -> None:
        data = {"attempts": result.attempts}
        if result.duplicate:
            data["duplicate"] = True  # found at the broker: nothing was sent again
        if result.recovered:
            data["recovered"] = True
        if result.status == "unknown":
            services.order_event(
                order=order,
                event="submit_unknown",
                actor=ACTOR,
                data={**data, "message": result.reject_message or ""},
            )
            services.reconciliation_request(
                account=order.account, trigger=Reconciliation.Trigger.ORDER, countdown=5
            )
            return
        if result.status == "rejected":
            self._reject(order, result.reject_code or "REJECT", result.reject_message or "")
            return
        if result.broker_order_id and order.broker_order_id != result.broker_order_id:
            order.broker_order_id = result.broker_order_id
            Order.objects.filter(pk=order.pk).update(broker_order_id=result.broker_order_id)
        services.order_transition(
            order=order, to_status=Order.Status.ACCEPTED, actor=ACTOR, data=data
        )
        for deal in result.deals:
            if deal.kind == "trade":
                self._book_deal(order, self._deal(deal))
        order.refresh_from_db()
        market = order.type == Order.Type.MARKET
        if market and order.status == Order.Status.PARTIALLY_FILLED and result.lookup is None:
            services.order_transition(
                order=order,
                to_status=Order.Status.CANCELLED,
                actor=ACTOR,
                data={"reason": "The broker filled part of the order and cancelled the rest."},
            )

    def _reject(self, order: Order, code: str, message: str) -> None:
        services.order_transition(
            order=order,
            to_status=Order.Status.REJECTED,
            actor=ACTOR,
            reject_code=code,
            reject_reason=message or code,
        )

    def _resolve_unknown(self, order: Order, trading: mt5t.MT5TradingClient) -> None:
        """An order whose reply was lost: look it up, never send it again."""
        try:
            found = trading.find_by_client_order_id(
                order.client_order_id,
                magic=self.magic(order.account),
                since=order.created_at - timedelta(minutes=1),
            )
        except MT5Error:
            return  # the terminal is away: try later
        if found is not None:
            self._book_result(order, trading._from_lookup(found, attempts=0, recovered=True))
        elif timezone.now() - order.created_at > UNKNOWN_TIMEOUT:
            self._reject(
                order,
                "LOST",
                "The terminal lost the reply to this order and the broker has no trace of it: "
                "it was not executed.",
            )

    def _protect(self, order: Order, trading: mt5t.MT5TradingClient) -> None:
        """A stop-loss, take-profit or trailing stop leg: the position's SL/TP."""
        position = order.position
        if position is None or not position.broker_position_id:
            self._reject(order, "NO_POSITION", "The protected position is not at the broker.")
            return
        level = order.stop_price if order.role != Order.Role.TAKE_PROFIT else order.price
        kwargs = {"tp": level} if order.role == Order.Role.TAKE_PROFIT else {"sl": level}
        result = trading.modify_position(position.broker_position_id, **kwargs)
        self._after_call(order.account)
        if not result.ok:
            self._reject(order, result.code, result.message)
            return
        order.broker_order_id = f"position:{position.broker_position_id}"
        Order.objects.filter(pk=order.pk).update(broker_order_id=order.broker_order_id)
        services.order_transition(
            order=order, to_status=Order.Status.ACCEPTED, actor=ACTOR, data={"sltp": result.code}
        )
        if order.role == Order.Role.TRAILING_STOP:
            mark_trailing(order.instrument_id)  # (an extra mark is dropped by trail())

    # ------------------------------------------------------------ cancel / amend

    def cancel(self, order: Order, *, actor: str = ACTOR) -> None:
        """Remove a working order at the broker, then in the database."""
        trading = self._trading(order.account)
        if order.role in PROTECTIVE and order.broker_order_id.startswith("position:"):
            field = "tp" if order.role == Order.Role.TAKE_PROFIT else "sl"
            result = trading.modify_position(order.position.broker_position_id, **{field: 0})
            done = result.ok or result.code == "POSITION_NOT_FOUND"
        elif order.broker_order_id:
            result = trading.cancel(order.broker_order_id)
            done = result.ok
        else:
            result, done = None, True
        self._after_call(order.account)
        if done:
            services.order_transition(
                order=order,
                to_status=Order.Status.CANCELLED,
                actor=actor,
                event="cancel",
                data={"broker": result.code if result else "not sent"},
            )
            return
        Order.objects.filter(pk=order.pk).update(cancel_requested=False)
        services.order_event(
            order=order,
            event="cancel_rejected",
            actor=ACTOR,
            data={"code": result.code, "message": result.message},
        )
        if result.code == "ALREADY_FILLED":
            self.sync(order.account)

    def amend(self, order: Order, changes: dict, *, actor: str = ACTOR) -> None:
        trading = self._trading(order.account)
        if "quantity" in changes:
            result = mt5t.ActionResult(
                False,
                "VOLUME_NOT_AMENDABLE",
                "MetaTrader cannot change an order's volume: cancel it and place a new one.",
            )
        elif order.role in PROTECTIVE and order.broker_order_id.startswith("position:"):
            level = changes.get("price" if order.role == Order.Role.TAKE_PROFIT else "stop_price")
            field = "tp" if order.role == Order.Role.TAKE_PROFIT else "sl"
            result = trading.modify_position(order.position.broker_position_id, **{field: level})
        else:
            result = trading.amend(
                order.broker_order_id,
                price=changes.get("price"),
                stop_price=changes.get("stop_price"),
                expire_at=changes.get("expire_at"),
            )
        self._after_call(order.account)
        if result.ok:
            services.order_amend_apply(order=order, changes=changes, actor=actor)
            return
        services.order_event(
            order=order,
            event="amend_rejected",
            actor=ACTOR,
            data={"code": result.code, "message": result.message},
        )

    # ------------------------------------------------------------ reads

    def positions(self, account: TradingAccount) -> list[BrokerPosition]:
        rows = self._trading(account).positions()
        self._after_call(account)
        return [
            BrokerPosition(
                symbol=p.symbol,
                quantity=p.volume if p.side == "buy" else -p.volume,
                average_price=p.price_open,
                broker_position_id=p.identifier,
                unrealized_pnl=p.profit,
            )
            for p in rows
        ]

    def account_info(self, account: TradingAccount) -> BrokerAccount:
        snapshot = self._trading(account).account()
        self._after_call(account)
        return BrokerAccount(
            currency=snapshot.currency,
            balance=snapshot.balance,
            equity=snapshot.equity,
            margin=snapshot.margin,
            free_margin=snapshot.free_margin,
            margin_level=snapshot.margin_level,
        )

    @staticmethod
    def _deal(deal: mt5t.Deal) -> BrokerDeal:
        return BrokerDeal(
            broker_deal_id=deal.broker_deal_id,
            broker_order_id=deal.broker_order_id,
            client_order_id=deal.client_order_id,
            symbol=deal.symbol,
            side=deal.side or "",
            quantity=deal.volume,
            price=deal.price,
            commission=-(deal.commission + deal.fee),
            swap=deal.swap,
            realized_pnl=deal.profit,
            time=us_to_datetime(deal.time_us),
            reason=deal.reason,
            broker_position_id=deal.broker_position_id,
            entry=deal.entry,
            comment=deal.comment,
        )

    def deals(self, account: TradingAccount, since) -> list[BrokerDeal]:
        rows = self._trading(account).deals_since(datetime_to_us(since))
        self._after_call(account)
        return [self._deal(d) for d in rows if d.kind == "trade"]

    # ------------------------------------------------------------ booking deals

    def _book_deal(self, order: Order, deal: BrokerDeal) -> None:
        """Book one broker deal on ``order`` (a deal booked before is left as it is)."""
        services.fill_apply(
            order=order,
            quantity=deal.quantity,
            price=deal.price,
            time=deal.time,
            broker_deal_id=deal.broker_deal_id,
            commission=deal.commission,
            swap=deal.swap,
            realized=deal.realized_pnl,
            broker_position_id=deal.broker_position_id,
            actor=ACTOR,
        )

    def _order_for_deal(self, account: TradingAccount, deal: BrokerDeal) -> Order | None:
        orders = Order.objects.select_for_update(of=("self",)).select_related(
            "account", "instrument", "position"
        )
        if deal.client_order_id:
            found = orders.filter(account=account, client_order_id=deal.client_order_id).first()
            if found is not None:
                return found
        found = orders.filter(account=account, broker_order_id=deal.broker_order_id).first()
        if found is not None:
            return found
        if deal.comment.startswith(f"{mt5t.COMMENT_PREFIX}h"):  # a long id, hashed
            trading = self.session(account).trading
            for candidate in orders.filter(account=account, broker_order_id="").exclude(
                status__in=Order.FINAL
            ):
                if trading.encode(candidate.client_order_id) == deal.comment:
                    return candidate
        if deal.reason in ("sl", "tp") and deal.broker_position_id:
            roles = (
                (Order.Role.TAKE_PROFIT,)
                if deal.reason == "tp"
                else (Order.Role.STOP_LOSS, Order.Role.TRAILING_STOP)
            )
            return (
                orders.filter(
                    account=account,
                    position__broker_position_id=deal.broker_position_id,
                    role__in=roles,
                    status__in=WORKING,
                )
                .order_by("id")
                .first()
            )
        return None

    def _adopt_deal(self, account: TradingAccount, deal: BrokerDeal, why: str) -> Order:
        """An order for a deal the platform did not place (a trade made in the
        terminal, a stop-out) so that positions and balance follow the broker."""
        from apps.marketdata.models import Instrument

        instrument = Instrument.objects.get(symbol=deal.symbol)
        position = None
        if deal.entry in ("out", "out_by") and deal.broker_position_id:
            position = Position.objects.filter(
                account=account, broker_position_id=deal.broker_position_id, closed_at__isnull=True
            ).first()
        order = Order.objects.create(
            account=account,
            client_order_id=f"mt5-deal-{deal.broker_deal_id}",
            instrument=instrument,
            side=deal.side,
            type=Order.Type.MARKET,
            quantity=deal.quantity,
            source=Order.Source.SYSTEM,
            role=Order.Role.CLOSE if position is not None else Order.Role.ENTRY,
            position=position,
            broker_order_id=deal.broker_order_id,
        )
        services.order_event(order=order, event="adopted", actor="reconcile", data={"why": why})
        services.order_transition(order=order, to_status=Order.Status.ACCEPTED, actor=ACTOR)
        return order

    def sync(self, account: TradingAccount) -> list[dict]:
        """Book the broker's new deals and the end of orders that left its book.

        Returns what it did (the actions of a reconciliation)."""
        actions: list[dict] = []
        trading = self._trading(account)
        state = dict(account.broker_state or {})
        now_us = datetime_to_us(timezone.now())
        cursor = int(state.get("deal_cursor_us") or datetime_to_us(account.created_at))
        rows = trading.deals_since(max(0, cursor - CURSOR_OVERLAP_US))
        self._after_call(account)
        latest = cursor
        for raw in rows:
            latest = max(latest, raw.time_us)
            if raw.kind == "trade":
                with transaction.atomic():
                    action = self._sync_deal(account, self._deal(raw))
                if action:
                    actions.append(action)
            elif raw.kind in ("balance", "credit", "bonus", "correction", "charge"):
                action = self._sync_balance(account, raw)
                if action:
                    actions.append(action)
        actions += self._sync_orders(account, trading)
        state["deal_cursor_us"] = min(latest, now_us)
        TradingAccount.objects.filter(pk=account.pk).update(broker_state=state)
        account.broker_state = state
        return actions

    def _sync_deal(self, account: TradingAccount, deal: BrokerDeal) -> dict | None:
        from apps.trading.models import Fill

        if Fill.objects.filter(account=account, broker_deal_id=deal.broker_deal_id).exists():
            return None
        order = self._order_for_deal(account, deal)
        why = ""
        if order is None:
            why = "a deal of an order the platform did not place"
        elif order.status in (Order.Status.CANCELLED, Order.Status.REJECTED, Order.Status.EXPIRED):
            why = f"the broker filled order {order.client_order_id}, which is {order.status} here"
        elif deal.quantity > order.quantity - order.filled_quantity:
            why = f"a deal larger than what remains of order {order.client_order_id}"
        if why:
            order = self._adopt_deal(account, deal, why)
        elif order.status == Order.Status.NEW:
            if deal.broker_order_id and not order.broker_order_id:
                order.broker_order_id = deal.broker_order_id
                Order.objects.filter(pk=order.pk).update(broker_order_id=deal.broker_order_id)
            services.order_transition(order=order, to_status=Order.Status.ACCEPTED, actor=ACTOR)
        self._book_deal(order, deal)
        return {
            "action": "adopted_deal" if why else "booked_deal",
            "deal": deal.broker_deal_id,
            "order": order.client_order_id,
            "symbol": deal.symbol,
            "side": deal.side,
            "quantity": str(deal.quantity),
            "price": str(deal.price),
            **({"why": why} if why else {}),
        }

    def _sync_balance(self, account: TradingAccount, deal: mt5t.Deal) -> dict | None:
        note = f"MT5 deal {deal.broker_deal_id}: {deal.comment}"[:200]
        if account.ledger.filter(note__startswith=f"MT5 deal {deal.broker_deal_id}:").exists():
            return None
        if not deal.profit or deal.time_us < datetime_to_us(account.created_at):
            return None  # before the platform knew the account: the opening balance covers it
        kind = LedgerEntry.Kind.DEPOSIT if deal.profit > 0 else LedgerEntry.Kind.WITHDRAWAL
        if deal.kind != "balance":
            kind = LedgerEntry.Kind.ADJUSTMENT
        services.ledger_post(account=account, kind=kind, amount=deal.profit, note=note)
        return {"action": "balance_deal", "deal": deal.broker_deal_id, "amount": str(deal.profit)}

    def _sync_orders(self, account: TradingAccount, trading: mt5t.MT5TradingClient) -> list[dict]:
        """Orders working here but no longer in the broker's book: learn how they ended."""
        actions: list[dict] = []
        working = list(
            Order.objects.filter(account=account, status__in=WORKING)
            .exclude(broker_order_id="")
            .exclude(broker_order_id__startswith="position:")
            .select_related("account", "instrument", "position")
        )
        if not working:
            return actions
        open_ids = {o.broker_order_id for o in trading.open_orders()}
        for order in working:
            if order.broker_order_id in open_ids:
                continue
            found = trading.find_by_client_order_id(
                order.client_order_id, since=order.created_at - timedelta(minutes=1)
            )
            if found is None or found.is_open:
                continue
            with transaction.atomic():
                locked = Order.objects.select_for_update().get(pk=order.pk)
                for deal in found.deals:
                    if deal.kind == "trade" and locked.quantity > locked.filled_quantity:
                        self._book_deal(locked, self._deal(deal))
                        locked.refresh_from_db()
                if locked.is_final:
                    continue
                target = {
                    "cancelled": Order.Status.CANCELLED,
                    "expired": Order.Status.EXPIRED,
                    "rejected": Order.Status.REJECTED,
                    "partially_filled": Order.Status.CANCELLED,
                }.get(found.status)
                if target is None:
                    continue
                services.order_transition(
                    order=locked,
                    to_status=target,
                    actor=ACTOR,
                    reject_code="REJECT" if target == Order.Status.REJECTED else "",
                    reject_reason="The broker rejected the order."
                    if target == Order.Status.REJECTED
                    else "",
                    data={"reason": f"{found.status} at the broker"},
                )
            actions.append(
                {"action": f"order_{target}", "order": order.client_order_id, "by": "broker"}
            )
        return actions

    # ------------------------------------------------------------ reconcile

    def reconcile(self, account: TradingAccount, *, trigger: str) -> Reconciliation:
        """Compare the terminal with the database and repair the database (and
        orphan orders at the broker); every repair is recorded."""
        actions: list[dict] = []
        checked: dict = {}
        error = ""
        try:
            trading = self._trading(account)
            actions += self.sync(account)
            actions += self._resolve_new(account)
            actions += self._orphans(account, trading, checked)
            actions += self._positions(account, checked)
            actions += self._balance(account, checked)
        except (MT5Error, BrokerUnavailable) as exc:
            error = str(exc)
            logger.warning("MT5 reconcile of account %s failed: %s", account.pk, exc)
        return services.reconciliation_record(
            account=account, trigger=trigger, actions=actions, checked=checked, error=error
        )

    def _resolve_new(self, account: TradingAccount) -> list[dict]:
        """Orders left ``new`` by a lost reply (or a lost task)."""
        actions = []
        stale = Order.objects.filter(
            account=account,
            status=Order.Status.NEW,
            created_at__lt=timezone.now() - timedelta(seconds=5),
        ).values_list("pk", flat=True)
        for pk in stale:
            with transaction.atomic():
                order = (
                    Order.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("account", "instrument", "position")
                    .filter(pk=pk, status=Order.Status.NEW)
                    .first()
                )
                if order is None:
                    continue
                self.submit(order)
                order.refresh_from_db()
            if order.status != Order.Status.NEW:
                actions.append(
                    {"action": f"new_order_{order.status}", "order": order.client_order_id}
                )
        return actions

    def _orphans(
        self, account: TradingAccount, trading: mt5t.MT5TradingClient, checked: dict
    ) -> list[dict]:
        """Our orders still at the broker although they ended here: remove them
        (a stop left behind after its position closed must not fire)."""
        actions = []
        broker_orders = trading.open_orders()
        self._after_call(account)
        checked["broker_orders"] = len(broker_orders)
        magic = self.magic(account)
        for row in broker_orders:
            order = None
            if row.client_order_id:
                order = Order.objects.filter(
                    account=account, client_order_id=row.client_order_id
                ).first()
            if order is None:
                order = Order.objects.filter(
                    account=account, broker_order_id=row.broker_order_id
                ).first()
            if order is None:
                if row.magic == magic:
                    actions.append(
                        {
                            "action": "unknown_broker_order",
                            "broker_order": row.broker_order_id,
                            "note": "carries this account's magic but is not in the database",
                        }
                    )
                continue
            if order.is_final:
                result = trading.cancel(row.broker_order_id)
                actions.append(
                    {
                        "action": "removed_orphan_order",
                        "order": order.client_order_id,
                        "broker_order": row.broker_order_id,
                        "status_here": order.status,
                        "result": result.code,
                    }
                )
            elif not order.broker_order_id:
                Order.objects.filter(pk=order.pk).update(broker_order_id=row.broker_order_id)
        return actions

    def _positions(self, account: TradingAccount, checked: dict) -> list[dict]:
        """After the deals are booked, positions should agree: repair any that do not."""
        from apps.marketdata.models import Instrument

        actions = []
        broker = self.positions(account)
        checked["broker_positions"] = len(broker)
        ours = list(
            Position.objects.select_for_update()
            .filter(account=account, closed_at__isnull=True)
            .select_related("instrument")
        )
        netting = account.mode == TradingAccount.Mode.NETTING

        def key_broker(p: BrokerPosition) -> str:
            return p.symbol if netting else p.broker_position_id

        def key_ours(p: Position) -> str:
            return p.instrument.symbol if netting else p.broker_position_id

        by_key = {key_broker(p): p for p in broker}
        with transaction.atomic():
            for position in ours:
                theirs = by_key.pop(key_ours(position), None)
                if theirs is None:
                    before = position.quantity
                    position.quantity = Decimal(0)
                    position.closed_at = timezone.now()
                    position.save(update_fields=["quantity", "closed_at", "updated_at"])
                    actions.append(
                        {
                            "action": "closed_missing_position",
                            "position": position.pk,
                            "symbol": position.instrument.symbol,
                            "quantity_was": str(before),
                        }
                    )
                    continue
                if theirs.quantity != position.quantity:
                    before = position.quantity
                    position.quantity = theirs.quantity
                    position.average_price = theirs.average_price
                    position.broker_position_id = (
                        position.broker_position_id or theirs.broker_position_id
                    )
                    position.save()
                    actions.append(
                        {
                            "action": "adjusted_position",
                            "position": position.pk,
                            "symbol": position.instrument.symbol,
                            "quantity_was": str(before),
                            "quantity": str(theirs.quantity),
                        }
                    )
            for theirs in by_key.values():
                instrument = Instrument.objects.filter(symbol=theirs.symbol).first()
                if instrument is None:
                    actions.append({"action": "unknown_symbol_position", "symbol": theirs.symbol})
                    continue
                position = Position.objects.create(
                    account=account,
                    instrument=instrument,
                    netting=netting,
                    quantity=theirs.quantity,
                    average_price=theirs.average_price,
                    broker_position_id=theirs.broker_position_id,
                )
                actions.append(
                    {
                        "action": "adopted_position",
                        "position": position.pk,
                        "symbol": theirs.symbol,
                        "quantity": str(theirs.quantity),
                    }
                )
        return actions

    def _balance(self, account: TradingAccount, checked: dict) -> list[dict]:
        info = self.account_info(account)
        account.refresh_from_db(fields=["balance"])
        checked["broker_balance"] = str(info.balance)
        difference = info.balance - account.balance
        if not difference:
            return []
        services.ledger_post(
            account=account,
            kind=LedgerEntry.Kind.ADJUSTMENT,
            amount=difference,
            note=f"Reconciled with the MT5 balance {info.balance}",
        )
        return [{"action": "balance_adjusted", "difference": str(difference),
                 "broker_balance": str(info.balance)}]  # fmt: skip


# --- trailing stops ----------------------------------------------------------
# MetaTrader has no server-side trailing stop for API clients: the platform
# moves the position's SL as the market moves (never back), on each batch of
# stored ticks of the instrument.


def _trailing_key() -> str:
    from apps.marketdata import live

    return f"{live.prefix()}:mt5:trailing"


def mark_trailing(instrument_id: int) -> None:
    from apps.marketdata import live

    live.client().sadd(_trailing_key(), instrument_id)


def has_trailing(instrument_id: int) -> bool:
    from apps.marketdata import live

    return bool(live.client().sismember(_trailing_key(), instrument_id))


def trail(instrument_id: int) -> int:
    """Move the SL of MT5 trailing-stop legs of an instrument to follow the
    live quote; returns how many amendments were requested."""
    from apps.marketdata import live

    legs = list(
        Order.objects.filter(
            instrument_id=instrument_id,
            role=Order.Role.TRAILING_STOP,
            status__in=WORKING,
            cancel_requested=False,
            account__broker=TradingAccount.Broker.MT5,
        ).select_related("account", "instrument")
    )
    if not legs:
        live.client().srem(_trailing_key(), instrument_id)
        return 0
    quote = live.quotes_get([legs[0].instrument.symbol])[0]
    if not quote or not quote.get("bid") or not quote.get("ask"):
        return 0
    bid, ask = Decimal(quote["bid"]), Decimal(quote["ask"])
    moved = 0
    for leg in legs:
        point = leg.instrument.point
        if leg.side == Order.Side.SELL:  # protects a long: follows the bid up
            candidate = (bid - leg.trailing_stop).quantize(point)
            better = candidate > leg.stop_price
        else:
            candidate = (ask + leg.trailing_stop).quantize(point)
            better = candidate < leg.stop_price
        if better:
            services.order_amend(order=leg, changes={"stop_price": candidate}, actor="trailing")
            moved += 1
    return moved


BROKER = MT5Broker()
