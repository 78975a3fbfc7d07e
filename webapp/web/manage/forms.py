"""The management pages' forms (Flask-WTF), each field's refusal worded for the page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, StringField
from wtforms.validators import AnyOf, Length, Optional, ValidationError

from webapp.tenancy.accounts import ROLES
from webapp.tenancy.tenants import KEY_PREFIXES


def strip(value):
    return value.strip() if isinstance(value, str) else value


class Form(FlaskForm):
    """A management form. CSRFProtect has checked the token of every POST already (from the
    form or htmx's header), so the form does not check it again."""

    class Meta:
        csrf = False

    def problems(self) -> dict[str, str]:
        """Each field's first refusal, as the templates show them."""
        return {name: messages[0] for name, messages in self.errors.items()}


class OrganizationForm(Form):
    name = StringField(filters=[strip], validators=[Length(
        min=1, max=200, message="Give the organization a name (at most 200 characters).")])


class ProjectForm(Form):
    name = StringField(filters=[strip], validators=[Length(
        min=1, max=200, message="Give the project a name (at most 200 characters).")])


class KeyForm(Form):
    kind = StringField(validators=[AnyOf(list(KEY_PREFIXES),
                                         message="Choose ingest key, read token or "
                                                 "annotation key.")])
    name = StringField(filters=[strip], validators=[Length(
        min=1, max=100, message="Name the key after what uses it (at most 100 characters).")])


class SigningSecretForm(Form):
    name = StringField(filters=[strip, lambda value: (value or "")[:100]])


class TimeZoneForm(Form):
    time_zone = StringField(filters=[strip])  # checked against the zones PostgreSQL knows


class LimitsForm(Form):
    request_limit = StringField(filters=[strip])  # flask-limiter notation, checked by tenants
    event_limit = StringField(filters=[strip])
    key_id = IntegerField(validators=[Optional()])


def email_address(form, field):
    if "@" not in field.data or len(field.data) > 254:
        raise ValidationError("Enter an email address.")


class MemberForm(Form):
    email = StringField(filters=[lambda value: (value or "").strip().lower()],
                        validators=[email_address])
    role = StringField(validators=[AnyOf(list(ROLES), message="Choose owner, admin or viewer.")])
    password = PasswordField(validators=[Length(
        min=12, max=200, message="Give a first password of 12 to 200 characters (used only if "
                                 "the address has no account yet).")])


class PasswordForm(Form):
    current = PasswordField()  # checked against the user's password by the view
    new = PasswordField(validators=[Length(
        min=12, max=200, message="Choose a new password of 12 to 200 characters.")])


ALERT_FIELDS = ("name", "when", "where", "url", "format", "max_per_day", "z", "min_volume")


class AlertForm(Form):
    """A rule's fields as typed; alerts.rules.validate says what is wrong with them."""

    name = StringField()
    when = StringField()
    where = StringField()
    url = StringField()
    format = StringField()
    max_per_day = StringField()
    z = StringField()
    min_volume = StringField()

    def values(self) -> dict[str, str]:
        return {name: self[name].data or "" for name in ALERT_FIELDS}


class AnnotationForm(Form):
    """A note as typed: webapp.annotations.notes says what is wrong with it."""

    text = StringField()
    at = StringField(filters=[strip])  # a datetime-local value: the project's clocks
    until = StringField(filters=[strip])
