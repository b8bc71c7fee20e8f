-- Prompt templates (core/template.h, core/template_store.h): what to extract from one
-- document type, as versioned data.
--
-- A version is immutable once created: there is no UPDATE of prompt or definition anywhere in
-- the code. `status` is 'active' for the one version served by default (at most one per type,
-- enforced by a partial unique index) and 'inactive' otherwise. `is_default` marks versions
-- loaded from the built-in templates/*.json by `scanline migrate`. `definition` is the whole
-- template document (fields, rule hints, model, ...); `prompt` is kept apart for reading.
CREATE TABLE prompt_templates (
    document_type text        NOT NULL CHECK (document_type ~ '^[a-z][a-z0-9_]{0,63}$'),
    version       integer     NOT NULL CHECK (version >= 1),
    status        text        NOT NULL DEFAULT 'inactive' CHECK (status IN ('active', 'inactive')),
    is_default    boolean     NOT NULL DEFAULT false,
    prompt        text        NOT NULL DEFAULT '',
    definition    jsonb       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text        NOT NULL DEFAULT '',
    PRIMARY KEY (document_type, version)
);

-- One active version per type; also the index of the hot lookup (the active version of a type).
CREATE UNIQUE INDEX prompt_templates_one_active ON prompt_templates (document_type)
    WHERE status = 'active';

-- Activation history, newest last: rollback undoes the newest activation not yet rolled back
-- and makes the one before it active again.
CREATE TABLE prompt_template_activations (
    id            bigserial   PRIMARY KEY,
    document_type text        NOT NULL,
    version       integer     NOT NULL,
    activated_at  timestamptz NOT NULL DEFAULT now(),
    rolled_back   boolean     NOT NULL DEFAULT false,
    FOREIGN KEY (document_type, version) REFERENCES prompt_templates (document_type, version)
);
CREATE INDEX prompt_template_activations_type ON prompt_template_activations (document_type, id);

-- A/B split: a share of the requests that name no version get `candidate_version` instead of
-- the active one. The version used is returned with the result and logged.
CREATE TABLE prompt_template_splits (
    document_type     text    PRIMARY KEY,
    candidate_version integer NOT NULL,
    candidate_percent integer NOT NULL CHECK (candidate_percent BETWEEN 1 AND 99),
    FOREIGN KEY (document_type, candidate_version)
        REFERENCES prompt_templates (document_type, version)
);
