"""Unit tests for ops/shop/seed.py: parsing and one-line validation errors of quickstart seed files."""
import datetime as dt
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from ops.core.errors import OpsError
from ops.core.errors import SeedError
from ops.shop.seed import DateSpec, load_seed, parse_seed

REPO = Path(__file__).resolve().parent.parent

MINIMAL = """
organizer: {name: Org, slug: org}
event: {name: Ev, slug: ev, date_from: "2030-01-10 09:00"}
products:
  - {name: Ticket, price: 10}
quotas:
  - {name: Q, size: 100}
"""


def seed(text=MINIMAL):
    return parse_seed(textwrap.dedent(text), source="t.yaml")


def err(text) -> str:
    with pytest.raises(SeedError) as e:
        parse_seed(textwrap.dedent(text), source="t.yaml")
    msg = str(e.value)
    assert "\n" not in msg, "errors are one line"
    assert msg.startswith("t.yaml: ")
    return msg


def replace(old, new, text=MINIMAL):
    assert old in text
    return text.replace(old, new)


def test_default_seed_file_is_valid_and_is_the_scenario():
    s = load_seed(REPO / "scripts" / "seed.yaml")
    assert s.quotas[0].size == 10000
    assert len(s.questions) == 1 and s.questions[0].required
    assert s.manual_payment.enabled and s.live
    assert {p.name for p in s.products} == set(s.quotas[0].products)
    start = s.event.presale_start.resolve(s.event.timezone)
    end = s.event.presale_end.resolve(s.event.timezone)
    assert dt.timedelta(days=6) < end - start < dt.timedelta(days=9)  # sells for a week


def test_minimal_defaults():
    s = seed()
    assert s.organizer.slug == "org"
    assert s.event.currency == "EUR" and s.event.locale == "en" and s.event.timezone == "UTC"
    assert s.products[0].price == Decimal("10.00")
    assert s.quotas[0].products == ("Ticket",)  # default: all products
    assert s.team.token_name == "quickstart"
    assert s.questions == () and s.manual_payment.enabled and s.live


def test_unlimited_quota_and_choice_question():
    s = seed(MINIMAL.replace("size: 100", "size: unlimited") + textwrap.dedent("""
        questions:
          - question: How did you hear about us?
            type: choice
            options: [Friends, Web]
            required: true
            products: [Ticket]
        """))
    assert s.quotas[0].size is None
    q = s.questions[0]
    assert q.type_code == "C" and q.options == ("Friends", "Web") and q.products == ("Ticket",)


def test_categories_in_order():
    s = seed(MINIMAL.replace("- {name: Ticket, price: 10}",
                             "- {name: Ticket, price: 10, category: A}\n  - {name: T2, price: 1, category: B}\n"
                             "  - {name: T3, price: 1, category: A}"))
    assert s.categories == ("A", "B")


@pytest.mark.parametrize("text,needle", [
    (replace("organizer:", "organiser: {name: x, slug: y}\norganizer:"), "organiser: unknown key"),
    (replace("slug: ev,", "slug: ev, colour: red,"), "event.colour: unknown key"),
    (replace("{name: Ticket, price: 10}", "{name: Ticket, price: 10, prise: 3}"), "products[0].prise: unknown key"),
    (replace("{name: Org, slug: org}", "{name: Org}"), "organizer.slug: missing"),
    (replace("name: Ev, ", ""), "event.name: missing"),
    (replace("price: 10", "price: -5"), "products[0].price: must not be negative"),
    (replace("price: 10", "price: ten"), "products[0].price: must be a number"),
    (replace("price: 10", "price: 1.234"), "products[0].price: at most 2 decimal places"),
    (replace("price: 10", "price: [1]"), "products[0].price: must be a number (got list)"),
    (replace("size: 100", "size: lots"), "quotas[0].size: must be a non-negative integer or 'unlimited'"),
    (replace("size: 100", "size: 1.5"), "quotas[0].size: must be a non-negative integer or 'unlimited'"),
    (replace("size: 100", "size: -1"), "quotas[0].size: must not be negative"),
    (replace("size: 100", "size: true"), "quotas[0].size"),
    (replace("{name: Q, size: 100}", "{name: Q, size: 1, products: [Nope]}"),
     "quotas[0].products[0]: no product named 'Nope'"),
    (replace("products:\n  - {name: Ticket, price: 10}", "products: []"), "products: must have at least 1 entry"),
    (replace("products:\n  - {name: Ticket, price: 10}", "products: {a: 1}"), "products: must be a list"),
    (replace("slug: org", "slug: 'bad slug'"), "organizer.slug: must be letters"),
    (replace("date_from: \"2030-01-10 09:00\"", "date_from: tomorrow"), "event.date_from: must be a date"),
    (replace("date_from: \"2030-01-10 09:00\"", "date_from: \"2030-02-30\""), "event.date_from: not a valid date"),
    (replace("slug: ev,", "slug: ev, currency: euro,"), "event.currency: must be a 3-letter ISO code"),
    (replace("slug: ev,", "slug: ev, timezone: Mars/Base,"), "event.timezone: unknown timezone"),
    (replace("slug: ev,", "slug: ev, locale: English,"), "event.locale"),
    (replace("slug: ev,", "slug: ev, date_to: \"2030-01-09\","), "event.date_to: must not be before event.date_from"),
    (replace("{name: Ticket, price: 10}", "{name: Ticket, price: 10, admission: yes please}"),
     "products[0].admission: must be true or false"),
    (MINIMAL + "live: maybe\n", "live: must be true or false"),
    (MINIMAL + "questions:\n  - {question: Q, type: essay}\n", "questions[0].type: must be one of"),
    (MINIMAL + "questions:\n  - {question: Q, type: choice}\n", "questions[0].options: missing"),
    (MINIMAL + "questions:\n  - {question: Q, options: [a]}\n", "questions[0].options: only allowed"),
    (MINIMAL + "questions:\n  - {type: text}\n", "questions[0].question: missing"),
    (MINIMAL + "payment:\n  manual: {enabled: false}\n", "payment.manual.enabled: paid products need"),
    (MINIMAL + "payment:\n  paypal: {}\n", "payment.paypal: unknown key"),
    (replace("- {name: Ticket, price: 10}", "- {name: Ticket, price: 10}\n  - {name: Ticket, price: 3}"),
     "products[1].name: duplicate 'Ticket'"),
    ("- just\n- a list\n", "(top level): must be a mapping"),
    ("organizer: [unclosed\n", "not valid YAML"),
])
def test_errors_name_the_key(text, needle):
    msg = err(text)
    assert needle in msg, msg


