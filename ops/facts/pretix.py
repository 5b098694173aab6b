"""Facts from inside pretix: Django's migrations (applied, shipped, what is new), the SMTP test's answer, mail."""
from __future__ import annotations

import json
import re

_NAME = re.compile(r"^[A-Za-z_][\w]*\.[\w]+$")


def parse_migrations(output: str) -> list[str] | None:
    """'app.name' words (one per line, or joined on one line by a probe), sorted; None when the output is an
    error (no database yet, psql failing): then nothing can be said about migrations."""
    words = output.split()
    if not words or any(not _NAME.match(w) for w in words):
        return None
    return sorted(set(words))


def new_migrations(now: list[str], baseline: list[str]) -> list[str]:
    """Migrations in now that the baseline did not have (what ran since, or what an image would run)."""
    return sorted(set(now) - set(baseline))


def parse_mail_test(output: str) -> dict:
    """The JSON line the SMTP test prints (its last line); an error entry when it printed none."""
    for line in reversed(output.strip().splitlines()):
        try:
            found = json.loads(line)
        except ValueError:
            continue
        if isinstance(found, dict):
            return found
    return {"error": f"no answer from the test: {output.strip()[-300:] or 'no output'}"}


def parse_recipients(output: str) -> set[str]:
    """The addresses of `To:` header lines (lower case), as the mail sink's spool holds them."""
    found = set()
    for line in output.splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "to":
            found.update(a.lower() for a in re.findall(r"[^\s<>,\"]+@[^\s<>,\"]+", value))
    return found


def mail_test_line(answer: dict) -> str:
    """One line: the relay, how it was reached, and its answer (or where it failed)."""
    how = ", ".join(filter(None, ["TLS" if answer.get("ssl") else "STARTTLS" if answer.get("tls") else "plain",
                                  f"as {answer['user']}" if answer.get("user") else "no login"]))
    head = f"relay {answer.get('relay', '?')} ({how}), {answer.get('from', '?')} -> {answer.get('to', '?')}"
    if "error" in answer:
        return f"{head}: {answer['error']}"
    code, text = (answer.get("answer") or [None, ""])[:2]
    return f"{head}: accepted, the relay answered {code} {text.strip()}" + (
        f" ({answer['seconds']} s)" if "seconds" in answer else "")
