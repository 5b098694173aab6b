"""Quickstart UI for the account: admin login and password, admin mode, organizer, API team and token."""
from __future__ import annotations

import re
import secrets
from pathlib import Path

from ..core.files import private_dir, read_text, write_private
from ..core.output import MASKER
from ..core.retry import poll
from .browser import Browser, named
from .seed import Seed

INITIAL_ADMIN_EMAIL = "admin@localhost"
INITIAL_ADMIN_PASSWORD = "admin"
_TOKEN = re.compile(r"\b([a-z0-9]{64})\b")


class StateFiles:
    """The secrets a quickstart keeps: admin_password, admin_password.new, api_token (dir 0700, files 0600)."""

    def __init__(self, path: str | Path):
        self.path = private_dir(Path(path)).resolve()

    def read(self, name: str) -> str | None:
        value = read_text(self.path / name)
        MASKER.add(value or "")  # a secret read is a secret never printed
        return value

    def write(self, name: str, value: str) -> None:
        MASKER.add(value)
        write_private(self.path / name, value + "\n")

    def remove(self, name: str) -> None:
        (self.path / name).unlink(missing_ok=True)


def ctl_organizer(seed: Seed) -> str:
    return f"/control/organizer/{seed.organizer.slug}"


# ------------------------------------------------------------------------------------------ login

def log_in(b: Browser, files: StateFiles) -> str | None:
    """Log in as the initial admin (saved password first); replace the initial password by a generated one.

    Returns the change line when the password was replaced.
    """
    saved, pending = files.read("admin_password"), files.read("admin_password.new")
    candidates = [p for p in (saved, pending) if p] + [INITIAL_ADMIN_PASSWORD]
    used = next((pw for pw in candidates if try_login(b, pw)), None)
    if used is None:
        raise PermissionError(f"cannot log in as {INITIAL_ADMIN_EMAIL}: neither the saved password in "
                              f"{files.path}/admin_password nor the initial one works (restore the state dir, or "
                              f"set a password on the server with `python -m pretix changepassword "
                              f"{INITIAL_ADMIN_EMAIL}` and write it to admin_password)")
    change = None
    if used == pending and used != saved:  # a run stopped between the change and the save: keep it now
        files.write("admin_password", used)
        files.remove("admin_password.new")
    if used == INITIAL_ADMIN_PASSWORD:
        used = _replace_password(b, files)
        change = f"replaced the initial admin password (saved to {files.path}/admin_password)"
    enter_admin_mode(b, used)
    return change


def try_login(b: Browser, password: str) -> bool:
    b.go("/control/login")
    if not b.path().startswith("/control/login"):
        return True  # already logged in
    b.fill("email", INITIAL_ADMIN_EMAIL)
    b.fill("password", password)
    try:
        b.submit(named("password"))
    except ValueError:  # "wrong password" is a form error
        return False
    return not b.path().startswith("/control/login")


def _replace_password(b: Browser, files: StateFiles) -> str:
    new = secrets.token_urlsafe(24)
    files.write("admin_password.new", new)  # kept before submitting: a crash must never lose it
    b.go("/control/settings/password/change")
    b.fill("old_pw", INITIAL_ADMIN_PASSWORD)
    b.fill("new_pw", new)
    b.fill("new_pw_repeat", new)
    b.submit(named("new_pw"))
    if not b.messages():
        raise ValueError("password change was not confirmed by pretix")
    files.write("admin_password", new)
    files.remove("admin_password.new")
    # pretix may end the session after a password change: make sure we are still in
    b.go("/control/")
    if b.path().startswith("/control/login") and not try_login(b, new):
        raise PermissionError("cannot log in with the new admin password")
    return new


def enter_admin_mode(b: Browser, password: str) -> None:
    """Enter pretix 'admin mode' (staff session): needed to create organizers."""
    b.go("/control/")
    if not b.all("#button-sudo"):
        return  # already in admin mode (or not staff)
    b.submit(button="#button-sudo")
    if "/reauth" in b.path():
        b.fill("password", password)
        b.submit(named("password"))
    b.wait(lambda d: not b.all("#button-sudo"), "admin mode to be active", 10)


# ------------------------------------------------------------------------------------------ organizer

def organizer_name(b: Browser, seed: Seed) -> str | None:
    """The organizer's name as its settings page shows it; None when there is no such organizer yet."""
    b.go(f"{ctl_organizer(seed)}/edit")
    if b.is_not_found() or not b.all('[name^="name_"], [name="name"]'):
        return None
    return b.i18n_value("name")


def create_organizer(b: Browser, seed: Seed, payload: dict) -> None:
    b.go("/control/organizers/add")
    if b.all(named("name")):
        b.fill("name", payload["name"])
    else:
        b.fill_i18n("name", payload["name"])
    b.fill("slug", payload["slug"])
    b.submit(named("slug"), expect_path=rf"^/control/organizer/{re.escape(payload['slug'])}/")


def rename_organizer(b: Browser, seed: Seed, payload: dict) -> None:
    b.save_i18n(f"{ctl_organizer(seed)}/edit", "name", payload["name"])


# ------------------------------------------------------------------------------------------ team + token

def make_token(b: Browser, seed: Seed, files: StateFiles) -> tuple[str, bool]:
    """Add an API token to the seed's team (created with all permissions if missing) and save it.

    Returns the token and whether the team was created.
    """
    created = _open_team(b, seed)
    field = _token_name_field(b)
    b.fill(field, seed.team.token_name)
    b.submit(named(field))
    token = _token_from_page(b)
    files.write("api_token", token)
    b.go(f"{ctl_organizer(seed)}/teams")  # leave the page that shows the token before any screenshot
    return token, created


def _open_team(b: Browser, seed: Seed) -> bool:
    """Open the team's page, creating the team first when there is none; True if it was created."""
    b.go(f"{ctl_organizer(seed)}/teams")
    for text, href in b.links('a[href*="/team/"]'):
        if text == seed.team.name and re.search(r"/team/\d+/$", href):
            b.open(href)
            return False
    b.go(f"{ctl_organizer(seed)}/team/add")
    b.fill("name", seed.team.name)
    for box in ("all_organizer_permissions", "all_events", "all_event_permissions"):
        b.check(box, True)
    b.submit(named("name"), expect_path=r"/team/\d+/$")
    return True


def _token_name_field(b: Browser) -> str:
    names = b.attrs("form input[type=text]", "name")
    for n in names:
        if "token" in n and "name" in n:
            return n
    for n in names:
        if n.endswith("name") and "user" not in n and "email" not in n:
            return n
    raise LookupError("no token name input on the team page")


def _token_from_page(b: Browser) -> str:
    """The secret pretix shows once; looked for until the page shows it (on a busy machine the page that
    answers the form may still be rendering when submit returns)."""
    def shown() -> str | None:
        for text in b.messages() + b.texts(".alert-success code, .alert code, code"):
            m = _TOKEN.search(text)
            if m:
                return m.group(1)
        return None
    token = poll(shown, 20, first=0.5, cap=2)
    if not token:
        raise LookupError("the new API token is not shown on the page")
    return token
