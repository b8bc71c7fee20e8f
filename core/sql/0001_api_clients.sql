-- API clients (core/api_keys.h) and the PostgreSQL side of replay protection (core/replay.h).
--
-- A client signs requests with AWS Signature Version 4 using a key id and a secret. The
-- server needs the secret itself to recompute signatures, so it is stored encrypted
-- (AES-256-GCM under the master key, never in clear): `secret_sealed` is the current secret,
-- `previous_secret_sealed` the one it replaced at the last rotation, still accepted until the
-- next rotation or an explicit drop. Both are sealed blobs: version | nonce | ciphertext | tag.
CREATE TABLE api_clients (
    key_id                 text        PRIMARY KEY CHECK (key_id ~ '^[A-Za-z0-9_-]{1,128}$'),
    name                   text        NOT NULL CHECK (name <> ''),
    secret_sealed          bytea       NOT NULL,
    previous_secret_sealed bytea,
    scopes                 text[]      NOT NULL DEFAULT '{}',
    rate_per_minute        integer     NOT NULL DEFAULT 0 CHECK (rate_per_minute >= 0),  -- 0 = no limit
    daily_quota            integer     NOT NULL DEFAULT 0 CHECK (daily_quota >= 0),      -- 0 = no limit
    status                 text        NOT NULL DEFAULT 'active'
                                       CHECK (status IN ('active', 'revoked')),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    rotated_at             timestamptz,
    revoked_at             timestamptz,
    last_used_at           timestamptz,  -- approximate: written at most once a minute per worker
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);

-- Signatures accepted while Redis was unavailable (Redis holds them otherwise). The key is
-- SHA-256 of the signature; a row is needed only while a request with that signature could
-- still pass the clock-skew check, so rows past expires_at are deleted.
CREATE TABLE request_signatures (
    signature_hash bytea       PRIMARY KEY CHECK (octet_length(signature_hash) = 32),
    expires_at     timestamptz NOT NULL
);
CREATE INDEX request_signatures_expires_at ON request_signatures (expires_at);
