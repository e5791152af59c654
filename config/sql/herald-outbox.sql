-- Herald: publishing from PostgreSQL through an outbox table.
--
-- Run once in the database your application writes to (safe to run again):
--   psql "$DATABASE_URL" -f config/sql/herald-outbox.sql
-- then start a notifier with the PostgreSQL outbox ingest pointed at that database
-- (table herald_outbox, channel herald_outbox).
--
-- How it works: herald_publish() inserts a row into herald_outbox and sends
-- NOTIFY herald_outbox with an empty payload. The NOTIFY is only a wake-up: the event
-- travels in the row, so it is as durable as your transaction (rolled back with it,
-- committed with it), may be larger than NOTIFY's 8000-byte limit, and is not lost when a
-- notification is (the notifier also polls). The notifier publishes unpublished rows in id
-- order, marks them published_at, and deletes published rows after a retention period.
-- A row Herald rejects (invalid topic, too large, ...) is marked with published_at and the
-- reason in error, so it never blocks the rows behind it:
--   SELECT id, topic, error FROM herald_outbox WHERE error IS NOT NULL;
--
-- The objects are created in the first schema of your search_path (usually public). If you
-- change the table or channel name, change it in the notifier configuration too.
-- config/sql/example-tickets.sql shows how an application table publishes its changes with
-- a trigger; copy its pattern for your own tables.

CREATE TABLE IF NOT EXISTS herald_outbox (
  id           bigserial   PRIMARY KEY,
  topic        text        NOT NULL,
  type         text        NOT NULL DEFAULT 'message',
  data         jsonb       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz NULL,
  error        text        NULL
);

-- What the notifier scans: the unpublished rows in id order. Stays small, as rows leave it
-- once published.
CREATE INDEX IF NOT EXISTS herald_outbox_pending ON herald_outbox (id) WHERE published_at IS NULL;

-- Tracing (optional; added later, safe on an existing table): the producer's W3C trace context.
-- With tracing on (docs/operations.md), the notifier makes a row's publish span a child of it.
-- A notifier looks the columns up when it connects: restart it after adding them.
ALTER TABLE herald_outbox ADD COLUMN IF NOT EXISTS traceparent text NULL;
ALTER TABLE herald_outbox ADD COLUMN IF NOT EXISTS tracestate text NULL;

-- Publishes one event in the current transaction: delivered after COMMIT, never if it rolls
-- back. data is any JSON value; a JSON string is delivered as plain text. Returns the row id.
-- traceparent and tracestate are the caller's trace context (NULL: none), e.g. from your
-- application's current span:
-- SELECT herald_publish('orders.42', 'created', '{"id": 42}', '00-<trace-id>-<span-id>-01');
CREATE OR REPLACE FUNCTION herald_publish(topic text, type text, data jsonb, traceparent text, tracestate text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
  new_id bigint;
BEGIN
  INSERT INTO herald_outbox (topic, type, data, traceparent, tracestate)
  VALUES (herald_publish.topic, coalesce(herald_publish.type, 'message'), coalesce(herald_publish.data, 'null'::jsonb),
          herald_publish.traceparent, herald_publish.tracestate)
  RETURNING id INTO new_id;
  -- Notifications with the same payload in one transaction are sent once: a bulk insert
  -- wakes the notifier once.
  PERFORM pg_notify('herald_outbox', '');
  RETURN new_id;
END;
$$;

-- The same without a trace context: SELECT herald_publish('orders.42', 'created', '{"id": 42}').
CREATE OR REPLACE FUNCTION herald_publish(topic text, type text, data jsonb)
RETURNS bigint
LANGUAGE sql
AS $$
  SELECT herald_publish(topic, type, data, NULL::text, NULL::text);
$$;
