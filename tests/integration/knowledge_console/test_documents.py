"""Documents in the console's API: list, preview, upload, replace, delete, re-index, try.

Real SQLite, a real chroma folder and the real embedding model; jobs run in the request's
background task (the test client waits for it), as they do in the gateway.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

from bot.routers.knowledge_admin import declined_reply
from bot.services.knowledge_jobs import KnowledgeJobs, safe_file_name
from bot.workers.knowledge import KnowledgeJobWorker
from tests.integration.knowledge_console.conftest import Console
from tests.support.staff import sign_in

RENTAL_MD = b"""# Workshops

## Latte art workshops

You can book a latte art workshop in our Utrecht showroom every Saturday morning, for
45 euros per person, coffee and milk included. Book at least 7 days ahead.
"""
RENTAL_QUESTION = "Can I book a latte art workshop?"


def _upload(console: Console, *files: tuple[str, bytes, str]) -> dict:  # type: ignore[type-arg]
    response = console.client.post(
        "/api/admin/knowledge/uploads",
        headers=console.headers(),
        files=[("files", f) for f in files],
    )
    assert response.status_code == 202, response.text
    job = console.client.get(f"/api/admin/knowledge/jobs/{response.json()['id']}").json()
    return job  # type: ignore[no-any-return]


def _ask(console: Console, question: str) -> dict:  # type: ignore[type-arg]
    response = console.client.post(
        "/api/admin/knowledge/try", headers=console.headers(), json={"question": question}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_sources_list_chunks_size_and_time(console: Console) -> None:
    body = console.client.get("/api/admin/knowledge/sources").json()
    by_name = {s["source"]: s for s in body["sources"]}
    assert {"docs/returns.md", "docs/shipping.md", "faq.csv"} <= set(by_name)
    returns = by_name["docs/returns.md"]
    assert returns["chunks"] > 1
    assert returns["size_bytes"] == (console.content / "docs/returns.md").stat().st_size
    assert returns["indexed_at"].startswith("20")
    assert body["chunks"] == sum(s["chunks"] for s in body["sources"])
    assert body["max_upload_bytes"] == 64 * 1024 and ".pdf" in body["file_types"]


def test_preview_shows_a_sources_chunks_in_order(console: Console) -> None:
    chunks = console.client.get(
        "/api/admin/knowledge/sources/chunks", params={"source": "faq.csv"}
    ).json()
    assert chunks[0]["location"] == "faq.csv#faq-1"
    assert "gift card" in chunks[0]["text"].lower()
    missing = console.client.get(
        "/api/admin/knowledge/sources/chunks", params={"source": "docs/nothing.md"}
    )
    assert missing.status_code == 404 and "docs/nothing.md" in missing.json()["error"]


def test_upload_indexes_good_files_and_names_the_bad_ones(console: Console) -> None:
    before = _ask(console, RENTAL_QUESTION)
    assert not before["answered"]
    assert before["reply"] == declined_reply()

    job = _upload(
        console,
        ("rental.md", RENTAL_MD, "text/markdown"),
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "application/pdf"),
        ("setup.exe", b"MZ\x90\x00", "application/octet-stream"),
        ("huge.txt", b"x" * (64 * 1024 + 1), "text/plain"),
        ("notes.txt", "Caf\xe9 opening: 9 to 5".encode("latin-1"), "text/plain"),
    )
    assert job["status"] == "done" and job["kind"] == "upload"
    files = {f["name"]: f for f in job["files"]}
    assert files["rental.md"]["status"] == "done" and files["rental.md"]["chunks"] >= 1
    assert files["broken.pdf"]["status"] == "failed"
    assert "cannot read PDF" in files["broken.pdf"]["error"]
    assert files["setup.exe"]["status"] == "rejected"
    assert "unsupported file type .exe" in files["setup.exe"]["error"]
    assert files["huge.txt"]["status"] == "rejected"
    assert "larger than the limit" in files["huge.txt"]["error"]
    assert files["notes.txt"]["status"] == "failed" and "UTF-8" in files["notes.txt"]["error"]
    assert job["done"] == job["total"] == 5
    assert job["error"] == "4 of 5 files were not indexed"

    assert (console.content / "uploads/rental.md").read_bytes() == RENTAL_MD
    assert not (console.content / "uploads/broken.pdf").exists()
    sources = {
        s["source"] for s in console.client.get("/api/admin/knowledge/sources").json()["sources"]
    }
    assert "uploads/rental.md" in sources and "uploads/broken.pdf" not in sources
    assert {"docs/returns.md", "docs/shipping.md", "faq.csv"} <= sources  # nothing else lost

    after = _ask(console, RENTAL_QUESTION)
    assert after["answered"], after
    assert after["reply"] == after["answer"] and "45 euros per person" in after["reply"]
    assert after["chunks"][0]["location"].startswith("uploads/rental.md")
    assert after["confidence"] >= after["threshold"]


def test_try_marks_the_threshold_on_the_chunks(console: Console) -> None:
    result = _ask(console, "How many days do I have to return an item?")
    assert result["answered"]
    assert result["threshold"] == console.kb.threshold
    ranks = [c["rank"] for c in result["chunks"]]
    assert ranks == sorted(ranks) and ranks[0] == 1
    for chunk in result["chunks"]:
        assert chunk["above_threshold"] == (chunk["confidence"] >= result["threshold"])
    assert result["chunks"][0]["above_threshold"]
    empty = console.client.post(
        "/api/admin/knowledge/try", headers=console.headers(), json={"question": "   "}
    )
    assert empty.status_code == 422


def test_replace_swaps_the_chunks_and_keeps_the_type(console: Console) -> None:
    new_text = b"# Returns\n\n## Return window\n\nYou can return any item within 60 days.\n"
    wrong = console.client.put(
        "/api/admin/knowledge/sources",
        params={"source": "docs/returns.md"},
        headers=console.headers(),
        files={"file": ("returns.txt", b"text", "text/plain")},
    )
    assert wrong.status_code == 422 and "must be a .md file" in wrong.json()["error"]
    response = console.client.put(
        "/api/admin/knowledge/sources",
        params={"source": "docs/returns.md"},
        headers=console.headers(),
        files={"file": ("returns-v2.md", new_text, "text/markdown")},
    )
    assert response.status_code == 202, response.text
    job = console.client.get(f"/api/admin/knowledge/jobs/{response.json()['id']}").json()
    assert job["status"] == "done" and job["files"][0]["chunks"] == 1
    assert (console.content / "docs/returns.md").read_bytes() == new_text
    chunks = console.client.get(
        "/api/admin/knowledge/sources/chunks", params={"source": "docs/returns.md"}
    ).json()
    assert len(chunks) == 1 and "60 days" in chunks[0]["text"]


def test_a_broken_replacement_keeps_the_old_document(console: Console) -> None:
    old = (console.content / "faq.csv").read_bytes()
    response = console.client.put(
        "/api/admin/knowledge/sources",
        params={"source": "faq.csv"},
        headers=console.headers(),
        files={"file": ("faq.csv", b"name,text\nno,questions\n", "text/csv")},
    )
    job = console.client.get(f"/api/admin/knowledge/jobs/{response.json()['id']}").json()
    assert job["files"][0]["status"] == "failed"
    assert "'question' and 'answer' columns" in job["files"][0]["error"]
    assert (console.content / "faq.csv").read_bytes() == old
    assert console.kb.store.manifest()["faq.csv"].chunk_ids


def test_delete_removes_file_and_chunks_but_not_the_catalog(console: Console) -> None:
    response = console.client.delete(
        "/api/admin/knowledge/sources",
        params={"source": "docs/shipping.md"},
        headers=console.headers(),
    )
    assert response.status_code == 202
    job = console.client.get(f"/api/admin/knowledge/jobs/{response.json()['id']}").json()
    assert job["status"] == "done" and job["files"][0]["chunks"] > 0
    assert not (console.content / "docs/shipping.md").exists()
    assert "docs/shipping.md" not in console.kb.store.manifest()
    unknown = console.client.delete(
        "/api/admin/knowledge/sources",
        params={"source": "docs/shipping.md"},
        headers=console.headers(),
    )
    assert unknown.status_code == 404


def test_reindex_reports_every_file_and_drops_vanished_ones(console: Console) -> None:
    (console.content / "docs/shipping.md").unlink()
    (console.content / "docs/care.md").write_text("# Care\n\nDescale every month.\n")
    response = console.client.post("/api/admin/knowledge/reindex", headers=console.headers())
    assert response.status_code == 202
    job = console.client.get(f"/api/admin/knowledge/jobs/{response.json()['id']}").json()
    assert job["status"] == "done", job
    files = {f["name"]: f for f in job["files"]}
    assert set(files) == {"catalog.json", "docs/returns.md", "docs/care.md", "faq.csv"}
    assert files["docs/care.md"]["status"] == "done" and files["docs/care.md"]["chunks"] == 1
    assert job["done"] == job["total"] == 4
    manifest = console.kb.store.manifest()
    assert "docs/shipping.md" not in manifest and "docs/care.md" in manifest
    assert console.client.get("/api/admin/knowledge/jobs").json()[0]["id"] == job["id"]


def test_changes_need_the_csrf_token_and_the_role(console: Console) -> None:
    refused = console.client.post("/api/admin/knowledge/reindex")
    assert refused.status_code == 403
    console.client.cookies.clear()
    sign_in(console.client, "rep@example.com")
    assert console.client.get("/api/admin/knowledge/sources").status_code == 403
    assert console.client.get("/console/knowledge").status_code == 403


def test_a_job_runs_once_whoever_claims_it(console: Console) -> None:
    jobs = KnowledgeJobs(console.engine, console.kb, console.settings.data_dir)
    view = jobs.create_reindex("sam@example.com")
    assert jobs.run(view.id) is not None
    assert jobs.run(view.id) is None  # already claimed and finished
    assert jobs.run_queued() == 0


def test_upload_names_are_plain_file_names() -> None:
    assert safe_file_name("../../etc/passwd.md") == "passwd.md"
    assert safe_file_name("C:\\Users\\me\\Price List.PDF") == "Price List.pdf"
    assert safe_file_name("ünïcode?.md") == "ünïcode.md"
    assert safe_file_name(".env.md") == "env.md"
    assert safe_file_name("notes") == "notes"
    assert safe_file_name("?.md") == "document.md"


def test_an_upload_named_readme_is_still_indexed(console: Console) -> None:
    job = _upload(
        console, ("README.md", b"# Opening\n\nThe showroom opens at nine.\n", "text/markdown")
    )
    assert job["files"][0]["source"] == "uploads/upload-README.md"
    assert job["files"][0]["status"] == "done"
    reindex = console.client.post("/api/admin/knowledge/reindex", headers=console.headers())
    assert reindex.status_code == 202
    assert "uploads/upload-README.md" in console.kb.store.manifest()


def test_upload_folder_is_inside_the_content_folder(console: Console, tmp_path: Path) -> None:
    job = _upload(
        console, ("..%2F..%2Fescape.md", b"# Escape\n\nNothing to see.\n", "text/markdown")
    )
    assert job["files"][0]["status"] == "done"
    written = [p for p in console.content.rglob("*.md") if "scape" in p.name]
    assert len(written) == 1 and written[0].parent == console.content / "uploads"
    assert not any(p.name.endswith("escape.md") for p in tmp_path.glob("*.md"))


def test_the_worker_runs_a_job_left_queued(console: Console) -> None:
    jobs = KnowledgeJobs(console.engine, console.kb, console.settings.data_dir)
    (console.content / "docs/care.md").write_text("# Care\n\nDescale every month.\n")
    view = jobs.create_reindex("sam@example.com")  # queued; no gateway task runs it
    worker = KnowledgeJobWorker(console.settings)
    worker._jobs = jobs  # the same index the test reads
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while (job := jobs.get(view.id)) is not None and job.status != "done":
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert "docs/care.md" in console.kb.store.manifest()
    assert worker.tick() == 0  # nothing left


def test_a_job_whose_process_died_is_reported_failed(console: Console) -> None:
    jobs = KnowledgeJobs(console.engine, console.kb, console.settings.data_dir)
    view = jobs.create_reindex("sam@example.com")
    assert jobs.claim(view.id)  # the process that claimed it stops here
    assert jobs.fail_stale(timedelta(hours=1)) == 0  # it may still be running
    assert jobs.fail_stale(timedelta(seconds=0)) == 1
    job = console.client.get(f"/api/admin/knowledge/jobs/{view.id}").json()
    assert job["status"] == "failed" and "start it again" in job["error"]
