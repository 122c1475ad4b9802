"""The settings for PortSIP's event webhooks (CDR and extension events) and what is kept for them:
how long duplicates are recognised, how many events may wait, how they are processed, how long
routing decisions and presence are kept (docs/events.md).

Each field is declared once with :func:`~ivrhooks.conf.declare.setting`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivrhooks.conf import rules
from ivrhooks.conf.declare import Group, setting

__all__ = ["EventsConfig"]

_DAY = 24 * 3600.0


@dataclass(frozen=True, kw_only=True)
class EventsConfig(Group):
    """How the app receives and processes PortSIP's CDR and extension events."""

    register: bool = setting(
        False,
        doc="`true`: write this app's event URLs onto the tenant (`cdr_event`, "
        "`extension_event`) when they are unset, disabled or already this app's, never over "
        "another URL",
        rule=rules.boolean,
        env="IVRHOOKS_REGISTER_EVENTS",
        parse=rules.parse_boolean,
    )
    dedup_window: float = setting(
        _DAY,
        doc="seconds an event is remembered, so the same event sent again is handled once",
        rule=rules.number(60, 7 * _DAY),
        env="IVRHOOKS_EVENTS_DEDUP_WINDOW",
        parse=rules.parse_number,
    )
    backlog: int = setting(
        10_000,
        doc="events accepted but not yet handled, at most; past it the PBX gets 503 and retries",
        rule=rules.integer(1, 10_000_000),
        env="IVRHOOKS_EVENTS_BACKLOG",
        parse=rules.parse_integer,
    )
    concurrency: int = setting(
        8,
        doc="events handled at once by this process",
        rule=rules.integer(1, 1024),
        env="IVRHOOKS_EVENTS_CONCURRENCY",
        parse=rules.parse_integer,
    )
    max_attempts: int = setting(
        5,
        doc="tries of a failing event handler, with backoff, before the event is kept as dead "
        "(`ivrhooks events dead`)",
        rule=rules.integer(1, 100),
        env="IVRHOOKS_EVENTS_MAX_ATTEMPTS",
        parse=rules.parse_integer,
    )
    claim_after: float = setting(
        60.0,
        doc="with Redis: seconds an event may stay with a replica that took it before another "
        "replica takes it over (a replica that died while handling it)",
        rule=rules.number(1, 3600),
        env="IVRHOOKS_EVENTS_CLAIM_AFTER",
        parse=rules.parse_number,
    )
    decisions_ttl: float = setting(
        _DAY,
        doc="seconds each call's routing decisions are kept for its CDR events (`event.decisions`)",
        rule=rules.number(60, 30 * _DAY),
        env="IVRHOOKS_DECISIONS_TTL",
        parse=rules.parse_number,
    )
    max_body: int = setting(
        256 * 1024,
        doc="the largest event request body read, in bytes (a `call_cdr` with many targets is a "
        "few KiB); larger is refused",
        rule=rules.integer(1024, 16 << 20),
        env="IVRHOOKS_EVENTS_MAX_BODY",
        parse=rules.parse_integer,
    )
    presence_ttl: float = setting(
        300.0,
        doc="seconds an extension's presence, from its last extension event, is believed "
        "(`req.presence()` is `None` after)",
        rule=rules.number(1, _DAY),
        env="IVRHOOKS_PRESENCE_TTL",
        parse=rules.parse_number,
    )
