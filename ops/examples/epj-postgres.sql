-- An EPJ-like database for trying the database source: the tables and columns are the EPJ's
-- own (Norwegian, as in a real EPJ), not the extract's; the queries in
-- ops/examples/kpr-bridge.toml (source "new-epj") turn them into the extract's columns.
--
-- Written for PostgreSQL; the same statements also load into MariaDB and SQLite, which the
-- project's tests use to check that all three give the same records.
--
--   createdb epj && psql -d epj -f ops/examples/epj-postgres.sql
--
-- Give kpr-bridge a user that can only read:
--   CREATE ROLE kpr_reader LOGIN PASSWORD '…';
--   GRANT SELECT ON ALL TABLES IN SCHEMA public TO kpr_reader;

CREATE TABLE pasient (
    pasient_id      VARCHAR(20)  PRIMARY KEY,
    fodselsnummer   CHAR(11)     NOT NULL,
    fornavn         VARCHAR(100),
    etternavn       VARCHAR(100),
    fodselsaar      INTEGER,
    kjonn           CHAR(1),          -- M or K
    bostedskommune  CHAR(4),          -- text: 0301 keeps its zero
    bydel           CHAR(6),
    bor_alene       SMALLINT          -- 1 alone, 0 with others, NULL not known
);

-- The EPJ's own service types; a mapping file maps them to the national codes.
CREATE TABLE tjenestetype (
    kode            VARCHAR(20)  PRIMARY KEY,
    navn            VARCHAR(100) NOT NULL
);

CREATE TABLE vedtak (
    vedtak_id       VARCHAR(20)  PRIMARY KEY,
    pasient_id      VARCHAR(20)  NOT NULL REFERENCES pasient (pasient_id),
    tjenestekode    VARCHAR(20)  NOT NULL REFERENCES tjenestetype (kode),
    innvilget       SMALLINT     NOT NULL,   -- 1 granted, 0 refused
    vedtaksdato     DATE,
    fra_dato        DATE,
    til_dato        DATE,
    timer_per_uke   NUMERIC(6, 2),
    utforer_orgnr   CHAR(9)
);

-- Temporary stops of a service (opphold), several per decision.
CREATE TABLE opphold (
    vedtak_id       VARCHAR(20)  NOT NULL REFERENCES vedtak (vedtak_id),
    fra_dato        DATE         NOT NULL,
    til_dato        DATE
);

CREATE TABLE funksjonsvurdering (
    pasient_id      VARCHAR(20)  NOT NULL REFERENCES pasient (pasient_id),
    vurdert_dato    DATE,
    variabel        VARCHAR(40)  NOT NULL,
    skaar           SMALLINT     NOT NULL
);

CREATE TABLE diagnose (
    pasient_id      VARCHAR(20)  NOT NULL REFERENCES pasient (pasient_id),
    kodeverk        VARCHAR(10)  NOT NULL,   -- ICPC2 or ICD10
    kode            VARCHAR(10)  NOT NULL,
    registrert      DATE
);

-- Rehabilitation, individual plan, coordinator, doctor's and dental assessment.
CREATE TABLE pasientforhold (
    pasient_id      VARCHAR(20)  NOT NULL REFERENCES pasient (pasient_id),
    forhold         VARCHAR(40)  NOT NULL,
    fra_dato        DATE,
    til_dato        DATE
);

CREATE INDEX opphold_vedtak ON opphold (vedtak_id);
CREATE INDEX vedtak_pasient ON vedtak (pasient_id);
