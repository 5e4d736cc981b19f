import pytest

from .fakes import FakeClock, FakePoGo, make_client


@pytest.fixture
def fake() -> FakePoGo:
    return FakePoGo()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def pogo(fake, clock, sleeps):
    """A client wired to the fake PoGo; sleeping only records the delay."""
    return make_client(fake, clock=clock, sleeps=sleeps)
