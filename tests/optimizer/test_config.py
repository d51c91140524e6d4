"""Configuration: file discovery, precedence of the database URL, sources, errors."""
from pathlib import Path

import pytest
from optimizer.models.errors import UserError

from optimizer.config import (
    ConfigError,
    effective_settings,
    load_config,
    mask_password,
    parse_conf,
)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Point the user folders at a temporary home and clear our variables."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for name in ("OPTIMIZER_CONFIG_FILE", "OPTIMIZER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def row(settings, group, option):
    return next(r for r in settings.rows if (r.group, r.option) == (group, option))


def test_defaults_without_any_file(isolated_home):
    settings = load_config()
    assert settings.config_file is None
    assert settings.database_url == f"sqlite:///{isolated_home / 'data/optimizer/optimizer.db'}"
    assert settings.transport_url == "fake://"
    assert settings.planner.max_migrations_per_host == 2
    assert settings.planner.max_parallel_migrations == 10
    assert settings.planner.disable_before_evacuation is True
    assert settings.planner.migration_bandwidth_mb_s == 1000
    assert settings.collector.name == "simulated" and settings.collector.scenario_file is None
    assert (settings.simulated.hosts, settings.simulated.seed) == (40, 1)
    assert settings.simulated.state_file.startswith(str(isolated_home / "data/optimizer"))
    assert {r.source for r in settings.rows} == {"default"}
    assert not (isolated_home / "data").exists(), "loading must not create folders"


def test_file_in_user_config_dir_is_found(isolated_home):
    path = write(isolated_home / "config/optimizer/optimizer.conf",
                 "[planner]\nmax_parallel_migrations = 3\n")
    settings = load_config()
    assert settings.config_file == path
    assert settings.planner.max_parallel_migrations == 3
    assert row(settings, "planner", "max_parallel_migrations").source == path
    assert row(settings, "planner", "max_migrations_per_host").source == "default"


def test_env_var_names_the_file(isolated_home, monkeypatch):
    path = write(isolated_home / "elsewhere.conf", "[simulated]\nhosts = 7\n")
    monkeypatch.setenv("OPTIMIZER_CONFIG_FILE", path)
    assert load_config().simulated.hosts == 7


def test_explicit_file_beats_env_var(isolated_home, monkeypatch):
    monkeypatch.setenv("OPTIMIZER_CONFIG_FILE",
                       write(isolated_home / "env.conf", "[simulated]\nhosts = 7\n"))
    explicit = write(isolated_home / "cli.conf", "[simulated]\nhosts = 9\n")
    assert load_config(explicit).simulated.hosts == 9


def test_database_url_precedence(isolated_home, monkeypatch):
    path = write(isolated_home / "o.conf", "[database]\nconnection = sqlite:///from-file.db\n")
    settings = load_config(path)
    assert settings.database_url == "sqlite:///from-file.db"
    assert row(settings, "database", "connection").source == path

    monkeypatch.setenv("OPTIMIZER_DATABASE_URL", "sqlite:///from-env.db")
    settings = load_config(path)
    assert settings.database_url == "sqlite:///from-env.db"
    assert row(settings, "database", "connection").source == "environment OPTIMIZER_DATABASE_URL"

    settings = load_config(path, database_url="sqlite:///from-cli.db")
    assert settings.database_url == "sqlite:///from-cli.db"
    assert row(settings, "database", "connection").source == "command line"


def test_effective_settings_masks_passwords(isolated_home):
    conf = parse_conf(database_url="postgresql+psycopg://app:s3cret@db.example/optimizer")
    rows = {(r.group, r.option): r for r in effective_settings(conf)}
    assert rows[("database", "connection")].value == "postgresql+psycopg://app:***@db.example/optimizer"
    assert "s3cret" not in repr(list(rows.values()))


