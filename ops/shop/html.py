"""HTML reading without a browser: the forms of a page (fields, labels), its assets, its error alert."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Field:
    tag: str                      # input | select | textarea | button
    type: str                     # text, hidden, email, checkbox, radio, select-one, select-multiple, submit...
    name: str
    value: str = ""
    checked: bool = False
    required: bool = False
    id: str = ""
    options: list[tuple[str, str, bool]] = field(default_factory=list)  # (value, text, selected) for selects
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class Form:
    attrs: dict[str, str]
    fields: list[Field] = field(default_factory=list)

    @property
    def action(self) -> str:
        return self.attrs.get("action", "")

    @property
    def method(self) -> str:
        return (self.attrs.get("method") or "get").lower()

    def names(self) -> set[str]:
        return {f.name for f in self.fields}

    def get(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


class _PageParser(HTMLParser):
    """Collects forms (with their fields), <label for> texts and asset URLs from a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.labels: dict[str, str] = {}
        self.assets: list[str] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._option: list | None = None
        self._textarea: Field | None = None
        self._label_for: str | None = None
        self._label_text: list[str] = []
        self._icon = False

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form(attrs=a)
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and a.get("name"):
            t = (a.get("type") or "text").lower()
            self._form.fields.append(Field("input", t, a["name"], a.get("value", "on" if t in ("checkbox", "radio")
                                                                              else ""),
                                           checked="checked" in a, required="required" in a, id=a.get("id", ""),
                                           attrs=a))
        elif tag == "select" and self._form is not None and a.get("name"):
            self._select = Field("select", "select-multiple" if "multiple" in a else "select-one", a["name"],
                                 required="required" in a, id=a.get("id", ""), attrs=a)
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value"), [], "selected" in a]
        elif tag == "textarea" and self._form is not None and a.get("name"):
            self._textarea = Field("textarea", "textarea", a["name"], required="required" in a,
                                   id=a.get("id", ""), attrs=a)
            self._form.fields.append(self._textarea)
        elif tag == "button" and self._form is not None and a.get("name"):
            self._form.fields.append(Field("button", (a.get("type") or "submit").lower(), a["name"],
                                           a.get("value", ""), id=a.get("id", ""), attrs=a))
        elif tag == "label":
            self._label_for, self._label_text = a.get("for"), []
        elif tag == "link" and "stylesheet" in (a.get("rel") or "").lower().split() and a.get("href"):
            self.assets.append(a["href"])
        elif tag == "link" and "icon" in (a.get("rel") or "").lower().split() and a.get("href") \
                and not self._icon:  # a browser fetches one favicon
            self._icon = True
            self.assets.append(a["href"])
        elif tag in ("script", "img") and a.get("src"):
            self.assets.append(a["src"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("option", "textarea", "select", "label", "form"):
            self.handle_endtag(tag)

    def handle_data(self, data):
        if self._option is not None:
            self._option[1].append(data)
        elif self._textarea is not None:
            self._textarea.value += data
        if self._label_for is not None:
            self._label_text.append(data)

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None and self._select is not None:
            val, text, sel = self._option
            text = " ".join("".join(text).split())
            self._select.options.append((text if val is None else val, text, sel))
            self._option = None
        elif tag == "select":
            if self._option is not None:
                self.handle_endtag("option")
            self._select = None
        elif tag == "textarea":
            if self._textarea is not None and self._textarea.value.startswith("\n"):
                self._textarea.value = self._textarea.value[1:]  # as browsers do
            self._textarea = None
        elif tag == "form":
            self._form = None
        elif tag == "label" and self._label_for is not None:
            self.labels[self._label_for] = " ".join("".join(self._label_text).split())
            self._label_for = None


def parse_page(html: str) -> _PageParser:
    p = _PageParser()
    p.feed(html)
    p.close()
    return p


def parse_forms(html: str) -> list[Form]:
    return parse_page(html).forms


def page_error(html: str) -> str:
    """The first error alert text of a pretix page (for messages), or ''."""
    m = re.search(r'class="[^"]*alert-danger[^"]*"[^>]*>(.*?)</div>', html, re.S)
    if not m:
        return ""
    return " ".join(re.sub(r"<[^>]+>", " ", m.group(1)).split())[:300]
