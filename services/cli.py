"""The ``vocdesk`` command: run one service, run everything, manage users."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from services.registry import SERVICES, app_factory, port_of
from shared.bus.base import Bus
from shared.bus.inproc import InProcessBus
from shared.embedded import EmbeddedMongo
from shared.errors import ConfigError, VocdeskError
from shared.logging import configure_logging
from shared.org_files import known_orgs
from shared.runtime import Runtime, make_bus, open_store, resolve_amqp_url
from shared.settings import Settings


def _embedded_store(settings: Settings, name: str) -> EmbeddedMongo:
    return EmbeddedMongo(settings.data_dir.resolve() / name)


def _url_file(settings: Settings) -> Path:
    # Where `vocdesk up` says which embedded store it runs, so other commands
    # (users create) use that server instead of opening its locked directory.
    return settings.data_dir.resolve() / "mongo.url"


def _running_embedded_url(settings: Settings) -> str | None:
    from urllib.parse import urlparse

    from shared.runtime import port_answers

    path = _url_file(settings)
    if not path.exists():
        return None
    url = path.read_text().strip()
    port = urlparse(url).port
    return url if port and port_answers(port=port) else None


def _server(app: object, settings: Settings, port: int) -> uvicorn.Server:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=settings.host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        ws="websockets-sansio",
    )
    return uvicorn.Server(config)


async def _serve(servers: Sequence[uvicorn.Server]) -> None:
    await asyncio.gather(*(server.serve() for server in servers))


def run_service(service: str, settings: Settings) -> None:
    """Run one service in this process on RabbitMQ."""
    configure_logging(service, settings.log_level)
    embedded = None
    mongo_url = str(settings.mongo_url) if settings.mongo_url else None
    if mongo_url is None:
        embedded = _embedded_store(settings, f"mongo-{service}")
        mongo_url = embedded.start()
    try:
        runtime = Runtime(
            service=service,
            settings=settings,
            bus=make_bus(settings),
            store=open_store(settings, service, mongo_url),
        )
        app = app_factory(service)(runtime)
        asyncio.run(_serve([_server(app, settings, port_of(settings, service))]))
    finally:
        if embedded is not None:
            embedded.stop()


async def _keep_store_up(store: EmbeddedMongo) -> None:
    # The one process's services reconnect by themselves once the store is back.
    while True:
        await asyncio.sleep(1)
        if not store.alive():
            code = store.exit_code()
            print(f"vocdesk: embedded store exited ({code}); restarting it", flush=True)
            try:
                await asyncio.to_thread(store.start)
            except ConfigError as exc:
                print(f"vocdesk: embedded store did not start: {exc}", flush=True)


def run_all_in_process(
    settings: Settings, mongo_url: str, store: EmbeddedMongo | None = None
) -> None:
    """Run the five services in one process on the in-process bus."""
    configure_logging("vocdesk", settings.log_level)

    async def main() -> None:
        bus: Bus = InProcessBus()
        servers = []
        for service in SERVICES:
            runtime = Runtime(
                service=service,
                settings=settings,
                bus=bus,
                store=open_store(settings, service, mongo_url),
                owns_bus=False,
            )
            app = app_factory(service)(runtime)
            servers.append(_server(app, settings, port_of(settings, service)))
        watch = asyncio.create_task(_keep_store_up(store)) if store is not None else None
        try:
            await _serve(servers)
        finally:
            if watch is not None:
                watch.cancel()
            await bus.close()

    asyncio.run(main())


def run_all_as_processes(
    settings: Settings, amqp_url: str, mongo_url: str, store: EmbeddedMongo | None = None
) -> int:
    """Run each service as its own process on RabbitMQ under the supervisor."""
    from services.supervisor import Supervisor, service_child

    env = {
        "VOCDESK_AMQP_URL": amqp_url,
        "VOCDESK_MONGO_URL": mongo_url,
        "VOCDESK_ENV": settings.env,
    }
    children = [
        service_child(service, env, f"http://127.0.0.1:{port_of(settings, service)}/readyz")
        for service in SERVICES
    ]
    return Supervisor(
        children,
        store=store,
        max_restarts=settings.supervisor_max_restarts,
        start_timeout_s=settings.supervisor_start_timeout_s,
    ).run()


def up(settings: Settings) -> int:
    """Run the whole system on one machine and say what it runs on."""
    embedded = None
    mongo_url = str(settings.mongo_url) if settings.mongo_url else None
    if mongo_url is None:
        embedded = _embedded_store(settings, "mongo")
        mongo_url = embedded.start()
        _url_file(settings).write_text(mongo_url)
        store_text = f"embedded MongoDB-protocol server (SecantusDB), data in {embedded.storage}"
    else:
        store_text = "MongoDB at the configured VOCDESK_MONGO_URL"
    amqp_url = resolve_amqp_url(settings)
    bus_text = "RabbitMQ, one process per service" if amqp_url else "in-process bus, one process"
    console = f"http://{settings.host}:{settings.console_port}"
    print(f"vocdesk: bus: {bus_text}", flush=True)
    print(f"vocdesk: store: {store_text}", flush=True)
    print(f"vocdesk: organisation: {settings.org}", flush=True)
    print(f"vocdesk: console: {console}", flush=True)
    print(f"vocdesk: mail: smtp://{settings.host}:{settings.smtp_port}", flush=True)
    if embedded is not None:
        print(f"vocdesk: embedded store running as pid {embedded.pid()}", flush=True)
    try:
        if amqp_url:
            return run_all_as_processes(settings, amqp_url, mongo_url, embedded)
        run_all_in_process(settings, mongo_url, embedded)
        return 0
    finally:
        if embedded is not None:
            embedded.stop()
            _url_file(settings).unlink(missing_ok=True)


def _command_store_url(settings: Settings) -> tuple[str, EmbeddedMongo | None]:
    """Return the store a one-off command uses, starting the embedded one if none runs."""
    mongo_url = str(settings.mongo_url) if settings.mongo_url else _running_embedded_url(settings)
    if mongo_url is not None:
        return mongo_url, None
    embedded = _embedded_store(settings, "mongo")
    return embedded.start(), embedded


def audit_verify(settings: Settings) -> int:
    """Check the hash chain of privacy's audit log; exit 1 if it is broken."""
    from services.privacy.commands import describe_verify, verify_audit

    mongo_url, embedded = _command_store_url(settings)
    try:
        result = asyncio.run(verify_audit(settings, mongo_url))
    finally:
        if embedded is not None:
            embedded.stop()
    line, code = describe_verify(result)
    print(f"vocdesk: {line}", file=sys.stderr if code else sys.stdout)
    return code


