"""The console's signed session cookie: what it accepts and what it refuses."""
from __future__ import annotations

from optimizer.ui.session import Session, decode, encode, new_session, signing_key

KEY = signing_key("admin-secret", "reader-secret")


def test_a_session_comes_back_as_it_was_signed():
    session = new_session("admin-secret", now=1000.0)
    assert decode(encode(session, KEY), KEY, now=1001.0) == session


def test_an_expired_session_is_none():
    session = Session("admin-secret", expires=1000.0)
    assert decode(encode(session, KEY), KEY, now=1000.0) is None


def test_a_forged_or_mangled_cookie_is_none():
    value = encode(Session("reader-secret", 5000.0), KEY)
    body, mac = value.split(".")
    forged = encode(Session("admin-secret", 5000.0), KEY).split(".")[0]
    assert decode(f"{forged}.{mac}", KEY, now=0) is None     # another body, the old mac
    assert decode(f"{body}.{'0' * len(mac)}", KEY, now=0) is None
    assert decode(value, signing_key("other"), now=0) is None  # tokens rotated
    for junk in ("", "nodot", "a.b.c", "!!!.00"):
        assert decode(junk, KEY, now=0) is None


def test_the_key_is_the_same_for_the_same_tokens_in_any_order():
    assert signing_key("a", "b") == signing_key("b", "a") != signing_key("a")


def test_the_csrf_value_is_bound_to_the_session():
    one, two = Session("t", 10.0), Session("t", 11.0)
    assert one.csrf(KEY) == Session("t", 10.0).csrf(KEY) != two.csrf(KEY)
