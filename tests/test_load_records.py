"""Purchase records (write, read, merge), failure causes, and the REST API order an API buyer posts."""
import json
import os
import socket
from pathlib import Path

import pytest
import requests

from ops.core.errors import JourneyError
from ops.load.apiorder import answer_for, buyer_email, choose_item, order_payload, run_of_email
from ops.load.records import Record, RecordWriter, cause_of, merge, parse_records, read_dir, to_line

FIX = Path(__file__).resolve().parent / "fixtures" / "load"


def rec(t0, run="R", ok=True):
    return Record(run=run, kind="browser", t0=t0, t1=t0 + 1, ok=ok, code="C" if ok else None, email="e@x")


def test_a_record_is_one_json_line_with_every_field():
    line = to_line(rec(1.5))
    assert "\n" not in line
    assert json.loads(line) == {"run": "R", "kind": "browser", "t0": 1.5, "t1": 2.5, "ok": True, "code": "C",
                                "email": "e@x", "step": None, "error": None, "cause": None, "retries": 0}
    assert parse_records(line + "\n") == [rec(1.5)]


def test_a_half_written_last_line_is_skipped():
    text = to_line(rec(1)) + "\n" + to_line(rec(2))[:30]
    assert parse_records(text) == [rec(1)]


def test_a_bad_line_in_the_middle_is_corruption():
    text = to_line(rec(1)) + "\n{oops\n" + to_line(rec(2)) + "\n"
    with pytest.raises(ValueError, match="f.jsonl:2: not a purchase record"):
        parse_records(text, "f.jsonl")


def test_merge_orders_by_start_and_filters_the_run():
    a, b = [rec(3), rec(1, run="other")], [rec(2), rec(0)]
    assert [r.t0 for r in merge(a, b)] == [0, 1, 2, 3]
    assert [r.t0 for r in merge(a, b, run="R")] == [0, 2, 3]


def test_writer_appends_to_its_process_file(tmp_path):
    w = RecordWriter(tmp_path / "rec")
    w.append(rec(2))
    w.append(rec(1, ok=False))
    assert w.path.name == f"purchases-{socket.gethostname()}-{os.getpid()}.jsonl"
    assert w.path.read_text().count("\n") == 2          # flushed per line: readable while the run goes on
    assert read_dir(tmp_path / "rec") == [rec(1, ok=False), rec(2)]


def test_recorded_run_reads_from_both_workers_files():
    files = sorted(p.name for p in (FIX / "smoke").glob("purchases-*.jsonl"))
    assert len(files) == 2
    records = read_dir(FIX / "smoke")
    assert len(records) == 44 and len({r.code for r in records}) == 44
    assert [r.t0 for r in records] == sorted(r.t0 for r in records)


def http_error(status):
    r = requests.Response()
    r.status_code = status
    return requests.HTTPError(response=r)


@pytest.mark.parametrize("exc, want", [
    (requests.ReadTimeout(), "timeout"),
    (requests.ConnectTimeout(), "timeout"),
    (requests.ConnectionError(), "connection"),
    (http_error(502), "http 502"),
    (requests.TooManyRedirects(), "http error"),
    (KeyError("x"), "error KeyError"),
    (JourneyError("checkout/start", "HTTP 500 at /demo/conf/checkout/start", True), "http 500"),
    (JourneyError("checkout/confirm", "HTTP 409 at /demo/conf/checkout/confirm/", True), "http 409"),
    (JourneyError("event page", "HTTP 403 at /demo/conf/: CSRF"), "http 403"),
    (JourneyError("cart/add", "expected JSON, got HTTP 200 text/html: 'x'"), "wrong page"),
    (JourneyError("checkout/payment", "expected /checkout/confirm/, landed on /demo/conf/"), "wrong page"),
    (JourneyError("order page", "the order page does not say 'Thank you'"), "wrong page"),
    (JourneyError("event page", "only 0 of item_1 can be bought (sold out?)"), "sold out"),
    (JourneyError("checkout/confirm", "async task did not finish in time", True), "async timeout"),
    (JourneyError("cart/add", "the task failed"), "async task failed"),
    (JourneyError("checkout/confirm", "We were not able to process your request completely as the server was "
                                      "too busy.", True), "async task failed"),
    (JourneyError("checkout/confirm", "no redirect to the order page"), "wrong page"),
    (JourneyError("checkout/confirm", "async answer without check_url"), "wrong page"),
])
def test_cause_of(exc, want):
    assert cause_of(exc) == want


ITEMS = [{"id": 2, "active": True, "position": 1, "admission": True, "has_variations": False},
         {"id": 1, "active": True, "position": 0, "admission": True, "has_variations": False},
         {"id": 3, "active": False, "position": 0, "admission": True, "has_variations": False}]
QUESTIONS = [{"id": 1, "type": "S", "required": True, "items": [1, 2]},
             {"id": 2, "type": "N", "required": False, "items": [1]},
             {"id": 3, "type": "C", "required": True, "items": [1], "options": [{"id": 31}, {"id": 32}]},
             {"id": 4, "type": "B", "required": True, "items": [2]}]


def test_order_payload_answers_the_products_required_questions():
    item = choose_item(ITEMS)
    assert item["id"] == 1
    body = order_payload("a@example.invalid", item, QUESTIONS)
    assert body["positions"] == [{"item": 1, "answers": [
        {"question": 1, "answer": "Load test", "options": []}, {"question": 3, "answer": "", "options": [31]}]}]
    assert (body["email"], body["payment_provider"], body["send_email"]) == ("a@example.invalid", "manual", False)
    assert body["invoice_address"]["country"] == "PT"


def test_answers_by_type_and_no_product_to_order():
    assert answer_for({"id": 9, "type": "N", "required": True}) == {"question": 9, "answer": "1", "options": []}
    assert answer_for({"id": 9, "type": "S", "required": False}) is None
    with pytest.raises(ValueError, match="no active product"):
        choose_item([ITEMS[2]])


@pytest.mark.parametrize("run", ["20261129T090434Z", "drill-pg-1", "we ird/run"])
def test_buyer_emails_carry_the_run(run):
    a, b = buyer_email(run, "b"), buyer_email(run, "b")
    assert a != b and a.endswith("@example.invalid")
    assert run_of_email(a) == run.replace(" ", "-").replace("/", "-")


@pytest.mark.parametrize("email", ["someone@example.org", "", None, "load-x@y"])
def test_other_emails_have_no_run(email):
    assert run_of_email(email) is None
