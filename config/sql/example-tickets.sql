-- Herald EXAMPLE: publish every change of an application table through the outbox.
-- Run after config/sql/herald-outbox.sql:
--   psql "$DATABASE_URL" -f config/sql/example-tickets.sql
-- Each insert or update of a ticket publishes {"id","status","title"} with type
-- ticket.updated to the topic tickets.<id> (subscribe to one ticket) and to tickets (all of
-- them). Copy and rename for your own tables.

CREATE TABLE IF NOT EXISTS tickets (
  id         bigserial   PRIMARY KEY,
  title      text        NOT NULL,
  status     text        NOT NULL DEFAULT 'open',
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION tickets_publish() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
  payload jsonb := jsonb_build_object('id', NEW.id, 'status', NEW.status, 'title', NEW.title);
BEGIN
  PERFORM herald_publish('tickets.' || NEW.id, 'ticket.updated', payload);
  PERFORM herald_publish('tickets', 'ticket.updated', payload);
  RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS tickets_publish ON tickets;
CREATE TRIGGER tickets_publish
  AFTER INSERT OR UPDATE ON tickets
  FOR EACH ROW EXECUTE FUNCTION tickets_publish();
