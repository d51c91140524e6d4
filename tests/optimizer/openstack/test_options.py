"""The [openstack] section: a bad cloud name or value is one clear error."""
from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from optimizer.datasources.base import DatasourceError
from optimizer.openstack.options import OpenStackError, openstack_collector


def settings(tmp_path, text: str):
    path = tmp_path / "optimizer.conf"
    path.write_text(text)
    return NS(config_file=str(path))


def test_unknown_cloud_names_the_cloud(tmp_path, monkeypatch):
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "clouds.yaml"))
    (tmp_path / "clouds.yaml").write_text("clouds: {}\n")
    with pytest.raises(OpenStackError, match="cannot connect with cloud 'nowhere'"):
        openstack_collector(settings(tmp_path, "[openstack]\ncloud = nowhere\n"))


def test_bad_window_names_group_and_option(tmp_path):
    with pytest.raises(DatasourceError, match=r"\[openstack\].*metrics_window_s"):
        openstack_collector(settings(tmp_path, "[openstack]\nmetrics_window_s = -5\n"))


def test_unknown_datasource_lists_the_installed_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "clouds.yaml"))
    (tmp_path / "clouds.yaml").write_text(
        "clouds:\n  here:\n    auth_type: none\n    auth:\n      endpoint: http://127.0.0.1:9\n")
    with pytest.raises(OpenStackError, match=r"datasource 'gnocchi' is not installed "
                                             r"\(installed: .*prometheus"):
        openstack_collector(settings(tmp_path, "[openstack]\ncloud = here\n"
                                               "datasource = gnocchi\n"))
