"""The ``[prometheus]`` section of the configuration file, read on demand.

The core configuration (:mod:`optimizer.config`) knows nothing of plugins;
a plugin reads its own section from the same file with a private
``ConfigOpts``, so a bad value still names its group and option.
"""
from __future__ import annotations

import re

from oslo_config import cfg

from optimizer.datasources.base import DatasourceError
from optimizer.datasources.prometheus import (
    DEFAULT_EXPRESSIONS,
    DEFAULT_LABELS,
    PrometheusDatasource,
    PrometheusSettings,
)


def read_section(config_file: str | None, group: str, opts: list[cfg.Opt]) -> cfg.ConfigOpts:
    """A ConfigOpts holding ``opts`` under ``group``, read from ``config_file`` if any."""
    conf = cfg.ConfigOpts()
    conf.register_opts(opts, group=group)
    try:
        conf(args=[], project="optimizer", default_config_files=[config_file] if config_file
             else [], default_config_dirs=[], use_env=False)
        for opt in opts:  # read every value now so a bad one fails here, named
            conf[group][opt.name]
    except (cfg.Error, ValueError) as exc:
        text = str(exc).strip().splitlines()[-1]
        text = re.sub(r"from LocationInfo\(.*?\) ", "", text)
        raise DatasourceError(f"{config_file}: [{group}]: {text}") from None
    return conf


def _prometheus_opts() -> list[cfg.Opt]:
    opts: list[cfg.Opt] = [
        cfg.StrOpt("url", default="http://127.0.0.1:9090", help="Prometheus base URL."),
        cfg.StrOpt("username", help="Basic auth user."),
        cfg.StrOpt("password", secret=True, help="Basic auth password."),
        cfg.StrOpt("ca_file", help="CA bundle to verify Prometheus's TLS certificate."),
        cfg.BoolOpt("verify_tls", default=True, help="Verify Prometheus's TLS certificate."),
        cfg.FloatOpt("timeout_s", default=30.0, min=0.1, help="Timeout of one query."),
        cfg.StrOpt("rate_window", default="5m", help="Range of rate() in the expressions."),
        cfg.IntOpt("step_s", default=60, min=1, help="Resolution of the window subquery."),
    ]
    for metric, expression in DEFAULT_EXPRESSIONS.items():
        opts.append(cfg.StrOpt(f"{metric}_query", default=expression,
                               help=f"PromQL giving {metric} (0..1) per resource."))
        opts.append(cfg.StrOpt(f"{metric}_label", default=DEFAULT_LABELS[metric],
                               help=f"Label naming the resource in {metric}_query."))
    return opts


def load_prometheus_settings(config_file: str | None) -> PrometheusSettings:
    """``[prometheus]`` of ``config_file`` (defaults without one)."""
    section = read_section(config_file, "prometheus", _prometheus_opts()).prometheus
    return PrometheusSettings(
        url=section.url, username=section.username, password=section.password,
        ca_file=section.ca_file, verify_tls=section.verify_tls, timeout_s=section.timeout_s,
        rate_window=section.rate_window, step_s=section.step_s,
        expressions={m: section[f"{m}_query"] for m in DEFAULT_EXPRESSIONS},
        labels={m: section[f"{m}_label"] for m in DEFAULT_EXPRESSIONS},
    )


def prometheus_datasource(settings) -> PrometheusDatasource:
    """Entry point factory: the datasource configured in ``[prometheus]``."""
    return PrometheusDatasource(load_prometheus_settings(settings.config_file))
