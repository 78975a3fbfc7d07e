"""Peewee models for the tables the migrations create."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from peewee import (
    BigAutoField,
    BigIntegerField,
    CharField,
    CompositeKey,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)
from playhouse.postgres_ext import BinaryJSONField, DateTimeTZField

from webapp.db import database

MAX_FUTURE = timedelta(minutes=5)  # how far ahead of the clock an event may be stamped


def digest(secret: str) -> str:
    """How keys and tokens are stored: SHA-256 hex (they are long random strings)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Organization(BaseModel):
    slug = CharField(max_length=64, unique=True)
    name = CharField(max_length=200)
    created_at = DateTimeTZField(default=lambda: datetime.now(UTC))


class Project(BaseModel):
    organization = ForeignKeyField(Organization, backref="projects", on_delete="CASCADE")
    slug = CharField(max_length=64, unique=True)
    name = CharField(max_length=200)
    created_at = DateTimeTZField(default=lambda: datetime.now(UTC))
    time_zone = CharField(max_length=64, default="UTC")  # IANA: day and week boundaries

    @classmethod
    def time_zone_of(cls, project_id: int) -> str:
        return cls.select(cls.time_zone).where(cls.id == project_id).scalar() or "UTC"


class ApiKey(BaseModel):
    """An ingest key or a read token of a project (kind), stored as its SHA-256."""

    project = ForeignKeyField(Project, backref="keys", on_delete="CASCADE")
    kind = CharField(max_length=8)
    name = CharField(max_length=100)
    prefix = CharField(max_length=16)
    key_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeTZField(default=lambda: datetime.now(UTC))
    revoked_at = DateTimeTZField(null=True)

    @classmethod
    def project_id_for(cls, kind: str, secret: str) -> int | None:
        row = (cls.select(cls.project)
               .where(cls.key_hash == digest(secret), cls.kind == kind, cls.revoked_at.is_null())
               .tuples().first())
        return row[0] if row else None


class SigningSecret(BaseModel):
    """A Standard Webhooks secret (whsec_...); several may be live at once for rotation."""

    project = ForeignKeyField(Project, backref="signing_secrets", on_delete="CASCADE")
    name = CharField(max_length=100)
    secret = CharField(max_length=200)
    created_at = DateTimeTZField(default=lambda: datetime.now(UTC))
    revoked_at = DateTimeTZField(null=True)

    @classmethod
    def live_for(cls, project_id: int) -> list[str]:
        query = cls.select(cls.secret).where(cls.project == project_id, cls.revoked_at.is_null())
        return [secret for (secret,) in query.tuples()]


class User(BaseModel):
    email = CharField(max_length=254, unique=True)
    password_hash = CharField(max_length=256)
    created_at = DateTimeTZField(default=lambda: datetime.now(UTC))
    last_login_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "app_user"


class Membership(BaseModel):
    """A user's role in an organization: owner, admin or viewer."""

    user = ForeignKeyField(User, backref="memberships", on_delete="CASCADE")
    organization = ForeignKeyField(Organization, backref="memberships", on_delete="CASCADE")
    role = CharField(max_length=8)

    class Meta:
        primary_key = CompositeKey("user", "organization")


class Event(BaseModel):
    id = BigAutoField()
    project = ForeignKeyField(Project, backref="events", on_delete="CASCADE")
    event_id = CharField(max_length=100)
    event_type = CharField(max_length=64)
    user_id = CharField(max_length=128)
    timestamp = DateTimeTZField()
    metadata = BinaryJSONField(default=dict)
    received_at = DateTimeTZField()

    def to_api(self) -> dict:
        return {
            "id": self.event_id,
            "eventType": self.event_type,
            "userId": self.user_id,
            "timestamp": iso(self.timestamp),
            "metadata": self.metadata,
            "receivedAt": iso(self.received_at),
        }


class EventRollupMinute(BaseModel):
    project = ForeignKeyField(Project, on_delete="CASCADE")
    minute = DateTimeTZField()
    event_type = CharField(max_length=64)
    count = BigIntegerField()

    class Meta:
        primary_key = CompositeKey("project", "minute", "event_type")


class EventRollupHour(BaseModel):
    project = ForeignKeyField(Project, on_delete="CASCADE")
    hour = DateTimeTZField()
    event_type = CharField(max_length=64)
    count = BigIntegerField()

    class Meta:
        primary_key = CompositeKey("project", "hour", "event_type")


class DeadLetter(BaseModel):
    """A batch that failed after its retries: its events, the error, and whether replayed."""

    project = ForeignKeyField(Project, on_delete="CASCADE")
    payload = BinaryJSONField()
    events = IntegerField()
    error = TextField()
    failed_at = DateTimeTZField(default=lambda: datetime.now(UTC))
    replayed_at = DateTimeTZField(null=True)


class SavedReport(BaseModel):
    """A report's definition kept under a name: its kind and its query string."""

    project = ForeignKeyField(Project, backref="saved_reports", on_delete="CASCADE")
    name = CharField(max_length=200)
    kind = CharField(max_length=16)
    query = TextField()
    created_at = DateTimeTZField(default=lambda: datetime.now(UTC))


class ShareLink(BaseModel):
    """A read-only link to a project's dashboard (no saved report) or to one saved report."""

    project = ForeignKeyField(Project, on_delete="CASCADE")
    saved_report = ForeignKeyField(SavedReport, null=True, on_delete="CASCADE")
    token_hash = CharField(max_length=64, unique=True)
    password_hash = CharField(max_length=256, null=True)
    created_at = DateTimeTZField(default=lambda: datetime.now(UTC))
    revoked_at = DateTimeTZField(null=True)


class InvalidRollupMinute(BaseModel):
    project = ForeignKeyField(Project, on_delete="CASCADE")
    minute = DateTimeTZField()
    count = BigIntegerField()

    class Meta:
        primary_key = CompositeKey("project", "minute")


def iso(moment) -> str:
    """ISO-8601 in UTC with millisecond precision and a Z, as the reference writes times."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"

