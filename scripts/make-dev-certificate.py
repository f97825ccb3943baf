"""Write a self-signed TLS certificate for Docker Compose's PostgreSQL (seed 002: connections
are encrypted in every environment; production settings refuse anything less).

    python scripts/make-dev-certificate.py DIRECTORY OWNER_UID

Writes DIRECTORY/server.crt and DIRECTORY/server.key (mode 600, owned by OWNER_UID, as
PostgreSQL requires of its key), unless they are already there. For one host only: clients
connect with sslmode=require, which encrypts but does not check who answers.
"""

from __future__ import annotations

import datetime
import os
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def main(directory: str, owner_uid: str) -> int:
    target = Path(directory)
    certificate, key_file = target / "server.crt", target / "server.key"
    if certificate.exists() and key_file.exists():
        print(f"{certificate} exists; kept")
        return 0
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "postgres")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("postgres"), x509.DNSName("localhost")]), False)
        .sign(key, hashes.SHA256())
    )
    target.mkdir(parents=True, exist_ok=True)
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    uid = int(owner_uid)
    for path, mode in ((key_file, 0o600), (certificate, 0o644)):
        os.chown(path, uid, uid)
        path.chmod(mode)
    print(f"wrote {certificate} and {key_file}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