def keys_rotate(settings: Settings) -> int:
    """Re-wrap every customer's data key under the newest KEK in VOCDESK_VAULT_KEK."""
    from services.privacy.commands import rotate_data_keys

    mongo_url, embedded = _command_store_url(settings)
    try:
        report = asyncio.run(rotate_data_keys(settings, mongo_url))
    finally:
        if embedded is not None:
            embedded.stop()
    print(
        f"vocdesk: data keys re-wrapped {report.rewrapped}, "
        f"already current {report.current}, erased {report.erased}"
    )
    return 0


def classifier_train(settings: Settings, args: argparse.Namespace) -> int:
    """Train the case classifier on the seed data plus agents' corrections; save an artifact."""
    from services.routing.classification.artifacts import train

    orgs = known_orgs() if args.org == "all" else [args.org]
    for org in orgs:
        path = train(org, settings.data_dir, examples=[Path(p) for p in args.examples])
        print(f"vocdesk: classifier for {org} saved as {path} (routing loads it at start)")
    return 0


def users_create(settings: Settings, args: argparse.Namespace) -> int:
    """Create a console user in the console's database."""
    from services.console import users
    from shared.clock import SystemClock

    mongo_url, embedded = _command_store_url(settings)

    async def create() -> None:
        store = open_store(settings, "console", mongo_url)
        try:
            await users.create_user(
                store,
                username=args.username,
                password=args.password,
                role=args.role,
                unit=args.unit,
                at=SystemClock().now(),
                replace=args.replace,
            )
        finally:
            await store.client.close()

    try:
        asyncio.run(create())
    finally:
        if embedded is not None:
            embedded.stop()
    print(f"vocdesk: user {args.username} ({args.role}) created")
    return 0


# Who the account audit names for a change made from the command line.
CLI_ACTOR = "cli"


def users_change(settings: Settings, args: argparse.Namespace) -> int:
    """Disable or delete a console user, as the admin API does: audited, tokens ended.

    The account's ``token_version`` goes up (or the account is gone), so every
    token issued for it stops working within the console's 30 s account cache.
    """
    from services.console import users
    from shared.clock import SystemClock

    users.check_username(args.username)
    mongo_url, embedded = _command_store_url(settings)

    async def change() -> None:
        store = open_store(settings, "console", mongo_url)
        try:
            now = SystemClock().now()
            if args.action == "disable":
                await users.set_active(store, args.username, active=False, by=CLI_ACTOR, at=now)
            else:
                await users.delete_user(store, args.username, by=CLI_ACTOR, at=now)
        finally:
            await store.client.close()

    try:
        asyncio.run(change())
    finally:
        if embedded is not None:
            embedded.stop()
    done = "disabled" if args.action == "disable" else "deleted"
    print(f"vocdesk: user {args.username} {done}; their tokens stop working within a minute")
    return 0


