"""Schema revisions: upgrade, survival across restarts, refusal of unknown revisions."""
import pytest
from sqlalchemy import text

from optimizer.db import (
    RevisionState,
    check_revision,
    create_audit,
    current_revision,
    get_audit,
    head_revision,
    make_engine,
    open_database,
    revision_status,
    upgrade,
)
from optimizer.db.errors import DatabaseError


def test_empty_database_has_no_revision(new_url):
    url = new_url()
    assert current_revision(url) is None
    assert check_revision(url).state is RevisionState.EMPTY


def test_upgrade_brings_database_to_head(new_url):
    url = new_url()
    status = upgrade(url)
    assert status.state is RevisionState.CURRENT
    assert current_revision(url) == head_revision() == status.current
    assert upgrade(url).state is RevisionState.CURRENT, "upgrading twice changes nothing"


def test_the_head_known_without_alembic_is_alembics_head():
    from optimizer.db.migrate import HEAD_REVISION

    assert head_revision() == HEAD_REVISION, (
        "a new migration script: set optimizer.db.migrate.HEAD_REVISION to its revision")


def test_an_older_revision_is_seen_behind(new_url):
    url = new_url()
    upgrade(url, "0002")
    status = check_revision(url)
    assert (status.state, status.current) == (RevisionState.BEHIND, "0002")


def test_open_database_creates_tables_on_first_use(new_url):
    url = new_url()
    database = open_database(url)
    database.close()
    assert current_revision(url) == head_revision()


def test_data_survives_a_new_engine(new_url):
    url = new_url()
    first = open_database(url)
    with first.session() as session:
        audit = create_audit(session, goal="dummy", name="kept", parameters={"x": 1})
        uuid, created = audit.uuid, audit.created_at
    first.close()

    second = open_database(url)
    with second.session() as session:
        again = get_audit(session, uuid)
        assert (again.name, again.parameters, again.state) == ("kept", {"x": 1}, "PENDING")
        assert again.created_at == created and again.created_at.tzinfo is not None
    second.close()


def _stamp(url: str, revision: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def test_newer_revision_is_refused_with_its_name(new_url):
    url = new_url()
    upgrade(url)
    _stamp(url, "9999_from_the_future")
    expected = "database at revision 9999_from_the_future, which this version does not know"
    with pytest.raises(DatabaseError, match=expected):
        check_revision(url)
    with pytest.raises(DatabaseError, match=expected):
        open_database(url)
    with pytest.raises(DatabaseError, match=expected):
        upgrade(url)
    assert current_revision(url) == "9999_from_the_future", "a refused database is not touched"


def test_tables_without_revision_are_refused(new_url):
    url = new_url()
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    engine.dispose()
    assert revision_status(url).state is RevisionState.UNVERSIONED
    with pytest.raises(DatabaseError, match="optimizer tables but no schema revision"):
        open_database(url)


def test_unreachable_server_is_one_clear_line():
    url = "postgresql+psycopg://someone:secret@127.0.0.1:1/nowhere"
    with pytest.raises(DatabaseError) as info:
        open_database(url)
    message = str(info.value)
    assert message.startswith("cannot use database postgresql+psycopg://someone:***@127.0.0.1:1")
    assert "secret" not in message and "\n" not in message


@pytest.mark.parametrize("url", ["not a url", "nosuchdriver://x/y"])
def test_bad_url_is_a_database_error(url):
    with pytest.raises(DatabaseError, match="database URL"):
        open_database(url)


def test_sqlite_folder_is_created(tmp_path):
    path = tmp_path / "deep" / "er" / "optimizer.db"
    open_database(f"sqlite:///{path}").close()
    assert path.is_file()
