-- One row per request, served, refused or failed; never the image, never a secret.
-- Partitioned by month so old months can be dropped (DROP TABLE ocr_request_logs_YYYYMM);
-- the log shipper creates the partition of each month it writes to. The primary key includes
-- created_at (the partition key) and request_id, which is unique per request: replaying the
-- spool after a crash inserts nothing twice (INSERT ... ON CONFLICT DO NOTHING).
CREATE TABLE ocr_request_logs (
    request_id        text        NOT NULL,
    created_at        timestamptz NOT NULL,
    client_key_id     text,
    method            text        NOT NULL,
    endpoint          text        NOT NULL,
    status            smallint    NOT NULL,
    error_code        text,
    document_type     text,
    template_version  integer,
    latency_ms        real        NOT NULL,
    stage_timings     jsonb,
    confidence        real,
    image_sha256      text,
    image_bytes       bigint,
    image_width       integer,
    image_height      integer,
    peer              text,
    PRIMARY KEY (request_id, created_at)
) PARTITION BY RANGE (created_at);

-- Rows of a month whose partition does not exist yet land here rather than fail.
CREATE TABLE ocr_request_logs_default PARTITION OF ocr_request_logs DEFAULT;

-- The queries an operator makes: by client over time, by document type over time, errors.
CREATE INDEX ocr_request_logs_client_time ON ocr_request_logs (client_key_id, created_at);
CREATE INDEX ocr_request_logs_doctype_time ON ocr_request_logs (document_type, created_at);
CREATE INDEX ocr_request_logs_errors ON ocr_request_logs (created_at, error_code)
    WHERE error_code IS NOT NULL;

-- Creates the partition holding `at` if it is missing. Returns its name.
CREATE FUNCTION scanline_ensure_log_partition(at timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    month_start timestamptz := date_trunc('month', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    name text := 'ocr_request_logs_' || to_char(month_start AT TIME ZONE 'UTC', 'YYYYMM');
BEGIN
    IF to_regclass(name) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE IF NOT EXISTS %I PARTITION OF ocr_request_logs '
            'FOR VALUES FROM (%L) TO (%L)',
            name, month_start, month_start + interval '1 month');
    END IF;
    RETURN name;
END;
$$;
