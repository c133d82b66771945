-- The event outbox's own statement now notifies "devices_api_events" (src/events/outbox.ts), with a
-- payload that tells delivery workers whether it created deliveries, so they no longer wake for
-- every event; the trigger of 0005 would notify a second time.
DROP TRIGGER events_notify ON events;
--> statement-breakpoint
DROP FUNCTION devices_api_notify_event();
