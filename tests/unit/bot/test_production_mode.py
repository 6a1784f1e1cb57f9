"""Production mode without the services: the replica specs, the Rasa pool's failover, the CLI."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from bot.cli import main
from bot.rasa_client import RasaNotConnected, RasaUnavailable
from bot.rasa_pool import RasaPool, rasa_client_for
from bot.supervisor import ProcessSpec, SupervisorError, build_production_specs
from core.config import Settings
from core.messages import IncomingMessage

MESSAGE = IncomingMessage(sender_id="u1", text="hello", channel="web", metadata={})
SERVICES = {
    "tracker_store_url": "postgresql://rasa:s%40cret@db.internal:6543/trackers",
    "redis_url": "redis://:pw@cache:6380/2",
    "rabbitmq_url": "amqp://bot:bunny@mq:5673/",
}


def _specs(tmp_path: Path, **overrides: object) -> list[ProcessSpec]:
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    rasa = tmp_path / "rasa"
    rasa.write_text("")
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", **overrides)  # type: ignore[call-arg, arg-type]
    return build_production_specs(settings, model, rasa_executable=rasa, auth_token="t" * 32)


def test_replicas_get_their_own_ports_and_rasa_its_services(tmp_path: Path) -> None:
    specs = _specs(
        tmp_path,
        rasa_url="http://127.0.0.1:7005",
        action_server_url="http://127.0.0.1:7055",
        gateway_port=7100,
        rasa_replicas=3,
        action_server_replicas=2,
        gateway_replicas=2,
        **SERVICES,
    )
    names = [spec.name for spec in specs]
    assert names == [
        "action server 1", "action server 2", "rasa 1", "rasa 2", "rasa 3", "gateway 1",
        "gateway 2",
    ]  # fmt: skip
    by_name = {spec.name: spec for spec in specs}
    assert by_name["action server 2"].argv[-1] == "7056"
    rasa3 = by_name["rasa 3"]
    argv = list(rasa3.argv)
    assert argv[argv.index("--port") + 1] == "7007"
    assert argv[argv.index("--endpoints") + 1].endswith("endpoints.production.yml")
    assert rasa3.env["CONCIERGE_ACTION_ENDPOINT"] == "http://127.0.0.1:7055/webhook"  # 2 % 2
    assert by_name["rasa 2"].env["CONCIERGE_ACTION_ENDPOINT"] == "http://127.0.0.1:7056/webhook"
    assert {k: v for k, v in rasa3.env.items() if "TRACKER_DB" in k} == {
        "CONCIERGE_TRACKER_DB_HOST": "db.internal",
        "CONCIERGE_TRACKER_DB_PORT": "6543",
        "CONCIERGE_TRACKER_DB": "trackers",
        "CONCIERGE_TRACKER_DB_USER": "rasa",
        "CONCIERGE_TRACKER_DB_PASSWORD": "s@cret",
    }
    assert rasa3.env["CONCIERGE_LOCK_STORE_HOST"] == "cache"
    assert rasa3.env["CONCIERGE_LOCK_STORE_PORT"] == "6380"
    assert rasa3.env["CONCIERGE_LOCK_STORE_DB"] == "2"
    assert rasa3.env["CONCIERGE_LOCK_STORE_PASSWORD"] == "pw"
    assert rasa3.env["CONCIERGE_EVENT_BROKER_HOST"] == "mq"
    assert rasa3.env["CONCIERGE_EVENT_BROKER_PORT"] == "5673"
    assert rasa3.env["CONCIERGE_EVENT_BROKER_USER"] == "bot"
    assert rasa3.env["CONCIERGE_EVENT_BROKER_QUEUE"] == "concierge_rasa_events"
    gateway2 = by_name["gateway 2"]
    assert list(gateway2.argv)[list(gateway2.argv).index("--port") + 1] == "7101"
    assert gateway2.health_url.startswith("http://127.0.0.1:7101/api/channels/")
    assert gateway2.env["CONCIERGE_RASA_URLS"] == (
        "http://127.0.0.1:7005,http://127.0.0.1:7006,http://127.0.0.1:7007"
    )
    assert "s@cret" not in repr(rasa3) and "t" * 32 not in repr(gateway2)


def test_production_specs_name_the_missing_services(tmp_path: Path) -> None:
    with pytest.raises(SupervisorError, match="CONCIERGE_TRACKER_STORE_URL, CONCIERGE_REDIS_URL"):
        _specs(tmp_path, rabbitmq_url="amqp://guest:guest@mq:5672/")


def _pool_send(handler: httpx.MockTransport, urls: list[str], turns: int) -> list[str]:
    async def go() -> list[str]:
        async with httpx.AsyncClient(transport=handler) as http:
            pool = rasa_client_for(http, "http://unused:1", urls, 1.0, None)
            assert isinstance(pool, RasaPool)
            answers = []
            for _ in range(turns):
                [reply] = await pool.send(MESSAGE)
                answers.append(str(reply["text"]))
            return answers

    return asyncio.run(go())


def test_pool_balances_and_skips_a_replica_that_refuses_connections() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "down":
            raise httpx.ConnectError("Connection refused", request=request)
        return httpx.Response(200, json=[{"text": request.url.host}])

    assert _pool_send(httpx.MockTransport(handler), ["http://a:1", "http://b:1"], 4) == [
        "a", "b", "a", "b",
    ]  # fmt: skip
    answers = _pool_send(httpx.MockTransport(handler), ["http://a:1", "http://down:1"], 4)
    assert answers == ["a", "a", "a", "a"]


def test_pool_does_not_repeat_a_turn_a_replica_may_have_run() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        raise httpx.ReadError("connection reset", request=request)

    with pytest.raises(RasaUnavailable) as raised:
        _pool_send(httpx.MockTransport(handler), ["http://a:1", "http://b:1"], 1)
    assert not isinstance(raised.value, RasaNotConnected)
    assert seen == ["a"]


def test_pool_fails_when_every_replica_is_down() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    with pytest.raises(RasaNotConnected):
        _pool_send(httpx.MockTransport(handler), ["http://a:1", "http://b:1"], 1)


def test_one_url_is_a_plain_client() -> None:
    async def go() -> str:
        async with httpx.AsyncClient() as http:
            client = rasa_client_for(http, "http://rasa:5005", [], 1.0, None)
            assert not isinstance(client, RasaPool)
            return client.base_url

    assert asyncio.run(go()) == "http://rasa:5005"


def test_run_production_names_every_missing_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("CONCIERGE_DATA_DIR", str(tmp_path / "data"))
    for name in ("DATABASE_URL", "REDIS_URL", "RABBITMQ_URL", "TRACKER_STORE_URL"):
        monkeypatch.delenv(f"CONCIERGE_{name}", raising=False)
    monkeypatch.delenv("CHROMA_HOST", raising=False)
    monkeypatch.setenv("CONCIERGE_REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens
    assert main(["run", "--production", "--no-ingest"]) == 1
    captured = capsys.readouterr()
    assert "FAILED PostgreSQL: CONCIERGE_DATABASE_URL is not set" in captured.out
    assert "FAILED Redis at redis://127.0.0.1:1/0 is not reachable: connection refused" in (
        captured.out
    )
    assert "FAILED PostgreSQL (Rasa's trackers): CONCIERGE_TRACKER_STORE_URL is not set" in (
        captured.out
    )
    assert "Traceback" not in captured.out + captured.err
    assert "nothing started" in captured.err


def test_a_replica_that_exits_is_started_again_until_the_limit(tmp_path: Path) -> None:
    import sys

    from bot.supervisor import Supervisor

    counter = tmp_path / "starts"
    script = f"open({str(counter)!r}, 'a').write('x')"
    spec = ProcessSpec(name="short", argv=[sys.executable, "-c", script], health_url="http://x")
    supervisor = Supervisor([spec], tmp_path / "logs")
    supervisor.start()
    try:
        import time

        restarted: list[str] = []
        for _ in range(3):
            time.sleep(1.0)  # it has exited
            restarted += supervisor.restart_exited(max_restarts=3)
        assert restarted == ["short"] * 3
        time.sleep(1.0)
        with pytest.raises(SupervisorError, match="the short exited with code 0"):
            supervisor.restart_exited(max_restarts=3)
        assert counter.read_text() == "xxxx"
    finally:
        supervisor.stop()


def test_a_virtual_host_reaches_rasas_broker_inside_its_host_value(tmp_path: Path) -> None:
    services = {**SERVICES, "rabbitmq_url": "amqp://bot:bunny@mq:5673/concierge%2Fprod"}
    rasa = next(spec for spec in _specs(tmp_path, **services) if spec.name == "rasa")
    assert rasa.env["CONCIERGE_EVENT_BROKER_HOST"] == "amqp://mq:5673/concierge%2Fprod"
    assert rasa.env["CONCIERGE_EVENT_BROKER_PASSWORD"] == "bunny"
