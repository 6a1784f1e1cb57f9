"""``concierge kb ...``: ingest, inspect and query the knowledge base from a terminal.

``bot/cli.py`` calls ``register(subparsers)``; ``python -m knowledge.cli kb ...`` runs the same
commands on their own. Machine-readable output (``--json``) goes to stdout, logs and progress
bars to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from core.config import KnowledgeSettings
from knowledge.types import Answer

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``kb`` command and its subcommands to an application's parser."""
    kb = subparsers.add_parser(
        "kb",
        help="manage and query the knowledge base",
        description="Index the company's documents (only what changed), inspect the index, "
        "remove sources and ask questions. --json output goes to stdout, logs to stderr.",
    )
    commands = kb.add_subparsers(dest="kb_command", required=True, metavar="SUBCOMMAND")

    ingest = commands.add_parser("ingest", help="index files (only what changed)")
    ingest.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="files or folders (default: the content folder)")  # fmt: skip
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")
    ingest.set_defaults(settings_scope="knowledge", handler=_cmd_ingest)

    stats = commands.add_parser("stats", help="show what the index holds")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.set_defaults(settings_scope="knowledge", handler=_cmd_stats)

    remove = commands.add_parser("remove", help="remove a source (file or folder) from the index")
    remove.add_argument("source", help="source as listed by `kb stats`, or a file path")
    remove.set_defaults(settings_scope="knowledge", handler=_cmd_remove)

    query = commands.add_parser("query", help="ask a question (or a file of questions)")
    query.add_argument("question", nargs="?", help="the question")
    query.add_argument("--batch", type=Path, metavar="FILE", help="one question per line")
    query.add_argument("--json", action="store_true", help="print JSON (one object per line)")
    query.add_argument("--k", type=int, default=5, help="chunks to show (default 5)")
    query.add_argument("--product", metavar="ID", help="scope the question to a product id")
    query.set_defaults(settings_scope="knowledge", handler=_cmd_query)

    evaluate = commands.add_parser(
        "eval", help="replay the regression cases; non-zero exit when one fails"
    )
    evaluate.add_argument(
        "--cases", type=Path, metavar="FILE", help="default: eval_cases.yml in the content folder"
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object per case")
    evaluate.set_defaults(settings_scope="knowledge", handler=_cmd_eval)


def _knowledge_base(settings: KnowledgeSettings) -> Any:
    from knowledge.service import get_knowledge_base

    return get_knowledge_base(settings)


def _cmd_ingest(args: argparse.Namespace, settings: KnowledgeSettings) -> int:
    """Index the content folder or the given paths; list skipped files."""
    paths: list[Path] = list(args.paths or [])
    missing = [p for p in paths or [settings.content_dir] if not p.exists()]
    if missing:
        for path in missing:
            print(f"error: no such file or folder: {path}", file=sys.stderr)
        return EXIT_USAGE
    report = _knowledge_base(settings).ingest(paths or None)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
        return EXIT_OK
    print(
        f"Indexed {report.files} files in {report.seconds:.1f} s: "
        f"{report.chunks_added} chunks added, {report.chunks_updated} updated, "
        f"{report.chunks_removed} removed ({report.files_unchanged} files unchanged, "
        f"{report.chunks_embedded} chunks embedded)."
    )
    if report.files_skipped:
        print(f"Skipped {len(report.files_skipped)} files:")
        for path, reason in report.files_skipped:
            print(f"  {path}: {reason}")
    return EXIT_OK


def _cmd_stats(args: argparse.Namespace, settings: KnowledgeSettings) -> int:
    """Show documents, chunks per source and when they were indexed."""
    stats = _knowledge_base(settings).stats()
    if args.json:
        print(json.dumps(stats.to_dict(), ensure_ascii=False))
        return EXIT_OK
    print(f"Collection {stats.collection}: {stats.documents} documents, {stats.chunks} chunks")
    print(f"Last indexed: {stats.last_indexed or 'never'}")
    for source in stats.sources:
        print(f"  {source.chunks:5d}  {source.source}  ({source.indexed_at})")
    return EXIT_OK


def _cmd_remove(args: argparse.Namespace, settings: KnowledgeSettings) -> int:
    """Remove a source from the index."""
    removed = _knowledge_base(settings).remove(args.source)
    if not removed:
        print(f"Nothing indexed under {args.source!r}.", file=sys.stderr)
        return EXIT_ERROR
    print(f"Removed {removed} chunks of {args.source}.")
    return EXIT_OK


def _cmd_query(args: argparse.Namespace, settings: KnowledgeSettings) -> int:
    """Answer one question, or every line of ``--batch FILE`` with the model loaded once."""
    if (args.question is None) == (args.batch is None):
        print("error: give a question or --batch FILE (not both)", file=sys.stderr)
        return EXIT_USAGE
    if args.k < 1:
        print("error: --k must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    kb = _knowledge_base(settings)
    if args.batch is None:
        answer = _ask(kb, args.question, args.k, args.product)
        _print_answer(answer, args.json, sys.stdout)
        return EXIT_OK
    try:
        lines = args.batch.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        print(f"error: cannot read {args.batch}: {error}", file=sys.stderr)
        return EXIT_USAGE
    for line in lines:
        if line.strip():
            answer = _ask(kb, line.strip(), args.k, args.product)
            _print_answer(answer, args.json, sys.stdout, with_question=True)
            sys.stdout.flush()
    return EXIT_OK


def _ask(kb: Any, question: str, k: int, product: str | None) -> Answer:
    """Answer with the top ``k`` chunks attached for display."""
    answer: Answer = kb.ask(question, product_id=product, k=k)
    if len(answer.chunks) > k:
        answer = Answer(
            answer.question,
            answer.text,
            answer.confidence,
            answer.sources,
            answer.chunks[:k],
            answer.generated,
        )
    return answer


def _print_answer(
    answer: Answer, as_json: bool, out: TextIO, *, with_question: bool = False
) -> None:
    if as_json:
        payload = answer.to_dict()
        if with_question:
            payload = {"question": answer.question, **payload}
        print(json.dumps(payload, ensure_ascii=False), file=out)
        return
    if with_question:
        print(f"Q: {answer.question}", file=out)
    print(f"Answer: {answer.text if answer.answered else '(declined: not confident enough)'}",
          file=out)  # fmt: skip
    print(f"Confidence: {answer.confidence:.3f}", file=out)
    for source in answer.sources:
        print(f"Source: {source.title} <{source.location}>", file=out)
    print("Top chunks:", file=out)
    for rank, chunk in enumerate(answer.chunks, start=1):
        snippet = " ".join(chunk.text.split())[:160]
        print(f"  {rank}. [{chunk.score:.3f} | conf {chunk.confidence:.3f}] {chunk.location}",
              file=out)  # fmt: skip
        print(f"     {snippet}", file=out)
    print(file=out)


def _cmd_eval(args: argparse.Namespace, settings: KnowledgeSettings) -> int:
    """Ask every regression case like the bot and report the ones whose answer moved."""
    from knowledge.eval import EvalCasesError, cases_path, load_cases, run_cases

    path: Path = args.cases or cases_path(settings.content_dir)
    if args.cases is not None and not path.exists():
        print(f"error: no such file: {path}", file=sys.stderr)
        return EXIT_USAGE
    try:
        cases = load_cases(path)
    except EvalCasesError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if not cases:
        print(f"No regression cases in {path}.")
        return EXIT_OK
    results = run_cases(_knowledge_base(settings), cases)
    failed = [r for r in results if not r.passed]
    for result in results:
        if args.json:
            print(json.dumps(result.to_dict(), ensure_ascii=False))
            continue
        mark = "ok  " if result.passed else "FAIL"
        where = f"rank {result.rank}" if result.rank else "not retrieved"
        state = "answered" if result.answered else "declined"
        print(f"{mark} {result.question!r} -> {result.expect} ({where}, {state}, "
              f"confidence {result.confidence:.3f})")  # fmt: skip
    if not args.json:
        print(f"{len(results) - len(failed)} of {len(results)} cases pass.")
    return EXIT_ERROR if failed else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``kb`` commands without the application CLI: ``python -m knowledge.cli kb stats``."""
    from pydantic import ValidationError

    from core.config import get_settings
    from core.logging import configure_logging

    parser = argparse.ArgumentParser(prog="python -m knowledge.cli")
    parser.add_argument("--log-level", default="WARNING", help="logging level (default WARNING)")
    register(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    try:
        settings = get_settings().knowledge
    except ValidationError as error:
        print(f"error: invalid configuration:\n{error}", file=sys.stderr)
        return EXIT_USAGE
    code: int = args.handler(args, settings)
    return code


if __name__ == "__main__":
    sys.exit(main())
