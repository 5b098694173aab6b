"""Backups on the deployed lab stack: a set taken, listed and checked by pgBackRest, restored and verified; a
point-in-time restore to just before a mistaken deletion brings the event and its orders back; a ticket PDF
rendered by a worker downloads through every web replica (shared media)."""
import datetime as dt
import re

import pytest

from ops.shop.api import Api, order
from ops.shop.seed import load_seed
from tests.labs import STACK_LAB, lab_spec, inv
from tests.underload import SEED, state_dir

pytestmark = pytest.mark.integration


def sinv(*args, **kw):
    return inv(*args, lab=STACK_LAB, **kw)


def test_backup_list_check_and_restore_a_set(seeded):
    out = sinv("backup", timeout=900).stdout
    taken = re.search(r"backup set (\S+): pgBackRest \w+ backup (\S+) of database", out)
    assert taken, out
    listed = sinv("backup.list", timeout=300).stdout
    assert taken.group(1) in listed and taken.group(2) in listed, listed
    assert "backup.check: ok" in sinv("backup.check", timeout=600).stdout
    restored = sinv("restore", "--set", taken.group(1), timeout=1500).stdout
    assert "verification (exactly as recorded): ok" in restored, restored
    assert re.search(r"restore --set \S+ +ok", sinv("history", "--limit", "3").stdout)


def test_point_in_time_restore_brings_a_deleted_event_back(seeded):
    out = sinv("backup.drill", timeout=1800).stdout
    bought = re.search(r"drill: order (\w+) bought before (\S+): back;", out)
    assert bought and "verification (every recorded order and event present): ok" in out, out
    # the runbook's own command, to a time after that order: it must still be there
    at = (dt.datetime.fromisoformat(bought.group(2)) + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    again = sinv("restore", "--time", at, timeout=1500).stdout
    assert "verification (every recorded order and event present): ok" in again, again
    seed = load_seed(SEED)
    api = Api(lab_spec(STACK_LAB).public_url, (state_dir(STACK_LAB) / "shop" / "api_token").read_text().strip())
    assert order(api, seed.organizer.slug, seed.event.slug, bought.group(1)) is not None


def test_ticket_pdf_through_every_web_replica(seeded):
    out = sinv("backup.media", timeout=900).stdout
    assert re.search(r"backup.media: order \w+ \(rendered on \S+\), all downloads identical", out), out
    assert len(re.findall(r"before via web on n\d: 200", out)) >= 2, out
