"""`inv quickstart` and `inv buy` against the deployed lab stack: the real UI, the real shop, the real API."""
import os
import re
from pathlib import Path

import pytest
import requests
import yaml

from tests.labs import PROJECT, STACK_LAB, inv

pytestmark = pytest.mark.integration
URL = f"http://127.0.0.1:{STACK_LAB['PXC_LAB_HTTP_PORT']}"


def sinv(*args, **kw):
    return inv(*args, lab=STACK_LAB, **kw)


def shop_state() -> Path:
    return Path(os.environ["PXC_STATE_DIR"]) / "stacktest" / "shop"


def login_works(email: str, password: str) -> bool:
    with requests.Session() as s:
        page = s.get(f"{URL}/control/login", timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        r = s.post(page.url, data={"csrfmiddlewaretoken": token, "email": email, "password": password},
                   headers={"Referer": page.url}, timeout=30, allow_redirects=False)
        return r.status_code == 302 and "/control/login" not in r.headers.get("Location", "")


def test_quickstart_seeds_and_secures_the_shop(seeded):
    assert "quickstart: changed:" in seeded.stdout
    assert not login_works("admin@localhost", "admin")
    password = (shop_state() / "admin_password").read_text().strip()
    assert login_works("admin@localhost", password)
    assert password not in seeded.stdout + seeded.stderr
    for name in ("admin_password", "api_token"):
        assert (shop_state() / name).stat().st_mode & 0o777 == 0o600
    token = (shop_state() / "api_token").read_text().strip()
    assert token not in seeded.stdout


def test_purchase_appears_in_the_api(seeded):
    out = sinv("buy", "--count", "2", timeout=600).stdout
    assert len(re.findall(r"order [A-Z0-9]{5}: (pending|paid)", out)) == 2
    assert "buy: 2 order(s) placed and found in the API" in out


def test_second_run_reports_no_changes(seeded):
    assert "quickstart: no changes" in sinv("quickstart", timeout=900).stdout


def test_changed_seed_is_applied(seeded, tmp_path):
    seed = yaml.safe_load((PROJECT / "scripts" / "seed.yaml").read_text())
    seed["products"].append({**seed["products"][0], "name": "Late bird", "price": 40})
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump(seed, sort_keys=False))
    out = sinv("quickstart", "--seed", str(path), timeout=900).stdout
    assert "Late bird" in out and "quickstart: changed:" in out
    assert "quickstart: no changes" in sinv("quickstart", "--seed", str(path), timeout=900).stdout


def test_bad_seed_file_names_every_problem_at_once(stack, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("organizer: {slug: demo, name: Demo}\nevent: {slug: conf}\nproducts: []\nquotaz: 1\n")
    p = sinv("quickstart", "--seed", str(path), check=False)
    assert p.returncode == 1 and p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert lines[0].startswith("error: bad.yaml: ") and all(line.startswith(("error: bad.yaml: ", "bad.yaml: "))
                                                            for line in lines)
    assert any("quotaz: unknown key" in line for line in lines) and any("products:" in line for line in lines)