def report(settings: Settings, args: argparse.Namespace) -> int:
    """Print or write a monthly or quarterly management report."""
    from services.routing.reports.command import run_report

    mongo_url, embedded = _command_store_url(settings)
    try:
        sys.stdout.write(run_report(settings, args, mongo_url))
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def acting_headers(settings: Settings, args: argparse.Namespace) -> int:
    """Print, one a line, the headers an operator's call to an internal API needs."""
    from shared.assertions import Acting
    from shared.internal_api import service_headers

    if args.role == "unit_member" and not args.unit:
        raise ConfigError("--role unit_member needs --unit")
    headers = service_headers(
        Acting(user=args.user, role=args.role, unit=args.unit),
        token=settings.service_token.get_secret_value(),
        acting_key=settings.acting_key.get_secret_value(),
        audience=args.service,
    )
    for name, value in headers.items():
        print(f"{name}: {value}")
    return 0


def parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    root = argparse.ArgumentParser(prog="vocdesk", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run one service")
    run.add_argument("service", choices=SERVICES)
    commands.add_parser("up", help="run all five services on this machine")
    user_cmd = commands.add_parser("users", help="manage console users")
    user_sub = user_cmd.add_subparsers(dest="action", required=True)
    create = user_sub.add_parser("create", help="create a user")
    create.add_argument("--username", required=True)
    create.add_argument("--password", required=True)
    create_roles = ["agent", "supervisor", "unit_member", "manager", "admin", "dpo"]
    create.add_argument("--role", required=True, choices=create_roles)
    create.add_argument("--unit")
    create.add_argument("--replace", action="store_true", help="overwrite an existing user")
    disable = user_sub.add_parser("disable", help="disable a user; their tokens stop working")
    disable.add_argument("username")
    delete = user_sub.add_parser("delete", help="delete a user; their tokens stop working")
    delete.add_argument("username")
    audit_cmd = commands.add_parser("audit", help="privacy's audit log of access to personal data")
    audit_sub = audit_cmd.add_subparsers(dest="action", required=True)
    audit_sub.add_parser("verify", help="check the hash chain; exit 1 if an entry was altered")
    keys_cmd = commands.add_parser("keys", help="privacy's customer data keys")
    keys_sub = keys_cmd.add_subparsers(dest="action", required=True)
    keys_sub.add_parser("rotate", help="re-wrap every data key under the newest KEK")
    classifier_cmd = commands.add_parser("classifier", help="routing's case classifier")
    classifier_sub = classifier_cmd.add_subparsers(dest="action", required=True)
    train_cmd = classifier_sub.add_parser(
        "train", help="train on the seed data, agents' corrections and --examples JSONL files"
    )
    train_cmd.add_argument("--org", choices=[*known_orgs(), "all"], default="all")
    train_cmd.add_argument("--examples", nargs="*", default=[], help="more labelled JSONL files")
    acting_cmd = commands.add_parser(
        "acting",
        help="print the headers of one internal API call made for a user (valid 30 s)",
    )
    acting_cmd.add_argument("--user", required=True)
    acting_cmd.add_argument("--role", required=True, choices=create_roles)
    acting_cmd.add_argument("--unit")
    internal = [name for name in SERVICES if name != "console"]
    acting_cmd.add_argument("--service", required=True, choices=internal)
    from services.routing.reports.command import add_parser as add_report_parser

    add_report_parser(commands)
    return root


# Which services' secrets a command needs: a service's own process holds only its own.
_COMMAND_SERVICES = {
    "users": ("console",),
    "audit": ("privacy",),
    "keys": ("privacy",),
    "report": ("routing",),
    "acting": ("routing",),
    "classifier": (),
}


def _needs(args: argparse.Namespace) -> tuple[str, ...]:
    if args.command == "run":
        return (args.service,)
    return _COMMAND_SERVICES.get(args.command, tuple(SERVICES))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``vocdesk`` command."""
    args = parser().parse_args(argv)
    try:
        settings = Settings()
        settings.refuse_placeholders(_needs(args))
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        if args.command == "run":
            run_service(args.service, settings)
            return 0
        if args.command == "up":
            return up(settings)
        if args.command == "users":
            if args.action == "create":
                return users_create(settings, args)
            return users_change(settings, args)
        if args.command == "audit":
            return audit_verify(settings)
        if args.command == "keys":
            return keys_rotate(settings)
        if args.command == "classifier":
            return classifier_train(settings, args)
        if args.command == "report":
            return report(settings, args)
        if args.command == "acting":
            return acting_headers(settings, args)
    except (ConfigError, VocdeskError) as exc:
        print(f"vocdesk: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
