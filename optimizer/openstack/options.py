"""The ``[openstack]`` section and the entry point factories built from it.

``[openstack] cloud`` names a cloud in clouds.yaml; without it openstacksdk
reads the ``OS_*`` environment (``OS_CLOUD``, or ``OS_AUTH_URL`` and friends).
``[openstack] datasource`` names the metrics datasource (``prometheus`` by
default; empty for none, leaving every cpu_util at 0).
"""
from __future__ import annotations

from typing import Any

from oslo_config import cfg

from optimizer.datasources.base import DATASOURCE_GROUP, check_aggregate
from optimizer.datasources.options import read_section
from optimizer.datasources.prometheus import MAX_POINTS
from optimizer.models.errors import UserError
from optimizer.openstack.actuator import NovaActuator
from optimizer.openstack.collector import MetricsOptions, OpenStackCollector

OPTIONS = [
    cfg.StrOpt("cloud", help="Cloud name in clouds.yaml (default: the OS_* environment)."),
    cfg.StrOpt("region_name", help="Region to use."),
    cfg.StrOpt("datasource", default="prometheus",
               help="Datasource plugin giving cpu_util and memory_util; empty for none."),
    cfg.IntOpt("metrics_window_s", default=600, min=1,
               help="Audit window the metrics are aggregated over (seconds)."),
    cfg.StrOpt("metrics_aggregate", default="mean",
               help="Aggregate over the window: mean, max or pNN (e.g. p95)."),
    cfg.IntOpt("cpu_history_window_s", default=0, min=0,
               help="Fill each server's CPU series (read by cpu_sizing=pNN or max) with its "
                    "history over this many seconds, in one range query; 0 for none."),
    cfg.IntOpt("cpu_history_step_s", default=300, min=1,
               help="Seconds between two samples of the CPU history."),
]


class OpenStackError(UserError):
    """The OpenStack cloud cannot be configured or reached."""


def connect(config_file: str | None) -> tuple[Any, Any]:
    """(openstacksdk connection, [openstack] section) for ``config_file``."""
    try:
        import openstack
    except ImportError:
        raise OpenStackError("the openstack collector needs openstacksdk: "
                             "pip install 'optimizer[openstack]'") from None
    section = read_section(config_file, "openstack", OPTIONS).openstack
    try:
        connection = openstack.connect(cloud=section.cloud, region_name=section.region_name)
    except Exception as exc:  # openstacksdk's config errors come in many classes
        where = f"cloud {section.cloud!r}" if section.cloud else "the OS_* environment"
        raise OpenStackError(f"openstack: cannot connect with {where}: "
                             f"{str(exc).splitlines()[0] if str(exc) else exc}") from None
    return connection, section


def openstack_collector(settings) -> OpenStackCollector:
    """Entry point factory for ``[collector] name = openstack``."""
    from optimizer.plugins import load_group

    connection, section = connect(settings.config_file)
    datasource = None
    if section.datasource:
        plugins = load_group(DATASOURCE_GROUP)
        if section.datasource not in plugins.loaded:
            known = ", ".join(sorted(plugins.loaded)) or "none"
            raise OpenStackError(f"[openstack] datasource {section.datasource!r} is not "
                                 f"installed (installed: {known})")
        datasource = plugins.loaded[section.datasource](settings)
    window, step = section.cpu_history_window_s, section.cpu_history_step_s
    if window // step + 1 > MAX_POINTS:
        raise OpenStackError(f"[openstack] cpu_history_window_s = {window} every "
                             f"cpu_history_step_s = {step} is more than {MAX_POINTS} samples "
                             "a server; raise the step")
    metrics = MetricsOptions(section.metrics_window_s, check_aggregate(section.metrics_aggregate),
                             window, step)
    return OpenStackCollector(connection, datasource, metrics,
                              cloud_name=section.cloud or "openstack")


def nova_actuator(settings) -> NovaActuator:
    """Entry point factory for the ``nova`` actuator (also registered as ``openstack``)."""
    connection, _ = connect(settings.config_file)
    return NovaActuator(connection)
