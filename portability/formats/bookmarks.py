"""Browser bookmarks in the Netscape bookmark file format (what Chrome, Firefox, Safari and
Edge export): folders become categories (nested as deep as categories go), bookmarks become
bookmark entries with their description and (Firefox) tags."""

from __future__ import annotations

from html.parser import HTMLParser

from portability.errors import ImportFailed
from portability.formats import Format, Item, Parsed

MAX_NESTING = 100
# A category path has at most this many levels (entries.services.organize.MAX_DEPTH + 1).
MAX_CATEGORY_DEPTH = 6


class _Reader(HTMLParser):
    def __init__(self, parsed: Parsed) -> None:
        super().__init__(convert_charrefs=True)
        self.parsed = parsed
        self.folders: list[str | None] = []  # one per open <DL>; None for the root list
        self.pending_folder: str | None = None
        self.capture: str | None = None  # "folder", "link" or "description"
        self.text: list[str] = []
        self.link: dict[str, str] = {}
        self.last: Item | None = None
        self.count = 0

    def _finish_text(self) -> str:
        text = " ".join("".join(self.text).split())
        self.text, self.capture = [], None
        return text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.capture == "description" and tag in ("dt", "dl", "h3", "a"):
            if self.last is not None:
                self.last.fields["description"] = self._finish_text()[:20_000]
            self.capture = None
        if tag == "h3":
            self.capture, self.text = "folder", []
        elif tag == "a":
            self.capture, self.text = "link", []
            self.link = {name.lower(): value or "" for name, value in attrs}
        elif tag == "dl":
            if len(self.folders) >= MAX_NESTING:
                raise ImportFailed("malformed_file", f"The bookmarks nest more than {MAX_NESTING} folders deep.")
            self.folders.append(self.pending_folder)
            self.pending_folder = None
        elif tag == "dd":
            self.capture, self.text = "description", []

    def handle_endtag(self, tag: str) -> None:
        if tag == "h3" and self.capture == "folder":
            self.pending_folder = self._finish_text() or "Untitled folder"
        elif tag == "a" and self.capture == "link":
            self._bookmark(self._finish_text())
        elif tag == "dl":
            if self.capture == "description" and self.last is not None:
                self.last.fields["description"] = self._finish_text()[:20_000]
            if not self.folders:
                raise ImportFailed("malformed_file", "The bookmarks close a folder that was never opened.")
            self.folders.pop()

    def handle_data(self, data: str) -> None:
        if self.capture:
            self.text.append(data)

    def _bookmark(self, title: str) -> None:
        self.count += 1
        url = self.link.get("href", "").strip()
        if not url.lower().startswith(("http://", "https://")):
            # place:, javascript:, file: and the like are not web pages to keep.
            self.parsed.warn(f"Bookmark {self.count} ({title[:80] or url[:80]}) skipped: not a web address.")
            self.last = None
            return
        path = tuple(folder for folder in self.folders if folder)
        if len(path) > MAX_CATEGORY_DEPTH:
            self.parsed.warn(f"Bookmark {self.count} is in folders {len(path)} deep: filed {MAX_CATEGORY_DEPTH} deep.")
            path = path[:MAX_CATEGORY_DEPTH]
        tags = [tag.strip() for tag in self.link.get("tags", "").split(",") if tag.strip()]
        item = Item(
            key=f"bookmark[{self.count}]", type="bookmark", title=(title or url)[:300], category=path, tags=tags,
            fields={"url": url},
        )  # fmt: skip
        self.parsed.items.append(item)
        self.last = item


def read(data: bytes) -> Parsed:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed("malformed_file", "The bookmarks file is not UTF-8 text.") from None
    parsed = Parsed(Format.BOOKMARKS)
    reader = _Reader(parsed)
    reader.feed(text)
    reader.close()
    if reader.folders:
        raise ImportFailed("malformed_file", "The bookmarks file ends inside a folder: it is truncated or malformed.")
    if reader.count == 0:
        raise ImportFailed("malformed_file", "The bookmarks file holds no bookmarks.")
    return parsed
