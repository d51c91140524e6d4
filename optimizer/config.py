"""Configuration: one INI file read with oslo.config, overridable from outside.

The file is the first of: the ``--config-file`` argument, the
``OPTIMIZER_CONFIG_FILE`` environment variable, or ``optimizer.conf`` in the
user's configuration folder (``platformdirs.user_config_dir("optimizer")``),
if it exists. The database URL has its own, stronger overrides:
``--database-url`` > ``OPTIMIZER_DATABASE_URL`` > the file > the default.

Options live on a private :class:`OptimizerConf` (never oslo's global
``CONF``), so tests and embedded uses do not leak into each other. The rest
of the engine receives a :class:`Settings` of plain values. oslo.messaging
registers its own ``transport_url`` option; give it a fresh ``ConfigOpts``
and pass ``settings.transport_url`` as ``url`` rather than this one.
"""
from __future__ import annotations

import difflib
import logging
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from oslo_config import cfg
from platformdirs import user_config_dir, user_data_dir

from optimizer.models.errors import UserError
from optimizer.tracing.setup import TracingSettings

LOG = logging.getLogger(__name__)

APP_NAME = "optimizer"
CONFIG_FILE_ENV = "OPTIMIZER_CONFIG_FILE"
DATABASE_URL_ENV = "OPTIMIZER_DATABASE_URL"


class ConfigError(UserError):
    """A configuration file or value that cannot be used."""


def default_config_file() -> Path:
    """Where the configuration file is looked for when none is named."""
    return Path(user_config_dir(APP_NAME)) / "optimizer.conf"


def default_data_dir() -> Path:
    """Where the default database and the simulated cloud's state live."""
    return Path(user_data_dir(APP_NAME))