def test_mask_password_leaves_urls_without_password():
    assert mask_password("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    assert mask_password("rabbit://guest:guest@127.0.0.1:5672/") == "rabbit://guest:***@127.0.0.1:5672/"


def test_missing_explicit_file_is_one_line_error(isolated_home):
    with pytest.raises(ConfigError) as info:
        load_config(str(isolated_home / "nope.conf"))
    missing = isolated_home / "nope.conf"
    assert str(info.value) == f"config file {missing} (from --config-file) does not exist"


def test_missing_file_from_env_names_the_variable(isolated_home, monkeypatch):
    monkeypatch.setenv("OPTIMIZER_CONFIG_FILE", str(isolated_home / "gone.conf"))
    with pytest.raises(ConfigError, match=r"gone.conf \(from OPTIMIZER_CONFIG_FILE\) does not"):
        load_config()


def test_unparseable_file_names_file_and_line(isolated_home):
    path = write(isolated_home / "bad.conf", "[planner]\nmax_parallel_migrations = 3\n[database\n")
    with pytest.raises(ConfigError, match=r"bad.conf cannot be read: line 3: Invalid section"):
        load_config(path)


@pytest.mark.parametrize(("text", "expected"), [
    ("[planner]\nmax_migrations_per_host = many\n",
     r"\[planner\] max_migrations_per_host: .*'many'"),
    ("[simulated]\nhosts = 0\n", r"\[simulated\] hosts: .*greater than or equal to 1"),
    ("[planner]\ndisable_before_evacuation = perhaps\n", r"\[planner\] disable_before_evacuation"),
])
def test_bad_value_names_group_option_and_file(isolated_home, text, expected):
    path = write(isolated_home / "o.conf", text)
    with pytest.raises(UserError, match=expected) as info:
        load_config(path)
    assert str(info.value).startswith(path) and "\n" not in str(info.value)


def test_bad_database_url_names_its_source(isolated_home):
    with pytest.raises(ConfigError, match="'not a url' from command line is not a database URL"):
        load_config(database_url="not a url")


def test_configurations_do_not_share_state(isolated_home):
    first = parse_conf(database_url="sqlite:///one.db")
    second = parse_conf()
    assert first.database.connection == "sqlite:///one.db"
    assert second.database.connection != "sqlite:///one.db"


def test_unknown_key_warns_with_the_known_keys_closest_first(isolated_home, caplog):
    path = write(isolated_home / "typo.conf", "[applier]\nmax_retriez = 5\n")
    with caplog.at_level("WARNING", logger="optimizer.config"):
        settings = load_config(path)
    assert settings.applier.max_retries == 2  # the typo is not read as max_retries
    [record] = caplog.records
    message = record.getMessage()
    assert path in message and "[applier]" in message and "max_retriez" in message
    known = message.split("known options of [applier]: ")[1].split(", ")
    assert known[0] == "max_retries"
    assert set(known) == {"max_retries", "retry_backoff_s", "action_timeout_s",
                          "poll_interval_s", "failure_policy", "revert_on_failure",
                          "heartbeat_timeout_s", "measure_efficacy"}


def test_unknown_section_warns_with_the_known_sections(isolated_home, caplog):
    path = write(isolated_home / "typo.conf", "[gard_rails]\nmax_migrations_per_plan = 5\n"
                                              "[DEFAULT]\ntransport_url = fake://\n")
    with caplog.at_level("WARNING", logger="optimizer.config"):
        load_config(path)
    [record] = caplog.records
    message = record.getMessage()
    assert path in message and "[gard_rails]" in message
    assert message.split("known sections: ")[1].split(", ")[0] == "guard_rails"


def test_a_file_with_known_keys_only_is_silent(isolated_home, caplog):
    path = write(isolated_home / "fine.conf", "[DEFAULT]\nhost = h1\n[applier]\nmax_retries = 1\n"
                                              "[guard_rails]\nallowed_windows = * 1-5 * * *\n")
    with caplog.at_level("WARNING", logger="optimizer.config"):
        load_config(path)
        load_config(path)
    assert caplog.records == []


def test_the_built_in_plugins_sections_are_known(isolated_home, caplog):
    path = write(isolated_home / "plugins.conf", "[prometheus]\nurl = http://p:9090\n"
                                                 "[openstack]\ncloud = c\n[replay]\n"
                                                 "datasource = prometheus\n")
    with caplog.at_level("WARNING", logger="optimizer.config"):
        assert load_config(path).replay_datasource == "prometheus"
    assert caplog.records == []
    path = write(isolated_home / "typo.conf", "[prometheus]\nurll = http://p:9090\n")
    with caplog.at_level("WARNING", logger="optimizer.config"):
        load_config(path)
    [record] = caplog.records
    assert "[prometheus] urll is not a known option" in record.getMessage()


def test_the_cli_warns_once_on_stderr(isolated_home):
    from click.testing import CliRunner

    from optimizer.cli import cli

    path = write(isolated_home / "cli.conf", "[applier]\nmax_retriez = 5\n")
    result = CliRunner().invoke(cli, ["--config-file", path, "config", "show"])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("max_retriez") == 1, result.stderr
    assert "max_retriez" not in result.stdout


def test_every_ini_example_of_the_readme_loads_as_shown(isolated_home, caplog):
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = re.findall(r"^```ini\n(.*?)^```", readme, re.S | re.M)
    assert len(blocks) >= 2
    for k, block in enumerate(blocks):
        path = write(isolated_home / f"readme-{k}.conf", block)
        with caplog.at_level("WARNING", logger="optimizer.config"):
            settings = load_config(path)
        assert caplog.records == [], block
        shown, group = {}, "DEFAULT"
        for line in block.splitlines():  # options by (section, name): names repeat
            header = re.match(r"^\[(\w+)\]$", line)
            option = re.match(r"^(\w+) = (.*)$", line)
            if header:
                group = header.group(1)
            elif option:
                shown[(group, option.group(1))] = option.group(2)
        for (group, name), text in shown.items():
            row = next(r for r in settings.rows if r.option == name
                       and r.group in (group, "DEFAULT" if group == "DEFAULT" else None))
            assert row.source == path, (name, row)
            if isinstance(row.value, list):  # a list option splits at commas
                assert len(row.value) == text.count(",") + 1, (name, row.value)
            elif isinstance(row.value, bool | int | float):
                assert str(row.value).lower() == text or float(text) == row.value, (name, row)
