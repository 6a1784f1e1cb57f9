"""The load benchmark: its conversation scripts, reply check, CPU reading and report.

The last test runs ``benchmarks/load.py`` for real (4 users, 20 s, the embedded stack) when
locust is installed (``make bench-load``); CI's ``make test`` does not install it.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from benchmarks import load, locustfile
from benchmarks.locustfile import KINDS, SCRIPTS, WEIGHTS, Step, button_payload, reply_problem
from bot.messages import FALLBACK_TEXT
from core.config import PROJECT_ROOT
from tests.support.postgres import temporary_database

EMAIL = re.compile(r"^[a-z0-9.]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")


def reply(*texts: str, **extra: object) -> dict[str, object]:
    messages: list[dict[str, object]] = [
        {"text": t, "buttons": [], "sources": [], "custom": None} for t in texts
    ]
    return {"conversation_id": "c1", "token": "t1", "messages": messages, **extra}


@pytest.mark.parametrize("kind", sorted(SCRIPTS))
def test_every_script_is_a_conversation_the_gateway_can_take(kind: str) -> None:
    for seed in range(20):
        steps = SCRIPTS[kind](random.Random(seed))
        assert 3 <= len(steps) <= 19, "a conversation stays under the per-conversation burst (20)"
        assert steps[0].say, "a conversation starts with typed text, not a button"
        for step in steps:
            assert step.kind in KINDS
            assert (step.say is None) != (step.press is None), step
            assert step.expect is None or step.expect == step.expect.lower(), step
        for previous, step in itertools.pairwise(steps):
            if step.press is not None:
                assert previous.expect, "a button is pressed only after a checked reply"


def test_the_lead_script_gives_each_visitor_an_address_of_their_own() -> None:
    rng = random.Random(7)
    emails = set()
    for _ in range(50):
        (email,) = [s.say for s in SCRIPTS["lead"](rng) if s.say and "@" in s.say]
        assert EMAIL.match(email), email
        emails.add(email)
    assert len(emails) == 50
    kinds = [s.kind for s in SCRIPTS["lead"](rng)]
    assert {"recommend", "quote", "lead"} <= set(kinds)


def test_visitors_arrive_in_the_weighted_mix() -> None:
    rng = random.Random(3)
    drawn: dict[str, int] = {}
    for _ in range(2000):
        steps = locustfile.pick_script(rng)
        kinds = {s.kind for s in steps}
        kind = next((k for k in ("lead", "quote", "recommend") if k in kinds), "faq")
        drawn[kind] = drawn.get(kind, 0) + 1
    total = sum(WEIGHTS.values())
    for kind, weight in WEIGHTS.items():
        assert abs(drawn[kind] / 2000 - weight / total) < 0.04, drawn


def test_only_a_real_answer_counts_as_a_success() -> None:
    assert reply_problem(200, reply("Our return window is 30 days."), None) is None
    assert reply_problem(200, reply("What is your budget?"), "budget") is None
    assert (
        reply_problem(503, reply("x", error="the assistant is unavailable"), None) == "status 503"
    )
    assert reply_problem(429, {"detail": "slow down"}, None) == "status 429"
    assert reply_problem(200, reply("   "), None) == "empty reply"
    assert reply_problem(200, {"messages": "no"}, None) == "no messages in the reply"
    assert reply_problem(200, None, None) == "no messages in the reply"
    assert reply_problem(200, reply("hi", error="x"), None) == "error: x"
    assert reply_problem(200, reply(FALLBACK_TEXT), None) == "the unavailable fallback"
    assert reply_problem(200, reply("Which company?"), "role") == "reply without 'role'"


def test_the_fallback_check_matches_the_gateways_fallback_sentence() -> None:
    assert FALLBACK_TEXT.startswith(locustfile.FALLBACK_START)


def test_a_button_is_pressed_by_its_payload() -> None:
    body = reply("pick one")
    body["messages"][0]["buttons"] = [  # type: ignore[index]
        {"title": "No must-haves", "payload": '/inform{"features": []}'},
        {"title": "Quiet", "payload": "/inform_quiet"},
    ]
    assert button_payload(body, "No must-haves") == '/inform{"features": []}'
    assert button_payload(body, "Loud") is None
    assert button_payload(None, "Quiet") is None
    assert isinstance(Step("faq", say="x"), Step)


def synthetic_run() -> load.Run:
    run = load.Run()
    faq = [("faq", float(ms), True) for ms in range(1, 101)]  # 1..100 ms
    lead = [("lead", 500.0, True), ("lead", 900.0, False), ("lead", 700.0, True)]
    run.add([*faq, *lead], seconds=10.0)
    run.add_cpu({"rasa": 6.0, "bot.serve": 1.5})
    run.add_cpu({"rasa": 2.0, "locust (load generator)": 0.5})
    run.problems.update({"lead: reply without 'when'": 1})
    return run


def test_the_report_is_a_markdown_table_per_mode_and_kind() -> None:
    text = load.report({"embedded": synthetic_run(), "production": synthetic_run()})
    lines = text.splitlines()
    assert lines[0].startswith("| mode | kind of turn | requests | failures (error rate) |")
    assert "| embedded | faq | 100 | 0 (0.0%) | 10.00 | 50 | 95 | 99 |" in lines
    assert "| embedded | lead | 3 | 1 (33.3%) | 0.20 | 700 | 900 | 900 |" in lines
    assert "| production | **all** | 103 | 1 (1.0%) | 10.20 | 52 | 98 | 700 |" in lines
    # kinds in a fixed order: faq before lead
    assert lines.index("| embedded | faq | 100 | 0 (0.0%) | 10.00 | 50 | 95 | 99 |") < lines.index(
        "| embedded | lead | 3 | 1 (33.3%) | 0.20 | 700 | 900 | 900 |"
    )
    assert "| embedded | rasa | 8.0 | 78.4 |" in lines  # 8 s over 102 successful turns
    assert "| production | **all** | 10.0 | 98.0 |" in lines
    assert "- embedded, lead: reply without 'when': 1" in lines


def test_an_empty_run_reports_without_dividing_by_zero() -> None:
    text = load.report({"embedded": load.Run()})
    assert "| embedded | **all** | 0 | 0 (-) | 0.00 | nan | nan | nan |" in text


def test_samples_written_by_the_locustfile_are_read_back(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(
        '{"seconds": 20.5, "samples": [["faq", 120.5, true, ""], ["lead", 80, false, "status 503"],'
        ' ["lead", 90, false, "status 503"]]}'
    )
    samples, seconds, problems = load.read_samples(path)
    assert samples == [("faq", 120.5, True), ("lead", 80.0, False), ("lead", 90.0, False)]
    assert seconds == 20.5 and problems == {"lead: status 503": 2}
    path.write_text('{"samples": []}')
    with pytest.raises(load.LoadError, match="no readable samples"):
        load.read_samples(path)
    with pytest.raises(load.LoadError):
        load.read_samples(tmp_path / "missing.json")


def test_process_names_come_from_command_lines() -> None:
    assert load.process_name(["/x/python", "-m", "bot.serve", "--port", "1"]) == "bot.serve"
    assert load.process_name(["/x/python", "-m", "bot.cli", "worker"]) == "concierge worker"
    assert load.process_name(["/r/python3.11", "/r/bin/rasa", "run", "--enable-api"]) == "rasa"
    assert load.process_name(["/a/python3.11", "/a/bin/chroma", "run", "--port", "1"]) == "chroma"
    assert load.process_name([]) == "?"


BUSY = """
import subprocess, sys, time
inner = "import time\\nt = time.process_time()\\nwhile time.process_time() - t < 0.6: pass\\n"
inner += "print('burnt', flush=True)\\nimport sys\\nsys.stdin.read()"
child = subprocess.Popen(
    [sys.executable, "-c", inner], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
)
t = time.process_time()
while time.process_time() - t < 0.4: pass
child.stdout.readline()
print("ready", flush=True)
sys.stdin.read()
"""
"""Burns 0.4 s of CPU itself and 0.6 s in a child, says "ready", waits for its stdin to close
(the child waits for its own: both end when the test closes the pipe)."""


def test_the_cpu_of_the_machines_postgresql_is_read_apart_from_the_stack() -> None:
    with temporary_database() as url:
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))  # the backend exists before the reading
                before = load.service_cpu(os.getpid())
                connection.execute(text("SELECT count(*) FROM generate_series(1, 3000000)"))
                after = load.service_cpu(os.getpid())
        finally:
            engine.dispose()
    used = load.cpu_delta(before, after)
    assert used["PostgreSQL (service)"] >= 0.1, used  # the query ran in the server, not here
    assert not any(name in load.cpu_by_process(os.getpid()) for name in used), used


def test_cpu_seconds_of_a_child_process_and_its_children_are_counted() -> None:
    before = load.cpu_by_process(os.getpid())
    process = subprocess.Popen(
        [sys.executable, "-c", BUSY], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        after = load.cpu_by_process(os.getpid())
        used = load.cpu_delta(before, after)
        name = next(n for n in used if n.startswith("python"))
        assert 0.95 <= used[name] <= 3.0, used  # its own 0.4 s and its child's 0.6 s
        excluded = load.cpu_by_process(os.getpid(), exclude=frozenset({process.pid}))
        assert len(excluded) == len(after) - 1, (after, excluded)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=30)


def test_unknown_modes_and_missing_locust_are_told_clearly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit):
        load.main(["--modes", "embedded,staging"])
    assert "unknown mode(s) staging" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        load.main(["--locust", str(tmp_path / "locust")])
    assert "make bench-load" in capsys.readouterr().err


LOCUST = load.find_locust()


@pytest.mark.slow
@pytest.mark.skipif(LOCUST is None, reason="locust is not installed (`make bench-load` does it)")
def test_the_load_script_runs_against_the_embedded_stack(
    capsys: pytest.CaptureFixture[str],
) -> None:
    model = Path(os.environ.get("CONCIERGE_MODEL", PROJECT_ROOT / ".data/models/concierge.tar.gz"))
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` (make test does it)")
    code = load.main(
        ["--model", str(model), "--users", "4", "--spawn-rate", "4", "--seconds", "20",
         "--think", "0.2,0.5"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    turns_table, _, cpu_table = out.partition("CPU seconds")

    def rows(table: str) -> dict[str, list[str]]:
        return {
            cells[1]: cells
            for line in table.splitlines()
            if line.startswith("| embedded |")
            for cells in [[c.strip() for c in line.strip("|").split("|")]]
        }

    turns, cpu = rows(turns_table), rows(cpu_table)
    total = turns["**all**"]
    requests, failures = int(total[2]), int(total[3].split()[0])
    assert requests >= 20, out
    assert failures <= requests // 10, out  # a stack that answers: at most 10% failed turns
    assert {"faq", "other"} <= set(turns), out
    assert float(cpu["rasa"][2]) > 0 and float(cpu["bot.serve"][2]) > 0, out
    assert {"actions.server", "concierge worker", "locust (load generator)"} <= set(cpu), out


def test_production_variables_are_kept_from_the_embedded_stack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONCIERGE_REDIS_URL", "redis://127.0.0.1:6391/0")
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CONCIERGE_SUPPORT_EMAIL", "help@example.org")
    with load.production_env_apart() as services:
        assert services == {
            "CONCIERGE_REDIS_URL": "redis://127.0.0.1:6391/0",
            "CHROMA_HOST": "127.0.0.1",
        }
        assert "CONCIERGE_REDIS_URL" not in os.environ and "CHROMA_HOST" not in os.environ
        assert os.environ["CONCIERGE_SUPPORT_EMAIL"] == "help@example.org"
    assert os.environ["CONCIERGE_REDIS_URL"] == "redis://127.0.0.1:6391/0"


def test_production_mode_names_the_services_it_lacks(tmp_path: Path) -> None:
    services = {"CONCIERGE_REDIS_URL": "redis://127.0.0.1:6391/0"}
    with (
        pytest.raises(load.LoadError, match="CONCIERGE_DATABASE_URL, CONCIERGE_TRACKER_STORE_URL"),
        load.production(tmp_path / "model.tar.gz", tmp_path, 2, services),
    ):
        pass
    assert not (tmp_path / "production").exists(), "nothing started"
