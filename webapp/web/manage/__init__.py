"""Management pages under /manage (htmx forms that work without JavaScript too), one small
blueprint each: the account page (organizations, password), a project's settings, its keys
and signing secrets, its alert rules, its notes on charts, and an organization's members."""

from __future__ import annotations

from flask import Blueprint

from webapp.web.manage import account, alerts, keys, members, notes, projects

bp = Blueprint("manage", __name__, url_prefix="/manage")
for _child in (account.bp, projects.bp, keys.bp, alerts.bp, notes.bp, members.bp):
    bp.register_blueprint(_child)
