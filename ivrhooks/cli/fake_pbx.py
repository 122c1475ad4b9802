"""``ivrhooks fake-pbx``: serve the fake PBX's REST API for development without a phone system.

Served as every fake PBX the command line serves: behind :mod:`ivrhooks.fakepbx.guard` (a
loopback ``Host`` unless ``--allow-host`` names more, bodies as JSON, no CORS), with a password
generated for this process and printed unless ``--password`` gives one, and sending calls to
loopback addresses only unless ``--allow-target``/``--allow-any-target`` say more.
"""

from __future__ import annotations

import sys

import click
import uvicorn

from ivrhooks.cli.group import main
from ivrhooks.fakepbx import DEFAULT_ROLE, DEFAULT_USERNAME, FakePBX
from ivrhooks.fakepbx.embedded import generate_password
from ivrhooks.fakepbx.guard import guard_pbx
from ivrhooks.fakepbx.targets import LOOPBACK, Targets, base_problem
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


def _bases(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        problem = base_problem(value)
        if problem is not None:
            raise click.BadParameter(
                f"{value!r}: {problem}, e.g. http://lb:8080", ctx=ctx, param=param
            )
    return values


def build(
    ivrs: list[tuple[str, str]],
    *,
    username: str,
    password: str,
    db: str | None,
    token_ttl: float,
    login_generations: tuple[str, ...] = (),
    role: str = DEFAULT_ROLE,
    targets: Targets = LOOPBACK,
    behaviour: str | None = None,
) -> FakePBX:
    """The fake PBX with the given receptionists (ones already in ``db`` are kept as they are)."""
    pbx = FakePBX(
        username=username,
        password=password,
        db=db,
        token_ttl=token_ttl,
        login_generations=login_generations or GENERATIONS,
        role=role,
        targets=targets,
        behaviour=behaviour,
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
@click.option(
    "--password", default=None, help="REST API password [default: generated and printed]."
)
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
@click.option(
    "--allow-host",
    "hosts",
    multiple=True,
    metavar="NAME",
    help="A Host name answered besides 127.0.0.1, localhost and [::1], e.g. the service name "
    "other containers reach it by (repeatable).",
)
@click.option(
    "--allow-target",
    "bases",
    multiple=True,
    callback=_bases,
    metavar="URL",
    help="Also send calls to action URLs under this base URL, e.g. http://lb:8080 "
    "(repeatable; default: loopback addresses only).",
)
@click.option(
    "--allow-any-target",
    is_flag=True,
    help="Send calls to any action URL, wherever it points.",
)
@click.option(
    "--behaviour",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="A PBX build's behaviour file, as `ivrhooks probe` writes it: send action-URL "
    "requests as that build does and react to late, non-200 and non-JSON answers as it did.",
)
def fake_pbx(
    host: str,
    port: int,
    ivrs: list[tuple[str, str]],
    username: str,
    password: str | None,
    db: str | None,
    token_ttl: float,
    login_generations: tuple[str, ...],
    role: str,
    latency: float,
    hosts: tuple[str, ...],
    bases: tuple[str, ...],
    allow_any_target: bool,
    behaviour: str | None,
) -> None:
    """Serve a fake PortSIP PBX: the Virtual Receptionist REST API under /api."""
    how = "pass --allow-target URL or --allow-any-target to `ivrhooks fake-pbx`"
    pbx = build(
        ivrs,
        username=username,
        password=password or generate_password(),
        db=db,
        token_ttl=token_ttl,
        login_generations=login_generations,
        role=role,
        targets=Targets(bases=bases, anywhere=allow_any_target, how=how),
        behaviour=behaviour,
    )
    pbx.faults.latency = latency
    try:
        sock = bind_socket(host, port)
    except OSError as exc:
        raise click.UsageError(f"--host/--port: cannot listen on {host}:{port}: {exc}") from None
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    click.echo(f"fake PBX REST API: http://{shown}:{bound_port}/api")
    # A generated password is printed (the only way to learn it); a chosen one is not echoed.
    secret = pbx.password if password is None else "(as given with --password)"
    click.echo(f"login: username={username} password={secret}")
    served = [g for g in GENERATIONS if g in pbx.login_generations]
    click.echo("login endpoints: " + ", ".join(g.label for g in served))
    for ivr in pbx.ivrs():
        click.echo(f"receptionist {ivr.extension_number} {ivr.name} id={ivr.id}")
    if behaviour is not None:
        click.echo(f"acting as the PBX build recorded in {behaviour}")
    sys.stdout.flush()  # whoever started us waits for these lines (pipes buffer)
    # access_log off: request lines may carry filters with caller numbers.
    app = guard_pbx(pbx.app, hosts=hosts)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        pbx.close()
