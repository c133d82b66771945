-- Every committed insert into the event outbox announces itself on "devices_api_events", whichever
-- process wrote it (API replica, chain worker), so open event streams (GET /v1/events/stream) and
-- delivery workers wake at once instead of polling (src/events/stream.ts). Statement-level: one
-- notification per statement (a batch of error-code events is one), folded within a transaction.
CREATE FUNCTION devices_api_notify_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('devices_api_events', '');
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION devices_api_notify_event();