def _options() -> dict[str | None, list[cfg.Opt]]:
    """The options, by group; defaults that depend on the user are computed now."""
    data = default_data_dir()
    return {
        None: [
            cfg.StrOpt("transport_url", default="fake://", secret=True,
                       help="oslo.messaging transport URL; fake:// runs in-process."),
            cfg.StrOpt("host", default=socket.gethostname(),
                       help="Name of this service host in notifications and worker records."),
        ],
        "service": [
            cfg.FloatOpt("heartbeat_interval_s", default=5.0, min=0.1,
                         help="How often a running service records that it is alive."),
            cfg.FloatOpt("worker_timeout_s", default=30.0, min=1.0,
                         help="Silence after which a worker is dead and its audits taken over."),
            cfg.BoolOpt("notifications", default=True,
                        help="Emit audit, action plan and action notifications."),
            cfg.StrOpt("notification_topic", default="optimizer_notifications",
                       help="Topic the optimizer's own notifications are sent to."),
            cfg.StrOpt("decision_engine_topic", default="optimizer-decision-engine",
                       help="RPC topic decision engines consume audit requests from."),
            cfg.StrOpt("applier_topic", default="optimizer-applier",
                       help="RPC topic appliers consume plan launches from."),
        ],
        "listener": [
            cfg.BoolOpt("enabled", default=True,
                        help="Keep the cluster model fresh from Nova notifications."),
            cfg.StrOpt("topic", default="versioned_notifications",
                       help="Topic Nova's versioned notifications arrive on."),
            cfg.FloatOpt("resync_interval_s", default=600.0, min=1.0,
                         help="Seconds between full collections that replace the live model."),
            cfg.FloatOpt("max_clock_skew_s", default=300.0, min=0.0,
                         help="How far ahead of this host's clock a notification may be "
                              "stamped; later ones are refused."),
        ],
        "scheduler": [
            cfg.BoolOpt("enabled", default=True,
                        help="Run CONTINUOUS audits on their schedules in decision engines."),
            cfg.FloatOpt("sync_interval_s", default=5.0, min=0.1,
                         help="How often schedules are brought in line with audit states."),
            cfg.IntOpt("misfire_grace_s", default=60, min=1,
                       help="How late a scheduled run may still start."),
        ],
        "readiness": [
            cfg.FloatOpt("interval_s", default=0.0, min=0.0,
                         help="Seconds between failover readiness checks in decision engines "
                              "(a warning is logged when the cluster is not ready); 0: off."),
            cfg.IntOpt("failures", default=1, min=1, max=1000,
                       help="Hosts that may fail at once in the continuous readiness check."),
            cfg.StrOpt("by", default="host", choices=("host", "zone", "aggregate"),
                       help="Fail hosts, or each zone, or each aggregate, in that check."),
        ],
        "tracing": [
            cfg.BoolOpt("enabled", default=False,
                        help="Record OpenTelemetry spans of audits and plans (API request, "
                             "RPC, decision engine phases, applier actions)."),
            cfg.BoolOpt("store", default=True,
                        help="Keep finished spans in the database, for `optimizer audit show "
                             "--trace`."),
            cfg.StrOpt("otlp_endpoint", default="",
                       help="Also send spans to this OTLP/HTTP endpoint, e.g. "
                            "http://127.0.0.1:4318/v1/traces (empty: not sent)."),
        ],
        "database": [
            cfg.StrOpt("connection", default=f"sqlite:///{data / 'optimizer.db'}", secret=True,
                       help="SQLAlchemy URL of the database holding audits and plans."),
        ],
        "planner": [
            cfg.BoolOpt("disable_before_evacuation", default=True,
                        help="Disable a host's compute service before moving instances off it."),
            cfg.IntOpt("max_migrations_per_host", default=2, min=1,
                       help="Most migrations running at once from or to one host."),
            cfg.IntOpt("max_parallel_migrations", default=10, min=1,
                       help="Most migrations running at once in the whole cloud."),
            cfg.FloatOpt("migration_bandwidth_mb_s", default=1000.0, min=1.0,
                         help="Bandwidth one migration gets, for duration estimates (MB/s)."),
        ],
        "collector": [
            cfg.StrOpt("name", default="simulated",
                       help="Collector plugin that builds the cluster model."),
            cfg.StrOpt("scenario_file", help="Scenario JSON file read by the scenario collector."),
        ],
        "replay": [
            cfg.StrOpt("datasource", default="simulated",
                       help="Where `replay --from-cloud` reads each instance's CPU history: "
                            "a datasource plugin (prometheus), or simulated (a seeded "
                            "history around each instance's cpu_util, needing no cloud)."),
        ],
        "simulated": [
            cfg.IntOpt("hosts", default=40, min=1, help="Hosts in a new simulated cloud."),
            cfg.IntOpt("seed", default=1, help="Random seed of a new simulated cloud."),
            cfg.StrOpt("state_file", default=str(data / "simulated-cloud.db"),
                       help="Where the simulated cloud keeps its state between runs."),
        ],
        "applier": [
            cfg.IntOpt("max_retries", default=2, min=0,
                       help="Retries of an action after a transient error (e.g. no room yet)."),
            cfg.FloatOpt("retry_backoff_s", default=1.0, min=0,
                         help="Wait before the first retry; doubled for each further one."),
            cfg.FloatOpt("action_timeout_s", default=600.0, min=0.001,
                         help="An action still running after this long is aborted and fails."),
            cfg.FloatOpt("poll_interval_s", default=0.2, min=0.001,
                         help="How often running actions and the plan's state are checked."),
            cfg.StrOpt("failure_policy", default="continue", choices=["continue", "stop"],
                       help="After a failed action: continue independent branches, or stop."),
            cfg.BoolOpt("revert_on_failure", default=False,
                        help="Revert the completed actions, newest first, when a plan fails."),
            cfg.FloatOpt("heartbeat_timeout_s", default=30.0, min=0.1,
                         help="A plan whose applier has not been heard of for this long is "
                              "taken over by another."),
            cfg.BoolOpt("measure_efficacy", default=True,
                        help="Collect the cluster before and after each plan, store the "
                             "measured efficacy beside the predicted one and learn migration "
                             "bandwidths from it."),
        ],
        "guard_rails": [
            cfg.BoolOpt("automatic_execution", default=True,
                        help="The global switch: false stops every automatic (auto_trigger) "
                             "execution; plans then wait for a person to start them."),
            cfg.IntOpt("max_migrations_per_plan", default=0, min=0,
                       help="Most migrations a plan may hold to start automatically (0: any)."),
            cfg.FloatOpt("max_moved_memory_gb_per_hour", default=0.0, min=0,
                         help="Most memory automatic plans may move in any hour, counting "
                              "what moved in the last hour (0: no limit)."),
            cfg.ListOpt("allowed_windows", default=[],
                        help="Cron expressions (minute hour day month weekday, UTC) of the "
                             "minutes in which plans may start automatically; empty: always."),
        ],
        "logging": [
            cfg.StrOpt("format", default="text", choices=["text", "json"],
                       help="How `optimizer serve` logs: text (oslo.log's layout) or json "
                            "(one JSON object a line); state changes carry their ids."),
        ],
        "metrics": [
            cfg.PortOpt("port", default=0,
                        help="Port serving /metrics in a `serve` role without the API "
                             "(decision-engine, applier); 0: none. The API serves it anyway."),
            cfg.StrOpt("host", default="127.0.0.1", help="Address of that /metrics."),
        ],
        "api": [
            cfg.StrOpt("host", default="127.0.0.1", help="Address the REST API listens on."),
            cfg.PortOpt("port", default=9322, help="Port of the REST API (Watcher's)."),
            cfg.StrOpt("auth", default="none", choices=["none", "token", "keystone"],
                       help="none: anyone may read and write (local use); token: bearer "
                            "tokens from admin_tokens (read and write) or reader_tokens (read); "
                            "keystone: Keystone tokens, validated as [keystone_authtoken] says, "
                            "their roles checked by the policy rules."),
            cfg.StrOpt("policy_file",
                       help="YAML or JSON file overriding the default policy rules "
                            "(`oslopolicy-sample-generator --namespace optimizer` writes one); "
                            "unset: the defaults (admin writes, reader and member read)."),
            cfg.ListOpt("admin_tokens", default=[], secret=True,
                        help="Tokens that may read and write through the API."),
            cfg.ListOpt("reader_tokens", default=[], secret=True,
                        help="Tokens that may only read through the API."),
            cfg.IntOpt("workers", default=0, min=0, max=64,
                       help="API processes of `serve --role api` (0: one per CPU, at least "
                            "2); `serve --role all` always serves the API in one process."),
        ],
        "keystone_authtoken": [
            cfg.StrOpt("www_authenticate_uri",
                       help="Keystone's public URL, named to clients refused a token."),
            cfg.StrOpt("auth_url", help="Keystone URL the API validates tokens with."),
            cfg.StrOpt("username", help="The API's service user in Keystone."),
            cfg.StrOpt("password", secret=True, help="That user's password."),
            cfg.StrOpt("project_name", default="service", help="That user's project."),
            cfg.StrOpt("user_domain_name", default="Default", help="That user's domain."),
            cfg.StrOpt("project_domain_name", default="Default",
                       help="The domain of that user's project."),
            cfg.StrOpt("region_name", help="Keystone's region (unset: any)."),
            cfg.StrOpt("interface", default="internal",
                       choices=["public", "internal", "admin"],
                       help="Which of Keystone's catalog endpoints the API validates at."),
            cfg.IntOpt("token_cache_time", default=300, min=1,
                       help="Seconds a validated token is kept in the process's cache "
                            "(a token revoked meanwhile is refused once it expires there)."),
        ],
    }


