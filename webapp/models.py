"""Peewee models for the tables the migrations create."""

from __future__ import annotations

import hashlib
from datetime import UTC

from peewee import (
    BigAutoField,
    BigIntegerField,
    CharField,
    CompositeKey,
    ForeignKeyField,
    Model,
)
from playhouse.postgres_ext import BinaryJSONField, DateTimeTZField

from .db import database


def digest(secret: str) -> str:
    """How keys and tokens are stored: SHA-256 hex (they are long random strings)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Project(BaseModel):
    slug = CharField(max_length=64, unique=True)
    name = CharField(max_length=200)
    ingest_key_hash = CharField(max_length=64, unique=True)
    read_token_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeTZField()

    @classmethod
    def by_ingest_key(cls, key: str) -> Project | None:
        return cls.get_or_none(cls.ingest_key_hash == digest(key))

    @classmethod
    def by_read_token(cls, token: str) -> Project | None:
        return cls.get_or_none(cls.read_token_hash == digest(token))


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

