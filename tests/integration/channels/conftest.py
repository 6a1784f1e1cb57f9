"""Fixtures of the connectors' integration tests: the gateway's app, settings and stand-in Rasa."""

from tests.integration.bot.conftest import (  # noqa: F401 (fixtures)
    closed_url,
    content_dir,
    fake_rasa,
    make_client,
    make_settings,
)
