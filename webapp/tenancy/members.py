"""Who belongs to an organization and with what role: only an owner grants or removes the
owner role, and an organization always keeps at least one owner."""

from __future__ import annotations

from webapp.db import database
from webapp.errors import RoleError
from webapp.models import Membership, Organization, User
from webapp.tenancy.accounts import ROLES, end_sessions


def _locked_role(organization: Organization, user: User | int) -> str | None:
    """The user's role, with the organization locked: changes of its members go one at a time,
    so two owners demoting each other at once cannot leave it with none."""
    Organization.select(Organization.id).where(Organization.id == organization).for_update() \
        .execute()
    row = (Membership.select(Membership.role)
           .where(Membership.organization == organization, Membership.user == user)
           .tuples().first())
    return row[0] if row else None


def _check_owner_change(actor_role: str, organization: Organization, current: str | None,
                        new: str | None) -> None:
    """Refuse an owner change by a non-owner, and the loss of the organization's last owner."""
    if "owner" not in (current, new):
        return
    if actor_role != "owner":
        raise RoleError(403, "Only an owner may grant or remove the owner role.")
    if current == "owner" and new != "owner":
        owners = (Membership.select()
                  .where(Membership.organization == organization, Membership.role == "owner")
                  .count())
        if owners <= 1:
            raise RoleError(400, "The organization's last owner can be neither demoted nor "
                                 "removed: make someone else owner first.")


def set_role(actor_role: str, organization: Organization, user: User, role: str) -> None:
    """Add the user to the organization with `role`, or change the role they have."""
    if role not in ROLES:
        raise RoleError(400, "Choose owner, admin or viewer.")
    with database.atomic():
        _check_owner_change(actor_role, organization, _locked_role(organization, user), role)
        Membership.insert(user=user, organization=organization, role=role).on_conflict(
            conflict_target=[Membership.user, Membership.organization],
            update={Membership.role: role}).execute()


def remove(actor_role: str, organization: Organization, user_id: int) -> None:
    """Take the user out of the organization; their sessions and open streams end."""
    with database.atomic():
        current = _locked_role(organization, user_id)
        if current is None:
            raise RoleError(404, "No such member.")
        _check_owner_change(actor_role, organization, current, None)
        Membership.delete().where(Membership.organization == organization,
                                  Membership.user == user_id).execute()
        end_sessions(user_id)
