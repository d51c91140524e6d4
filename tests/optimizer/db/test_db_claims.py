"""Claiming work by a state change: of several racing claimants exactly one wins."""
from __future__ import annotations

import threading

from optimizer.db import create_audit, get_audit, set_audit_state
from optimizer.db.engine import open_database
from optimizer.db.errors import ConcurrentUpdate
from optimizer.states import IllegalTransition


def race(url: str, uuid: str, claimants: int = 3) -> int:
    """How many claimants moved the audit PENDING → ONGOING."""
    databases = [open_database(url) for _ in range(claimants)]
    barrier = threading.Barrier(claimants)
    wins = []

    def claim(database):
        barrier.wait()
        try:
            with database.session() as session:
                # the row read here is not kept: a later read in the same session
                # sees the winner's ONGOING, which must not count as a claim
                if get_audit(session, uuid).state != "PENDING":
                    return
                set_audit_state(session, uuid, "ONGOING", expect="PENDING")
            wins.append(1)
        except (ConcurrentUpdate, IllegalTransition):
            pass

    threads = [threading.Thread(target=claim, args=(d,)) for d in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for database in databases:
        database.close()
    return len(wins)


def test_exactly_one_claimant_wins(db):
    url = db.engine.url.render_as_string(hide_password=False)
    for _ in range(25):
        with db.session() as session:
            uuid = create_audit(session, goal="dummy").uuid
        assert race(url, uuid) == 1


def test_an_unexpected_state_is_refused(db):
    with db.session() as session:
        uuid = create_audit(session, goal="dummy").uuid
        set_audit_state(session, uuid, "ONGOING")
    with db.session() as session:
        try:
            set_audit_state(session, uuid, "ONGOING", expect="PENDING")
        except ConcurrentUpdate as exc:
            assert "is ONGOING now, no longer PENDING" in str(exc)
        else:
            raise AssertionError("a claim of an ONGOING audit succeeded")
