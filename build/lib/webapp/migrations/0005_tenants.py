"""Organizations own projects; a project has many named, revocable keys and signing secrets."""

SQL = """
CREATE TABLE organization (
    id         SERIAL PRIMARY KEY,
    slug       VARCHAR(64)  NOT NULL UNIQUE,
    name       VARCHAR(200) NOT NULL,
    created_at TIMESTAMPTZ  NOT NULL DEFAULT now()
);
INSERT INTO organization (slug, name) SELECT 'default', 'Default organization'
    WHERE EXISTS (SELECT 1 FROM project);
ALTER TABLE project ADD COLUMN organization_id INTEGER REFERENCES organization (id)
    ON DELETE CASCADE;
UPDATE project SET organization_id = (SELECT id FROM organization WHERE slug = 'default');
ALTER TABLE project ALTER COLUMN organization_id SET NOT NULL;
CREATE INDEX project_organization ON project (organization_id);

-- ingest keys and read tokens: shown once, stored as SHA-256
CREATE TABLE api_key (
    id         SERIAL PRIMARY KEY,
    project_id INTEGER      NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    kind       VARCHAR(8)   NOT NULL CHECK (kind IN ('ingest', 'read')),
    name       VARCHAR(100) NOT NULL,
    prefix     VARCHAR(16)  NOT NULL,
    key_hash   CHAR(64)     NOT NULL UNIQUE,
    created_at TIMESTAMPTZ  NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ
);
CREATE INDEX api_key_project ON api_key (project_id);
INSERT INTO api_key (project_id, kind, name, prefix, key_hash)
    SELECT id, 'ingest', 'from environment', '', ingest_key_hash FROM project;
INSERT INTO api_key (project_id, kind, name, prefix, key_hash)
    SELECT id, 'read', 'from environment', '', read_token_hash FROM project;
ALTER TABLE project DROP COLUMN ingest_key_hash, DROP COLUMN read_token_hash;

-- Standard Webhooks secrets (whsec_...): kept as given, since verifying needs the secret itself
CREATE TABLE signing_secret (
    id         SERIAL PRIMARY KEY,
    project_id INTEGER      NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    name       VARCHAR(100) NOT NULL,
    secret     VARCHAR(200) NOT NULL,
    created_at TIMESTAMPTZ  NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ
);
CREATE INDEX signing_secret_project ON signing_secret (project_id);
"""


def up(migrator, db):
    db.execute_sql(SQL)
