"""Where backups are kept: a directory, or an S3 prefix (`s3://bucket/prefix/`).

Both hold pairs of files: `personalpod-20260101T030000Z.dump` (pg_dump's custom format)
and `personalpod-20260101T030000Z.json` (its manifest).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import boto3
from django.conf import settings


class BackupStore(Protocol):
    label: str

    def put(self, name: str, source: Path) -> None: ...

    def fetch(self, name: str, into: Path) -> None: ...

    def names(self) -> list[str]: ...

    def delete(self, name: str) -> None: ...


class MissingBackup(Exception):
    """No such file in the store."""


class DirectoryStore:
    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)
        self.label = str(self.directory)

    def _ensure(self) -> None:
        # Dumps hold everything but the encrypted secrets in the clear: owner-only.
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def put(self, name: str, source: Path) -> None:
        self._ensure()
        target = self.directory / name
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(source, partial)
        partial.chmod(0o600)
        partial.replace(target)  # a reader never sees half a file under the final name

    def fetch(self, name: str, into: Path) -> None:
        try:
            shutil.copyfile(self.directory / name, into)
        except FileNotFoundError:
            raise MissingBackup(f"{name} is not in {self.label}") from None

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(path.name for path in self.directory.iterdir() if path.is_file())

    def delete(self, name: str) -> None:
        (self.directory / name).unlink(missing_ok=True)


class S3Store:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/") + "/" if parts.path.strip("/") else ""
        self.label = f"s3://{self.bucket}/{self.prefix}"
        options = settings.BACKUP_S3
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=options.get("endpoint_url"),
            region_name=options.get("region_name"),
            aws_access_key_id=options.get("aws_access_key_id"),
            aws_secret_access_key=options.get("aws_secret_access_key"),
        )
        self.encryption: dict[str, Any] = {"ServerSideEncryption": options.get("server_side_encryption", "AES256")}
        if options.get("kms_key_id"):
            self.encryption["SSEKMSKeyId"] = options["kms_key_id"]

    def put(self, name: str, source: Path) -> None:
        self.client.upload_file(str(source), self.bucket, self.prefix + name, ExtraArgs=self.encryption)

    def fetch(self, name: str, into: Path) -> None:
        try:
            self.client.download_file(self.bucket, self.prefix + name, str(into))
        except self.client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                raise MissingBackup(f"{name} is not in {self.label}") from None
            raise

    def names(self) -> list[str]:
        found: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            found += [item["Key"][len(self.prefix) :] for item in page.get("Contents", [])]
        return sorted(name for name in found if "/" not in name)

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + name)


def store_for(location: str | None = None) -> BackupStore:
    location = location or settings.BACKUP_LOCATION
    if location.startswith("s3://"):
        if not urlsplit(location).netloc:
            raise ValueError(f"{location!r} names no bucket (s3://bucket/prefix/)")
        return S3Store(location)
    return DirectoryStore(location)


def read_json(store: BackupStore, name: str, scratch: Path) -> dict[str, Any]:
    target = scratch / name
    store.fetch(name, target)
    try:
        data = json.loads(target.read_text())
    except ValueError:
        raise MissingBackup(f"{name} in {store.label} is not a readable manifest") from None
    if not isinstance(data, dict):
        raise MissingBackup(f"{name} in {store.label} is not a manifest")
    return data
