-- A multi-municipality deployment (`kpr-bridge run --tenants DIR`): the replicas, the lease
-- by which each municipality is served by one replica at a time, and the fence that keeps a
-- replica that lost its lease from writing. Lives in the schema kpr_cluster; each
-- municipality's state lives in a schema of its own.

-- Every replica that runs, and when it last said so.
CREATE TABLE replicas (
    name TEXT PRIMARY KEY,
    started TIMESTAMPTZ NOT NULL,
    seen TIMESTAMPTZ NOT NULL
);

-- Tokens only grow: a later lease always has a larger token than an earlier one.
CREATE SEQUENCE lease_tokens;

-- One row per municipality (its schema). `holder` and `token` say who serves it; the lease
-- is free once `expires` has passed.
CREATE TABLE leases (
    tenant TEXT PRIMARY KEY,
    municipality TEXT NOT NULL,
    holder TEXT,
    token BIGINT,
    expires TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
    taken TIMESTAMPTZ
);

-- Every lease ever taken, and how it ended.
CREATE TABLE lease_history (
    token BIGINT PRIMARY KEY,
    tenant TEXT NOT NULL,
    holder TEXT NOT NULL,
    taken TIMESTAMPTZ NOT NULL,
    ended TIMESTAMPTZ,
    how TEXT
);

-- One row per transaction that wrote a municipality's state, with the lease it wrote under
-- (NULL: an operator's command, not a replica). `id` grows in the order the fence let the
-- writes through, so tokens never go down along it unless fencing failed.
CREATE TABLE writes (
    id BIGSERIAL PRIMARY KEY,
    txid BIGINT NOT NULL UNIQUE,
    tenant TEXT NOT NULL,
    token BIGINT,
    holder TEXT,
    at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX writes_by_tenant ON writes (tenant, id);

-- The fence, run before every statement that writes a municipality's table. A replica's
-- connections carry `kpr.lease_token`; the statement goes through only while that token is
-- the lease's, and the lease row stays share-locked until the transaction ends, so a
-- takeover (which locks the row FOR UPDATE) waits for writes in progress and every write
-- after it sees the new token.
CREATE FUNCTION fence() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    lease TEXT := current_setting('kpr.lease_token', true);
    replica TEXT := current_setting('kpr.replica', true);
BEGIN
    IF lease IS NULL OR lease = '' THEN
        INSERT INTO kpr_cluster.writes (txid, tenant, token, holder)
        VALUES (txid_current(), TG_TABLE_SCHEMA, NULL, NULL)
        ON CONFLICT (txid) DO NOTHING;
        RETURN NULL;
    END IF;
    PERFORM 1 FROM kpr_cluster.leases
     WHERE tenant = TG_TABLE_SCHEMA AND token = lease::BIGINT
       FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'replica % no longer holds lease % on %: another replica serves it now, and this write was refused',
            replica, lease, TG_TABLE_SCHEMA
            USING ERRCODE = 'KPR01';
    END IF;
    INSERT INTO kpr_cluster.writes (txid, tenant, token, holder)
    VALUES (txid_current(), TG_TABLE_SCHEMA, lease::BIGINT, replica)
    ON CONFLICT (txid) DO NOTHING;
    RETURN NULL;
END
$$;

-- Puts the fence on every table of a municipality's schema (the migrations' own excepted).
CREATE FUNCTION fence_tables(tenant_schema TEXT) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t RECORD;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables
              WHERE schemaname = tenant_schema AND tablename <> '_sqlx_migrations'
    LOOP
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER kpr_fence BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION kpr_cluster.fence()',
            tenant_schema, t.tablename);
    END LOOP;
END
$$;