class OptimizerConf(cfg.ConfigOpts):
    """oslo.config options plus what it cannot know: the file read and URL overrides."""

    def __init__(self) -> None:
        super().__init__()
        self.config_file: str | None = None
        self.overrides: dict[tuple[str, str], str] = {}  # (group, option) -> source


def build_conf() -> OptimizerConf:
    """A fresh configuration object with every option registered, nothing read yet."""
    conf = OptimizerConf()
    for group, opts in _options().items():
        conf.register_opts(opts, group=group)
    return conf


def parse_conf(config_file: str | None = None, database_url: str | None = None,
               environ: Mapping[str, str] | None = None) -> OptimizerConf:
    """Read the configuration file and apply overrides; bad input raises :class:`ConfigError`."""
    environ = os.environ if environ is None else environ
    path = _choose_file(config_file, environ)
    conf = build_conf()
    try:
        conf(args=[], project=APP_NAME, default_config_files=[path] if path else [],
             default_config_dirs=[], use_env=environ is os.environ)
    except cfg.ConfigFileParseError as exc:
        detail = re.sub(r"^Failed to parse .*?: at .*?:(\d+), ", r"line \1: ", _last_part(exc))
        raise ConfigError(f"config file {path} cannot be read: {detail}") from None
    except cfg.Error as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    conf.config_file = path
    if path:
        warn_unknown_keys(path)
    if database_url is not None:
        _override(conf, "database", "connection", database_url, "command line")
    elif environ.get(DATABASE_URL_ENV):
        _override(conf, "database", "connection", environ[DATABASE_URL_ENV],
                  f"environment {DATABASE_URL_ENV}")
    _check_values(conf)
    return conf


