"""Small import files of each format, written for the tests (shaped like the real tools' exports)."""

from __future__ import annotations

import json

BITWARDEN = json.dumps(
    {
        "encrypted": False,
        "folders": [
            {"id": "f-work", "name": "Work"},
            {"id": "f-servers", "name": "Work/Servers"},
        ],
        "items": [
            {
                "id": "1",
                "organizationId": None,
                "folderId": "f-servers",
                "type": 1,
                "reprompt": 0,
                "name": "Build server",
                "notes": "Rotated monthly.",
                "favorite": True,
                "fields": [{"name": "PIN", "value": "4321", "type": 1}],
                "login": {
                    "uris": [
                        {"match": None, "uri": "https://ci.example.com/login"},
                        {"match": None, "uri": "androidapp://com.example.ci"},
                    ],
                    "username": "deploy",
                    "password": "hunter2-ci",
                    "totp": "otpauth://totp/CI?secret=JBSWY3DPEHPK3PXP",
                },
                "collectionIds": None,
            },
            {
                "id": "2",
                "folderId": "f-work",
                "type": 1,
                "name": "Mail",
                "notes": None,
                "favorite": False,
                "login": {
                    "uris": [{"uri": "https://mail.example.com"}],
                    "username": "me@example.com",
                    "password": "mail-pw-9",
                    "totp": None,
                },
            },
            {
                "id": "3",
                "folderId": None,
                "type": 2,
                "name": "Wi-Fi at home",
                "notes": "SSID: Home\nKey: hunter22",
                "favorite": False,
                "secureNote": {"type": 0},
            },
            {
                "id": "4",
                "folderId": None,
                "type": 3,
                "name": "Visa",
                "notes": None,
                "favorite": False,
                "card": {
                    "cardholderName": "Alex Martin",
                    "brand": "Visa",
                    "number": "4111111111111111",
                    "expMonth": "4",
                    "expYear": "2029",
                    "code": "123",
                },
            },
            {
                "id": "5",
                "folderId": None,
                "type": 4,
                "name": "Me",
                "notes": None,
                "favorite": False,
                "identity": {
                    "title": "Mx",
                    "firstName": "Alex",
                    "middleName": None,
                    "lastName": "Martin",
                    "address1": "1 Main St",
                    "address2": None,
                    "address3": None,
                    "city": "Lisbon",
                    "state": None,
                    "postalCode": "1000-001",
                    "country": "PT",
                    "company": "Acme",
                    "email": "alex@example.com",
                    "phone": "+351 912 345 678",
                    "ssn": "123-45-6789",
                    "username": "alexm",
                    "passportNumber": "P1234567",
                    "licenseNumber": None,
                },
            },
        ],
    }
).encode()

BOOKMARKS = b"""<!DOCTYPE NETSCAPE-Bookmark-file-1>
<!-- This is an automatically generated file. -->
<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=UTF-8">
<TITLE>Bookmarks</TITLE>
<H1>Bookmarks</H1>
<DL><p>
    <DT><H3 ADD_DATE="1700000000" PERSONAL_TOOLBAR_FOLDER="true">Bookmarks bar</H3>
    <DL><p>
        <DT><A HREF="https://docs.djangoproject.com/" ADD_DATE="1700000001" TAGS="dev,python">Django docs</A>
        <DD>The web framework &amp; its docs
        <DT><H3 ADD_DATE="1700000002">Recipes</H3>
        <DL><p>
            <DT><A HREF="https://bread.example.com/sourdough">Sourdough</A>
            <DT><A HREF="javascript:alert(1)">A bookmarklet</A>
        </DL><p>
    </DL><p>
    <DT><A HREF="https://news.example.com/">News</A>
</DL><p>
"""

VCARD_3 = (
    b"BEGIN:VCARD\r\n"
    b"VERSION:3.0\r\n"
    b"N:Rivera;Sam;;;\r\n"
    b"FN:Sam Rivera\r\n"
    b"ORG:Rivera Design;Studio\r\n"
    b"EMAIL;TYPE=INTERNET,WORK:sam@example.com\r\n"
    b"TEL;TYPE=CELL:+351 912 345 678\r\n"
    b"ADR;TYPE=HOME:;;Rua Augusta 1;Lisboa;;1100-048;Portugal\r\n"
    b"BDAY:1990-04-21\r\n"
    b"NOTE:Met at the conference\\, 2024.\\nLikes climbing.\r\n"
    b"CATEGORIES:friends,climbing\r\n"
    b"END:VCARD\r\n"
    b"BEGIN:VCARD\r\n"
    b"VERSION:3.0\r\n"
    b"FN:Dr. Priya Shah\r\n"
    b"EMAIL:reception@clinic.example\r\n"
    b"NOTE:A very long note that is folded onto a second line by the exporting\r\n"
    b"  application.\r\n"
    b"END:VCARD\r\n"
)

VCARD_4 = (
    b"BEGIN:VCARD\n"
    b"VERSION:4.0\n"
    b"FN:Jo Becker\n"
    b"EMAIL;TYPE=work:jo.becker@work.example\n"
    b"EMAIL:jo@example.org\n"
    b"TEL;VALUE=uri;TYPE=cell:tel:+49-30-1234567\n"
    b"BDAY:--0421\n"
    b"END:VCARD\n"
)

MARKDOWN = {
    "vault/Inbox.md": "---\ntitle: Things to buy\ntags: [shopping, home]\n---\n- milk\n- bread\n",
    "vault/Work/Meetings/Retro.md": "---\ntags: work, retro\n---\n# Retrospective\n\nWhat went well.",
    "vault/Work/Plan.md": "Quarterly plan without front matter.",
    "vault/Work/diagram.png": b"\x89PNG\r\n\x1a\nnot really",
    "vault/.obsidian/app.json": "{}",
}
