"""The collector pause: off inside, back on after, nested pauses end with the last one."""
import gc

import pytest

from optimizer.gc_pause import gc_paused


@pytest.fixture(autouse=True)
def collector_on():
    gc.enable()
    yield
    gc.enable()


def test_the_collector_is_off_inside_and_on_after_even_on_an_error():
    with pytest.raises(RuntimeError), gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("audit failed")
    assert gc.isenabled()


def test_nested_pauses_resume_with_the_outermost():
    with gc_paused():
        with gc_paused():
            pass
        assert not gc.isenabled(), "the outer pause still holds"
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off():
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()
