"""ZIP files from outside, read defensively: bounded member count, total size and compression
ratio (ZIP bombs), no paths outside the archive's root, no links, no encrypted members, and
never more bytes from a member than it declares."""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from django.conf import settings

from portability.errors import ImportFailed

# A member this small may compress as well as it likes; above it, this ratio is a bomb.
_RATIO_FLOOR_BYTES = 1024 * 1024


class SafeZip:
    def __init__(self, path: Path) -> None:
        try:
            self.zip = zipfile.ZipFile(path)
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            raise ImportFailed("malformed_file", "The ZIP file is malformed or truncated.") from None
        if len(infos) > settings.IMPORT_MAX_ZIP_MEMBERS:
            raise ImportFailed(
                "too_many_files", f"The ZIP file holds more than {settings.IMPORT_MAX_ZIP_MEMBERS} files."
            )
        total = 0
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = _safe_name(info.filename)
            if info.flag_bits & 0x1:
                raise ImportFailed("encrypted_zip", "The ZIP file is password-protected; export it without a password.")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ImportFailed("unsafe_path", f"The ZIP file holds a link ({name}); links are not imported.")
            total += info.file_size
            if (
                info.file_size > _RATIO_FLOOR_BYTES
                and info.file_size > info.compress_size * settings.IMPORT_MAX_ZIP_RATIO
            ):
                raise ImportFailed("zip_bomb", f"{name} expands {info.file_size // max(info.compress_size, 1)} times: "
                                   "the ZIP file looks like a ZIP bomb.")  # fmt: skip
            if info.is_dir():
                continue
            if name in self.members:
                raise ImportFailed("malformed_file", f"The ZIP file holds {name} twice.")
            self.members[name] = info
        if total > settings.IMPORT_MAX_UNCOMPRESSED_BYTES:
            raise ImportFailed(
                "zip_bomb",
                f"The ZIP file expands to more than {settings.IMPORT_MAX_UNCOMPRESSED_BYTES // 2**20} MB.",
            )

    def names(self) -> list[str]:
        return sorted(self.members)

    def open(self, name: str) -> _Bounded:
        info = self.members.get(name)
        if info is None:
            raise ImportFailed("malformed_file", f"The archive has no {name}.")
        return _Bounded(self.zip.open(info), info.file_size, name)

    def read(self, name: str, limit: int | None = None) -> bytes:
        info = self.members.get(name)
        if info is None:
            raise ImportFailed("malformed_file", f"The archive has no {name}.")
        if limit is not None and info.file_size > limit:
            raise ImportFailed("file_too_large", f"{name} is larger than {limit // 1024} KB.")
        with self.open(name) as member:
            return member.read()

    def chunks(self, name: str) -> Iterator[bytes]:
        with self.open(name) as member:
            while chunk := member.read(1024 * 1024):
                yield chunk

    def close(self) -> None:
        self.zip.close()


def _safe_name(name: str) -> str:
    """The member's path, refused when it could point outside the archive's root."""
    if "\\" in name or "\x00" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ImportFailed("unsafe_path", f"The ZIP file holds a path outside its root ({name[:200]!r}).")
    path = PurePosixPath(name)
    if any(part == ".." for part in path.parts):
        raise ImportFailed("unsafe_path", f"The ZIP file holds a path outside its root ({name[:200]!r}).")
    return str(path)


class _Bounded:
    """A member's stream that fails (rather than keeps going) past its declared size, and
    turns the zipfile module's CRC and format errors into a clear ImportFailed."""

    def __init__(self, stream: IO[bytes], declared: int, name: str) -> None:
        self.stream, self.left, self.name = stream, declared, name

    def read(self, size: int = -1) -> bytes:
        want = self.left + 1 if size < 0 else min(size, self.left + 1)
        try:
            data = self.stream.read(want)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            raise ImportFailed("malformed_file", f"{self.name} in the ZIP file is damaged.") from None
        self.left -= len(data)
        if self.left < 0:
            raise ImportFailed("zip_bomb", f"{self.name} holds more than it declares: the ZIP file is not safe.")
        return data

    def __enter__(self) -> _Bounded:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stream.close()
