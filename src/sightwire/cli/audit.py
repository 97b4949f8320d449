"""``sightwire audit verify|export|head``: check and export the audit trail.

Examples::

    sightwire audit verify site.yaml                  # exit 1 naming each problem
    sightwire audit head site.yaml >> /secure/anchors # keep the head somewhere else
    sightwire audit verify site.yaml --anchor 1234:9f2c...
    sightwire audit export site.yaml --since 7d --format csv -o audit.csv
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, TextIO

import typer

from sightwire.cli.keys import ConfigArg, Json, fail, open_database_of

if TYPE_CHECKING:
    from sightwire.security.audit import AuditEntry, AuditTrail

audit_app = typer.Typer(help="The audit trail: verify its chain, export it.", no_args_is_help=True)

CSV_FIELDS = ("seq", "at", "actor", "action", "target", "detail", "prev_hash", "hash")


def _trail(config: Path) -> AuditTrail:
    from sightwire.security.audit import AuditTrail

    return AuditTrail(open_database_of(config))


@audit_app.command("verify")
def verify(
    config: ConfigArg,
    anchor: Annotated[
        str | None,
        typer.Option(help="SEQ:HASH from an earlier `audit head`: that entry must be unchanged"),
    ] = None,
    as_json: Json = False,
) -> None:
    """Walk the hash chain; exit 1 naming each edited, deleted, moved or inserted entry."""
    trail = _trail(config)
    problems = trail.verify(_anchor(anchor) if anchor else None)
    head = trail.head()
    if as_json:
        found = [{"seq": p.seq, "kind": p.kind, "message": p.message} for p in problems]
        report = {"ok": not problems, "problems": found}
        report["head"] = None if head is None else {"seq": head[0], "hash": head[1]}
        typer.echo(json.dumps(report, indent=2))
    elif problems:
        for problem in problems:
            typer.echo(str(problem))
        typer.echo(f"audit trail: {len(problems)} problem(s)", err=True)
    else:
        seq = head[0] if head else 0
        typer.echo(f"audit trail intact: {seq} entries, head {seq}:{head[1] if head else ''}")
    if problems:
        raise typer.Exit(1)


@audit_app.command("head")
def head(config: ConfigArg) -> None:
    """Print SEQ:HASH of the last entry; store it outside the database to anchor the chain."""
    found = _trail(config).head()
    if found is None:
        raise fail(LookupError("the audit head record is missing: run `sightwire audit verify`"))
    typer.echo(f"{found[0]}:{found[1]}")


@audit_app.command("export")
def export(
    config: ConfigArg,
    since: Annotated[
        str | None, typer.Option(help="ISO 8601 time, or an age: 30m, 2h, 7d (default: all)")
    ] = None,
    format_: Annotated[
        str, typer.Option("--format", help="jsonl (one entry a line) or csv")
    ] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (default: stdout)")
    ] = None,
) -> None:
    """Every entry (since a time) with its hashes, so a copy can be verified elsewhere."""
    from sightwire.cli.events import parse_when

    if format_ not in ("jsonl", "csv"):
        raise typer.BadParameter("jsonl or csv", param_hint="--format")
    entries = _trail(config).iter_entries(since=parse_when(since, "--since"))
    with _opened(output) as out:
        count = _write(entries, out, "csv" if format_ == "csv" else "jsonl")
    if output is not None:
        typer.echo(f"exported {count} entries to {output}", err=True)


def _write(entries: Iterator[AuditEntry], out: TextIO, kind: Literal["jsonl", "csv"]) -> int:
    from sightwire.security.audit_chain import canonical_json

    count = 0
    writer = csv.DictWriter(out, CSV_FIELDS) if kind == "csv" else None
    if writer is not None:
        writer.writeheader()
    for entry in entries:
        row = entry.to_dict()
        if writer is None:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            writer.writerow({**row, "detail": canonical_json(row["detail"]), "at": repr(entry.at)})
        count += 1
    return count


@contextmanager
def _opened(output: Path | None) -> Iterator[TextIO]:
    if output is None:
        yield sys.stdout
        return
    with output.open("w", encoding="utf-8", newline="") as file:
        yield file


def _anchor(value: str) -> tuple[int, str]:
    seq, sep, digest = value.partition(":")
    if not sep or not seq.isdigit() or len(digest) != 64:
        raise typer.BadParameter("give SEQ:HASH as printed by `sightwire audit head`")
    return int(seq), digest.lower()
