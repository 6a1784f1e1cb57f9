"""Units of work: several rows written in one transaction, or none of them.

``with unit_of_work(engine) as uow: uow.add(lead); uow.add(outbox_entry)`` commits both on
success and rolls both back on any error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker


@lru_cache(maxsize=8)
def _session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


class UnitOfWork:
    """One transaction over the application tables; ``session`` is SQLAlchemy's."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, *rows: object) -> None:
        """Stage new rows."""
        self.session.add_all(rows)

    def merge(self, row: object) -> None:
        """Stage a row by primary key (insert or update)."""
        self.session.merge(row)

    def flush(self) -> None:
        """Send staged rows to the database without committing (to read generated ids)."""
        self.session.flush()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on error."""
    with _session_factory(engine)() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[UnitOfWork]:
    """Yield a :class:`UnitOfWork`; everything it staged commits together or not at all."""
    with session_scope(engine) as session:
        yield UnitOfWork(session)
