"""`optimizer serve` refuses an unauthenticated API on a reachable address."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

import optimizer.services
from optimizer.cli import cli
from optimizer.serve import is_loopback


@pytest.fixture
def started(monkeypatch) -> list[tuple]:
    """Records what `serve` would run instead of running it."""
    calls: list[tuple] = []
    monkeypatch.setattr(optimizer.services, "run", lambda *args: calls.append(args))
    return calls


def serve(tmp_path, api: str, *args: str):
    config = tmp_path / "optimizer.conf"
    config.write_text(f"[database]\nconnection = sqlite:///{tmp_path / 'o.db'}\n[api]\n{api}\n")
    return CliRunner().invoke(cli, ["--config-file", str(config), "serve", *args])


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "api.example.com"])
def test_no_auth_on_a_reachable_host_is_refused(tmp_path, started, host):
    result = serve(tmp_path, f"host = {host}\nauth = none")
    assert result.exit_code == 2, result.output
    assert "auth = none" in result.output and host in result.output
    assert "--insecure" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert started == []


def test_the_host_option_is_checked_too(tmp_path, started):
    result = serve(tmp_path, "auth = none", "--role", "api", "--host", "0.0.0.0")
    assert result.exit_code == 2, result.output
    assert started == []


def test_insecure_serves_with_a_loud_warning(tmp_path, started):
    result = serve(tmp_path, "host = 0.0.0.0\nauth = none", "--insecure")
    assert result.exit_code == 0, result.output
    assert "INSECURE" in result.output and "0.0.0.0" in result.output
    assert len(started) == 1


@pytest.mark.parametrize(("api", "args"), [
    ("host = 127.0.0.1\nauth = none", ()),
    ("host = localhost\nauth = none", ()),
    ("host = ::1\nauth = none", ()),
    ("host = 0.0.0.0\nauth = token\nadmin_tokens = s3cret", ()),
    ("host = 0.0.0.0\nauth = none", ("--role", "applier")),  # no API in this process
])
def test_safe_setups_start_without_a_warning(tmp_path, started, api, args):
    result = serve(tmp_path, api, *args)
    assert result.exit_code == 0, result.output
    assert "INSECURE" not in result.output
    assert len(started) == 1


def test_loopback_addresses():
    assert is_loopback("127.0.0.2") and is_loopback("[::1]") and is_loopback("LOCALHOST")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.1")
