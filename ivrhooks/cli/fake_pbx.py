"""``ivrhooks fake-pbx``: serve the fake PBX's REST API for development without a phone system."""

from __future__ import annotations

import sys

import click
import uvicorn

from ivrhooks.cli.group import main
from ivrhooks.fakepbx import DEFAULT_PASSWORD, DEFAULT_ROLE, DEFAULT_USERNAME, FakePBX
from ivrhooks.pbx.generations import GENERATIONS, Generation
from ivrhooks.server.loopback import bind_socket

__all__ = ["build", "fake_pbx"]


def _ivr(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> list[tuple[str, str]]:
    parsed = []
    for value in values:
        ext, sep, name = value.partition(":")
        if not sep or not ext.isdigit() or not 3 <= len(ext) <= 64 or not 1 <= len(name) <= 64:
            raise click.BadParameter(
                f"{value!r} is not EXTENSION:NAME (3-64 digits, a name of 1-64 characters),"
                " e.g. 8000:Main",
                ctx=ctx,
                param=param,
            )
        parsed.append((ext, name))
    return parsed


def build(
    ivrs: list[tuple[str, str]],
    *,
    username: str,
    password: str,
    db: str | None,
    token_ttl: float,
    login_generations: tuple[str, ...] = (),
    role: str = DEFAULT_ROLE,
) -> FakePBX:
    """The fake PBX with the given receptionists (ones already in ``db`` are kept as they are)."""
    pbx = FakePBX(
        username=username,
        password=password,
        db=db,
        token_ttl=token_ttl,
        login_generations=login_generations or GENERATIONS,
        role=role,
    )
    known = {i.extension_number for i in pbx.ivrs()}
    for ext, name in ivrs:
        if ext not in known:
            pbx.add_ivr(ext, name)
            known.add(ext)
    return pbx


@main.command("fake-pbx")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8887, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--ivr",
    "ivrs",
    multiple=True,
    callback=_ivr,
    metavar="EXT:NAME",
    help="A virtual receptionist to create, e.g. 8000:Main (repeatable).",
)
@click.option("--username", default=DEFAULT_USERNAME, show_default=True, help="REST API login.")
@click.option("--password", default=DEFAULT_PASSWORD, help="REST API password.")
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    default=None,
    help="SQLite file that keeps the state across restarts (default: memory only).",
)
@click.option("--token-ttl", default=3600.0, show_default=True, type=click.FloatRange(min=1))
@click.option(
    "--login-generation",
    "login_generations",
    multiple=True,
    type=click.Choice([g.key for g in Generation]),
    help="A login endpoint to serve (repeatable; default all three): sign_in = POST "
    "/auth/sign_in (v22.2+), oauth = POST /login/oauth/token (v22.0/22.1), login = POST /login.",
)
@click.option(
    "--role",
    default=DEFAULT_ROLE,
    show_default=True,
    help="The account's role, as GET /auth/user reports it (e.g. Admin, StandardUser).",
)
@click.option(
    "--latency",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 60),
    help="Seconds added to every resource request, as a PBX across a network would take.",
)
def fake_pbx(
    host: str,
    port: int,
    ivrs: list[tuple[str, str]],
    username: str,
    password: str,
    db: str | None,
    token_ttl: float,
    login_generations: tuple[str, ...],
    role: str,
    latency: float,
) -> None:
    """Serve a fake PortSIP PBX: the Virtual Receptionist REST API under /api."""
    pbx = build(
        ivrs,
        username=username,
        password=password,
        db=db,
        token_ttl=token_ttl,
        login_generations=login_generations,
        role=role,
    )
    pbx.faults.latency = latency
    try:
        sock = bind_socket(host, port)
    except OSError as exc:
        raise click.UsageError(f"--host/--port: cannot listen on {host}:{port}: {exc}") from None
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    click.echo(f"fake PBX REST API: http://{shown}:{bound_port}/api")
    # The default password is a documented throwaway; a chosen one is not echoed back.
    secret = password if password == DEFAULT_PASSWORD else "(as given with --password)"
    click.echo(f"login: username={username} password={secret}")
    served = [g for g in GENERATIONS if g in pbx.login_generations]
    click.echo("login endpoints: " + ", ".join(g.label for g in served))
    for ivr in pbx.ivrs():
        click.echo(f"receptionist {ivr.extension_number} {ivr.name} id={ivr.id}")
    sys.stdout.flush()  # whoever started us waits for these lines (pipes buffer)
    # access_log off: request lines may carry filters with caller numbers.
    config = uvicorn.Config(pbx.app, log_level="warning", access_log=False, lifespan="off")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        pbx.close()
