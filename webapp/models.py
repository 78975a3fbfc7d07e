"""Peewee models for the tables the migrations create."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import orjson
from peewee import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    CompositeKey,
    DecimalField,
    FloatField,
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
    """A project; its slug is unique within its organization, and "<org>/<slug>" names it
    across the install (its handle)."""

    organization = ForeignKeyField(Organization, backref="projects", on_delete="CASCADE")
    slug = CharField(max_length=64, index=True)
    name = CharField(max_length=200)
    created_at = DateTimeTZField(default=lambda: datetime.now(UTC))
    retention_days = IntegerField(null=True)  # days of raw events kept; None: RETENTION_DAYS
    # /webhook limits of the project's keys when a key has none (NULL: the configured default)
    request_limit = CharField(max_length=200, null=True)
    event_limit = CharField(max_length=200, null=True)

    @classmethod
    def limits_for(cls, project_id: int) -> tuple[str | None, str | None]:
        row = cls.select(cls.request_limit, cls.event_limit).where(cls.id == project_id).tuples()
        return row.first() or (None, None)

    time_zone = CharField(max_length=64, default="UTC")  # IANA: day and week boundaries

    @classmethod
    def time_zone_of(cls, project_id: int) -> str:
        return cls.select(cls.time_zone).where(cls.id == project_id).scalar() or "UTC"

    class Meta:
        indexes = ((("organization", "slug"), True),)

    @property
    def handle(self) -> str:
        return f"{self.organization.slug}/{self.slug}"


class ApiKey(BaseModel):
    """An ingest key, a read token or an annotation key of a project (kind: ingest, read or
    annotate), stored as its SHA-256."""

    project = ForeignKeyField(Project, backref="keys", on_delete="CASCADE")
    kind = CharField(max_length=8)
    name = CharField(max_length=100)
    prefix = CharField(max_length=16)
    key_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeTZField(default=lambda: datetime.now(UTC))
    revoked_at = DateTimeTZField(null=True)
    request_limit = CharField(max_length=200, null=True)  # an ingest key's own /webhook limits
    event_limit = CharField(max_length=200, null=True)

    @classmethod
    def limits_for(cls, secret: str) -> tuple[str | None, str | None]:
        """An ingest key's (requests, events) limits: its own, else its project's, else None."""
        row = (cls.select(cls.request_limit, cls.event_limit, Project.request_limit,
                          Project.event_limit)
               .join(Project)
               .where(cls.key_hash == digest(secret), cls.kind == "ingest")
               .tuples().first())
        if row is None:
            return None, None
        return row[0] or row[2], row[1] or row[3]

    @classmethod
    def project_id_for(cls, kind: str, secret: str) -> int | None:
        row = cls.live(kind, secret).first()
        return row[0] if row else None

    @classmethod
    def live(cls, kind: str | tuple[str, ...], secret: str):
        """(project id, kind) of the live key of this kind (or of one of these), as a query of
        tuples."""
        kinds = (kind,) if isinstance(kind, str) else kind
        return (cls.select(cls.project, cls.kind)
                .where(cls.key_hash == digest(secret), cls.kind.in_(kinds),
                       cls.revoked_at.is_null())
                .tuples())


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


class UserSession(BaseModel):
    """A dashboard login, known by the SHA-256 of the random id its signed cookie holds."""

    token_hash = CharField(max_length=64, primary_key=True)
    user = ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    created_at = DateTimeTZField(default=lambda: datetime.now(UTC))


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
    event_type = CharField(max_length=200)
    user_id = CharField(max_length=128)
    timestamp = DateTimeTZField()
    metadata = BinaryJSONField(default=dict)
    received_at = DateTimeTZField()

    def to_api(self, raw_metadata: bool = False) -> dict:
        """The API's view of an event. Selected with `metadata_json` (its JSONB as text) and
        `raw_metadata`, the metadata is that text for orjson to pass through as is: numbers of
        any size, exactly, and any depth."""
        text = getattr(self, "metadata_json", None)
        return {
            "id": self.event_id,
            "eventType": self.event_type,
            "userId": self.user_id,
            "timestamp": iso(self.timestamp),
            "metadata": (orjson.Fragment(text) if raw_metadata and text is not None
                         else self.metadata if text is None else json.loads(text)),
            "receivedAt": iso(self.received_at),
        }


class EventRollupMinute(BaseModel):
    project = ForeignKeyField(Project, on_delete="CASCADE")
    minute = DateTimeTZField()
    event_type = CharField(max_length=200)
    count = BigIntegerField()

    class Meta:
        primary_key = CompositeKey("project", "minute", "event_type")


class EventRollupHour(BaseModel):
    project = ForeignKeyField(Project, on_delete="CASCADE")
    hour = DateTimeTZField()
    event_type = CharField(max_length=200)
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


class Annotation(BaseModel):
    """A note on a project at an instant (`ends_at` None) or over [starts_at, ends_at),
    written on a page (by a member), through the API (with an annotation key) or on the
    command line (`source`). Its primary key is (project, id): nothing names it without its
    project."""

    id = AutoField()
    project = ForeignKeyField(Project, backref="annotations", on_delete="CASCADE")
    starts_at = DateTimeTZField()
    ends_at = DateTimeTZField(null=True)
    text = CharField(max_length=200)
    source = CharField(max_length=8)  # page, api or command
    created_by_user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_by_key = ForeignKeyField(ApiKey, null=True, on_delete="SET NULL")
    created_at = DateTimeTZField(default=lambda: datetime.now(UTC))
    updated_at = DateTimeTZField(default=lambda: datetime.now(UTC))


class InvalidRollupMinute(BaseModel):
    project = ForeignKeyField(Project, on_delete="CASCADE")
    minute = DateTimeTZField()
    count = BigIntegerField()

    class Meta:
        primary_key = CompositeKey("project", "minute")


class AlertRule(BaseModel):
    """A project's alert: a threshold on a count in a sliding window, or a spike or drop
    against the same hour of past weeks; or, on one of the project's saved trends
    (`saved_report`), a threshold, spike or drop of one series or of its formula (`series`).
    Delivered to `url`, signed with `secret`."""

    project = ForeignKeyField(Project, backref="alert_rules", on_delete="CASCADE")
    name = CharField(max_length=100)
    kind = CharField(max_length=9)  # threshold, spike or drop
    event_type = CharField(max_length=64, null=True)  # None: every event
    comparator = CharField(max_length=1, null=True)
    threshold = DecimalField(null=True)  # whole for counts; a trend's values may be decimals
    window_minutes = IntegerField(null=True)  # None on a saved trend: its buckets are its own
    # (the foreign key in the schema is (project, saved report): the same project's report)
    saved_report = ForeignKeyField(SavedReport, null=True, backref="alert_rules",
                                   on_delete="CASCADE")
    series = CharField(max_length=7, null=True)  # A-E or "formula", on a saved trend
    problem = CharField(max_length=300, null=True)  # why its trend was not judged last time
    property_key = CharField(max_length=100, null=True)
    property_value = CharField(max_length=200, null=True)
    z_score = FloatField(null=True)
    min_volume = IntegerField(null=True)
    url = CharField(max_length=2000)
    secret = CharField(max_length=200)
    body_format = CharField(max_length=8, default="standard")
    max_per_day = IntegerField(default=10)
    active = BooleanField(default=True)
    state = CharField(max_length=8, default="ok")  # ok or firing
    notified = BooleanField(default=False)  # this firing was sent (not over the daily cap)
    last_value = FloatField(null=True)
    changed_at = DateTimeTZField(null=True)
    created_at = DateTimeTZField(default=lambda: datetime.now(UTC))


class AlertNotice(BaseModel):
    """A rule fired or resolved, and the delivery of that message to the rule's URL."""

    rule = ForeignKeyField(AlertRule, backref="notices", on_delete="CASCADE")
    project = ForeignKeyField(Project, on_delete="CASCADE")
    kind = CharField(max_length=8)  # fired, resolved or test
    value = FloatField()
    message = TextField()
    at = DateTimeTZField(default=lambda: datetime.now(UTC))
    status = CharField(max_length=10, default="pending")  # pending delivered failed suppressed
    attempts = IntegerField(default=0)
    next_try_at = DateTimeTZField(null=True)
    last_code = IntegerField(null=True)
    last_error = TextField(null=True)
    delivered_at = DateTimeTZField(null=True)


def iso(moment) -> str:
    """ISO-8601 in UTC with millisecond precision and a Z, as the reference writes times (the
    year always in four digits: 0005-01-02T03:04:05.678Z)."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return utc.isoformat(timespec="milliseconds")[:23] + "Z"

