"""Signature checks against the reference `standardwebhooks` library as the sender."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from webapp.ingest.signatures import SignatureError, sign, verify
from webapp.tenancy.values import new_secret

NOW = 1_790_000_000
BODY = b'{"eventType":"page_view","userId":"123"}'


def reference_signature(secret: str, msg_id: str, at: int, body: bytes) -> str:
    return Webhook(secret).sign(msg_id, datetime.fromtimestamp(at, UTC), body.decode())


def test_our_signature_is_the_reference_signature():
    secret = new_secret()
    assert sign(secret, "msg_1", NOW, BODY) == reference_signature(secret, "msg_1", NOW, BODY)


def test_valid_signature_passes():
    secret = new_secret()
    verify([secret], "msg_1", str(NOW), reference_signature(secret, "msg_1", NOW, BODY), BODY, NOW)


def test_any_of_several_secrets_and_signatures_passes():
    old, new = new_secret(), new_secret()
    header = " ".join(["v1,\xff\xfe", "v1,%%", reference_signature(old, "m", NOW, BODY),
                       "v2,ignored"])
    verify([new, old], "m", str(NOW), header, BODY, NOW)


@pytest.mark.parametrize("change,status,message", [
    ({"body": BODY + b" "}, 401, "No matching signature"),
    ({"secrets": [new_secret()]}, 401, "No matching signature"),
    ({"msg_id": "msg_2"}, 401, "No matching signature"),
    ({"timestamp": str(NOW - 301)}, 401, "more than 5 minutes old"),
    ({"timestamp": str(NOW + 301)}, 401, "more than 5 minutes in the future"),
    ({"timestamp": "yesterday"}, 400, "webhook-timestamp must be"),
    ({"signature": None}, 400, "Missing signature headers: webhook-signature"),
    ({"msg_id": "", "timestamp": None}, 400, "webhook-id, webhook-timestamp"),
    ({"secrets": []}, 401, "no signing secret"),
    ({"signature": "v1,Zm9v"}, 401, "No matching signature"),
    ({"signature": "v1,\xe9\xe9\xe9\xe9"}, 400, "no v1,<base64> signature"),
    ({"signature": "v1,@@@@ v1,abc v1, v2,Zm9v"}, 400, "no v1,<base64> signature"),
    ({"signature": "\u2603"}, 400, "no v1,<base64> signature"),
])
def test_bad_signatures_are_refused(change, status, message):
    secret = new_secret()
    args = {"secrets": [secret], "msg_id": "msg_1", "timestamp": str(NOW),
            "signature": reference_signature(secret, "msg_1", NOW, BODY), "body": BODY}
    args.update(change)
    with pytest.raises(SignatureError) as caught:
        verify(args["secrets"], args["msg_id"], args["timestamp"], args["signature"],
               args["body"], NOW)
    assert caught.value.status == status and message in caught.value.message
