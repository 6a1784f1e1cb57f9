"""Units of work on real engines: rows written together commit together or not at all."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.storage import ContactRequest, HandoffRequest, get_engine, unit_of_work
from core.storage.migrate import upgrade


def _count(url: str, model: type) -> int:
    with unit_of_work(get_engine(url)) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_rows_of_one_unit_commit_together(database_url: str) -> None:
    upgrade(database_url)
    with unit_of_work(get_engine(database_url)) as uow:
        uow.add(HandoffRequest(sender_id="s1", reason="asked"))
        uow.add(ContactRequest(sender_id="s1", email="a@b.co", topic="sales", details={}))
    assert _count(database_url, HandoffRequest) == 1
    assert _count(database_url, ContactRequest) == 1


def test_an_error_rolls_back_every_row_of_the_unit(database_url: str) -> None:
    upgrade(database_url)
    engine = get_engine(database_url)
    with unit_of_work(engine) as uow:
        uow.add(HandoffRequest(id="h1", sender_id="s1", reason="asked"))
    with pytest.raises(IntegrityError), unit_of_work(engine) as uow:
        uow.add(ContactRequest(sender_id="s2", email="c@d.co", topic="sales", details={}))
        uow.flush()
        uow.add(HandoffRequest(id="h1", sender_id="s2", reason="duplicate id"))
    assert _count(database_url, ContactRequest) == 0
    assert _count(database_url, HandoffRequest) == 1


def test_an_exception_in_the_caller_rolls_back(database_url: str) -> None:
    upgrade(database_url)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), unit_of_work(get_engine(database_url)) as uow:
        uow.add(HandoffRequest(sender_id="s1", reason="asked"))
        uow.flush()
        raise Boom
    assert _count(database_url, HandoffRequest) == 0