# (file, section, key) already warned about: a process that reads its
# configuration several times says each thing once.
_warned: set[tuple[str, str, str | None]] = set()


def warn_unknown_keys(path: str) -> None:
    """Warn (once a process) about sections and keys of ``path`` no option reads.

    oslo.config ignores them in silence, so a typo such as ``max_retriez``
    would quietly leave the default in force.
    """
    sections: dict[str, dict[str, list[str]]] = {}
    try:
        cfg.ConfigParser(path, sections).parse()
    except (cfg.ParseError, OSError, UnicodeDecodeError):
        return  # oslo has already reported what it could not read
    known = {group or "DEFAULT": [opt.name for opt in opts] for group, opts in _options().items()}
    # The plugins' options come with their modules (openstacksdk's collector,
    # Prometheus's client): imported only when the file has their sections.
    known.update(dict.fromkeys(PLUGIN_SECTIONS, []))
    if sections.keys() & set(PLUGIN_SECTIONS):
        known.update(_plugin_sections())
    for section, keys in sections.items():
        if section not in known:
            _warn_once(path, section, None,
                       f"config file {path}: section [{section}] is not known, its keys "
                       f"({', '.join(keys)}) are ignored; known sections: "
                       f"{', '.join(_closest_first(section, known))}")
            continue
        for key in keys:
            if key not in known[section]:
                _warn_once(path, section, key,
                           f"config file {path}: [{section}] {key} is not a known option and "
                           f"is ignored; known options of [{section}]: "
                           f"{', '.join(_closest_first(key, known[section]))}")


PLUGIN_SECTIONS = ("prometheus", "openstack")


def _plugin_sections() -> dict[str, list[str]]:
    """Sections the built-in plugins read themselves: [prometheus] and [openstack]."""
    from optimizer.datasources.options import _prometheus_opts
    from optimizer.openstack.options import OPTIONS

    return {"prometheus": [opt.name for opt in _prometheus_opts()],
            "openstack": [opt.name for opt in OPTIONS]}


def _closest_first(word: str, choices) -> list[str]:
    choices = list(choices)
    return difflib.get_close_matches(word, choices, n=len(choices), cutoff=0.0)


def _warn_once(path: str, section: str, key: str | None, message: str) -> None:
    if (path, section, key) not in _warned:
        _warned.add((path, section, key))
        LOG.warning("%s", message)


def _choose_file(config_file: str | None, environ: Mapping[str, str]) -> str | None:
    if config_file is not None:
        named, origin = config_file, "--config-file"
    elif environ.get(CONFIG_FILE_ENV):
        named, origin = environ[CONFIG_FILE_ENV], CONFIG_FILE_ENV
    else:
        default = default_config_file()
        return str(default) if default.is_file() else None
    path = Path(named).expanduser()
    if not path.is_file():
        problem = "is not a file" if path.exists() else "does not exist"
        raise ConfigError(f"config file {named} (from {origin}) {problem}")
    return str(path)


def _override(conf: OptimizerConf, group: str, name: str, value: str, source: str) -> None:
    conf.set_override(name, value, group=group)
    conf.overrides[(group, name)] = source


def _check_values(conf: OptimizerConf) -> None:
    """Read every option now, so a bad value fails at load time with its name."""
    for group, name, _ in _all_options(conf):
        try:
            _value(conf, group, name)
        except (cfg.ConfigSourceValueError, ValueError) as exc:
            reason = _last_part(exc).removeprefix("is not valid: ")
            # oslo's own OS_<GROUP>__<OPTION> variables win over the file.
            variable = f"OS_{group.upper()}__{name.upper()}"
            where = (f"environment {variable}" if variable in os.environ
                     else conf.config_file or "the environment")
            raise ConfigError(f"{where}: option [{group}] {name}: {reason}") from None
    url = conf.database.connection
    if not is_database_url(url):
        source = _source(conf, "database", "connection")
        raise ConfigError(
            f"[database] connection {mask_password(url)!r} from {source} is not a database URL "
            "(e.g. sqlite:////path/optimizer.db or postgresql+psycopg://user@host/db)") from None


# SQLAlchemy's own URL pattern (sqlalchemy.engine.url._parse_url): checking a
# URL here must not import SQLAlchemy, which `config show` and `--help` never use.
_DATABASE_URL = re.compile(
    r"""
        (?P<name>[\w\+]+)://
        (?:(?P<username>[^:/]*)(?::(?P<password>[^@]*))?@)?
        (?:(?:\[(?P<ipv6host>[^/\?]+)\]|(?P<ipv4host>[^/:\?]+))?(?::(?P<port>[^/\?]*))?)?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
    """, re.X)


