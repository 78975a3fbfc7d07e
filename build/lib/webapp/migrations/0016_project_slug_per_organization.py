"""Project slugs are unique within their organization, not across the install: one tenant's
names neither block nor reveal another's."""

SQL = """
ALTER TABLE project DROP CONSTRAINT project_slug_key;
ALTER TABLE project ADD CONSTRAINT project_organization_slug UNIQUE (organization_id, slug);
CREATE INDEX project_slug ON project (slug);
"""


def up(migrator, db):
    db.execute_sql(SQL)