def test_seed_error_is_an_ops_error():
    assert issubclass(SeedError, OpsError)


def test_missing_file(tmp_path):
    with pytest.raises(SeedError, match="cannot read seed file"):
        load_seed(tmp_path / "nope.yaml")


def test_load_seed_names_the_file(tmp_path):
    p = tmp_path / "my.yaml"
    p.write_text(MINIMAL.replace("price: 10", "price: -1"))
    with pytest.raises(SeedError, match=r"^my\.yaml: products\[0\]\.price"):
        load_seed(p)


def test_overrides():
    s = seed().with_overrides(organizer="o2", event="e2", tickets=5)
    assert (s.organizer.slug, s.event.slug, s.quotas[0].size) == ("o2", "e2", 5)
    with pytest.raises(SeedError, match="--tickets"):
        seed().with_overrides(tickets=-1)
    with pytest.raises(SeedError, match="--event"):
        seed().with_overrides(event="no spaces")


def test_dates_absolute_and_relative():
    now = dt.datetime(2030, 3, 1, 12, 34, 56, tzinfo=dt.timezone.utc)
    assert DateSpec("2030-01-10 09:00").resolve("Europe/Lisbon") == \
        dt.datetime(2030, 1, 10, 9, 0, tzinfo=dt.timezone.utc)
    assert not DateSpec("2030-01-10").is_relative
    assert DateSpec("now").resolve("UTC", now) == dt.datetime(2030, 3, 1, 12, 34, tzinfo=dt.timezone.utc)
    assert DateSpec("+7d").resolve("UTC", now) == dt.datetime(2030, 3, 8, 12, 34, tzinfo=dt.timezone.utc)
    assert DateSpec("+10d 09:00").resolve("UTC", now) == dt.datetime(2030, 3, 11, 9, 0, tzinfo=dt.timezone.utc)
    assert DateSpec("+2h").resolve("UTC", now).hour == 14
    assert DateSpec("+7d").is_relative and DateSpec("now").is_relative


def test_yaml_timestamps_are_accepted():
    s = seed(MINIMAL.replace('"2030-01-10 09:00"', "2030-01-10 09:00:00"))
    assert s.event.date_from.raw == "2030-01-10 09:00"


def test_every_problem_of_a_file_is_reported_at_once():
    text = """
    organizer: {slug: "bad slug!", name: Org}
    event: {slug: conf, date_from: "yesterday"}
    products:
      - {name: Ticket, price: -5}
      - {name: Ticket, price: 1, colour: red}
    quotaz: 1
    """
    with pytest.raises(SeedError) as e:
        parse_seed(textwrap.dedent(text), source="t.yaml")
    lines = str(e.value).splitlines()
    assert lines == [
        "t.yaml: quotaz: unknown key (allowed here: event, live, organizer, payment, products, questions, quotas, "
        "team)",
        "t.yaml: quotas: missing (required)",
        "t.yaml: products[0].price: must not be negative (got -5)",
        "t.yaml: products[1].colour: unknown key (allowed here: active, admission, category, description, name, "
        "price)",
        "t.yaml: products[1].name: duplicate 'Ticket'",
        "t.yaml: organizer.slug: must be letters, digits, '.' and '-' (max 50), starting with a letter or digit "
        "(got 'bad slug!')",
        "t.yaml: event.name: missing (required)",
        "t.yaml: event.date_from: must be a date like '2026-12-20 09:00', 'now' or '+7d 18:00' (got 'yesterday')",
    ]