def is_database_url(url: str) -> bool:
    """Whether SQLAlchemy's ``make_url`` would accept ``url`` (its port a number)."""
    found = _DATABASE_URL.match(url)
    return found is not None and (not found["port"] or found["port"].strip().isdigit())


def _last_part(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    return re.sub(r"^.*?LocationInfo\(.*?\) ", "", text)


def _all_options(conf: OptimizerConf) -> list[tuple[str, str, cfg.Opt]]:
    out = []
    for group, opts in _options().items():
        out += [(group or "DEFAULT", opt.name, opt) for opt in opts]
    return out


def _value(conf: OptimizerConf, group: str, name: str):
    return conf[name] if group == "DEFAULT" else conf[group][name]


def _source(conf: OptimizerConf, group: str, name: str) -> str:
    if (group, name) in conf.overrides:
        return conf.overrides[(group, name)]
    info = conf.get_location(name, None if group == "DEFAULT" else group)
    if info is None or info.location == cfg.Locations.opt_default:
        return "default"
    if info.location == cfg.Locations.environment:
        return f"environment {info.detail}"
    if info.location == cfg.Locations.user:
        return info.detail
    return info.location.name.replace("_", " ")


@dataclass(frozen=True)
class SettingRow:
    """One option as ``optimizer config show`` prints it, with where it came from."""

    group: str
    option: str
    value: object
    source: str


def effective_settings(conf: OptimizerConf) -> list[SettingRow]:
    """Every option's value and source; passwords in URLs are masked."""
    rows = []
    for group, name, opt in _all_options(conf):
        value = _value(conf, group, name)
        if opt.secret and isinstance(value, str):
            # a URL shows all but its password; a bare secret (a password) nothing
            value = mask_password(value) if "://" in value else "***"
        elif opt.secret and isinstance(value, list):
            value = ["***"] * len(value)
        rows.append(SettingRow(group, name, value, _source(conf, group, name)))
    return rows


def mask_password(url: str) -> str:
    """``scheme://user:secret@host`` → ``scheme://user:***@host``."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


@dataclass(frozen=True)
class PlannerSettings:
    """Limits the planner and applier keep to."""

    disable_before_evacuation: bool
    max_migrations_per_host: int
    max_parallel_migrations: int
    migration_bandwidth_mb_s: float


@dataclass(frozen=True)
class CollectorSettings:
    """Which collector builds the cluster model, and its input."""

    name: str
    scenario_file: str | None


@dataclass(frozen=True)
class SimulatedSettings:
    """The simulated cloud: its size, seed and where it persists."""

    hosts: int
    seed: int
    state_file: str


@dataclass(frozen=True)
class ServiceSettings:
    """What `optimizer serve` needs: host name, liveness, notifications, listener, scheduler."""

    host: str = "localhost"
    heartbeat_interval_s: float = 5.0
    worker_timeout_s: float = 30.0
    notifications: bool = True
    notification_topic: str = "optimizer_notifications"
    listener_enabled: bool = True
    listener_topic: str = "versioned_notifications"
    resync_interval_s: float = 600.0
    scheduler_enabled: bool = True
    scheduler_sync_interval_s: float = 5.0
    misfire_grace_s: int = 60
    decision_engine_topic: str = "optimizer-decision-engine"
    applier_topic: str = "optimizer-applier"
    max_clock_skew_s: float = 300.0


@dataclass(frozen=True)
class KeystoneSettings:
    """How the API validates Keystone tokens: ``[keystone_authtoken]``."""

    www_authenticate_uri: str | None = None
    auth_url: str | None = None
    username: str | None = None
    password: str | None = None
    project_name: str = "service"
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    region_name: str | None = None
    interface: str = "internal"
    token_cache_time: int = 300


@dataclass(frozen=True)
class ApiSettings:
    """Where the REST API listens and who may use it."""

    host: str = "127.0.0.1"
    port: int = 9322
    auth: str = "none"
    admin_tokens: tuple[str, ...] = ()
    reader_tokens: tuple[str, ...] = ()
    workers: int = 0
    policy_file: str | None = None
    keystone: KeystoneSettings = KeystoneSettings()


@dataclass(frozen=True)
class ApplierSettings:
    """How the applier retries, times out, polls and reacts to failures."""

    max_retries: int = 2
    retry_backoff_s: float = 1.0
    action_timeout_s: float = 600.0
    poll_interval_s: float = 0.2
    failure_policy: str = "continue"
    revert_on_failure: bool = False
    heartbeat_timeout_s: float = 30.0
    measure_efficacy: bool = True


@dataclass(frozen=True)
class GuardRailSettings:
    """Limits on automatic execution, for the whole service."""

    automatic_execution: bool = True
    max_migrations_per_plan: int = 0
    max_moved_memory_gb_per_hour: float = 0.0
    allowed_windows: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReadinessSettings:
    """The continuous failover readiness check of ``optimizer serve``."""

    interval_s: float = 0.0
    failures: int = 1
    by: str = "host"


@dataclass(frozen=True)
class ObservabilitySettings:
    """How `optimizer serve` logs, and where a role without the API serves /metrics."""

    log_format: str = "text"
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"


@dataclass(frozen=True)
class Settings:
    """The whole configuration as plain values, with the rows for ``config show``."""

    database_url: str
    transport_url: str
    planner: PlannerSettings
    collector: CollectorSettings
    simulated: SimulatedSettings
    config_file: str | None
    rows: tuple[SettingRow, ...]
    api: ApiSettings = ApiSettings()
    service: ServiceSettings = ServiceSettings()
    applier: ApplierSettings = ApplierSettings()
    guard_rails: GuardRailSettings = GuardRailSettings()
    replay_datasource: str = "simulated"
    readiness: ReadinessSettings = ReadinessSettings()
    tracing: TracingSettings = TracingSettings()
    observability: ObservabilitySettings = ObservabilitySettings()


def settings_from(conf: OptimizerConf) -> Settings:
    """Plain values out of a parsed configuration."""
    from optimizer.guard_rails import GuardRails

    # a window that is not a cron expression must fail now, not when a plan is due
    GuardRails.from_mapping({"allowed_windows": list(conf.guard_rails.allowed_windows)},
                            where="[guard_rails] allowed_windows")
    return Settings(
        database_url=conf.database.connection,
        transport_url=conf.transport_url,
        planner=PlannerSettings(**{o.name: conf.planner[o.name] for o in _options()["planner"]}),
        collector=CollectorSettings(conf.collector.name, conf.collector.scenario_file),
        simulated=SimulatedSettings(conf.simulated.hosts, conf.simulated.seed,
                                    conf.simulated.state_file),
        config_file=conf.config_file,
        rows=tuple(effective_settings(conf)),
        api=ApiSettings(conf.api.host, conf.api.port, conf.api.auth,
                        tuple(conf.api.admin_tokens), tuple(conf.api.reader_tokens),
                        conf.api.workers, conf.api.policy_file,
                        KeystoneSettings(**{o.name: conf.keystone_authtoken[o.name]
                                            for o in _options()["keystone_authtoken"]})),
        service=ServiceSettings(
            conf.host, conf.service.heartbeat_interval_s, conf.service.worker_timeout_s,
            conf.service.notifications, conf.service.notification_topic,
            conf.listener.enabled, conf.listener.topic, conf.listener.resync_interval_s,
            conf.scheduler.enabled, conf.scheduler.sync_interval_s,
            conf.scheduler.misfire_grace_s, conf.service.decision_engine_topic,
            conf.service.applier_topic, conf.listener.max_clock_skew_s),
        applier=ApplierSettings(**{o.name: conf.applier[o.name] for o in _options()["applier"]}),
        readiness=ReadinessSettings(
            **{o.name: conf.readiness[o.name] for o in _options()["readiness"]}),
        guard_rails=GuardRailSettings(
            conf.guard_rails.automatic_execution, conf.guard_rails.max_migrations_per_plan,
            conf.guard_rails.max_moved_memory_gb_per_hour,
            tuple(conf.guard_rails.allowed_windows)),
        replay_datasource=conf.replay.datasource,
        tracing=TracingSettings(**{o.name: conf.tracing[o.name] for o in _options()["tracing"]}),
        observability=ObservabilitySettings(conf.logging.format, conf.metrics.port,
                                            conf.metrics.host),
    )


def load_config(config_file: str | None = None, database_url: str | None = None) -> Settings:
    """The settings the command line runs with; :class:`ConfigError` on bad input."""
    return settings_from(parse_conf(config_file, database_url))
