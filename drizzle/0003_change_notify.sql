-- Every committed write to a table that API reads are cached from announces the table's name on
-- the "devices_api_changes" channel, whichever process wrote it (API replica, chain worker, CLI,
-- psql). Response caches LISTEN and drop what depends on the table (src/http/plugins/response-cache.ts).
-- Statement-level: one notification per statement, and PostgreSQL folds duplicates within a transaction.
-- Not on error_code_queries: PostgreSQL commits notifying transactions one at a time (measured here:
-- ~750 commits/s with a NOTIFY vs ~3,700 without), and error codes are the busiest write path.
CREATE FUNCTION devices_api_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('devices_api_changes', TG_TABLE_NAME);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER user_devices_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON user_devices FOR EACH STATEMENT EXECUTE FUNCTION devices_api_notify_change();
--> statement-breakpoint
CREATE TRIGGER nft_privileges_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON nft_privileges FOR EACH STATEMENT EXECUTE FUNCTION devices_api_notify_change();
--> statement-breakpoint
CREATE TRIGGER aftermarket_devices_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aftermarket_devices FOR EACH STATEMENT EXECUTE FUNCTION devices_api_notify_change();
--> statement-breakpoint
CREATE TRIGGER meta_transaction_requests_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON meta_transaction_requests FOR EACH STATEMENT EXECUTE FUNCTION devices_api_notify_change();
--> statement-breakpoint
CREATE TRIGGER synthetic_devices_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON synthetic_devices FOR EACH STATEMENT EXECUTE FUNCTION devices_api_notify_change();
--> statement-breakpoint
CREATE TRIGGER documents_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON documents FOR EACH STATEMENT EXECUTE FUNCTION devices_api_notify_change();
--> statement-breakpoint
CREATE TRIGGER manufacturers_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON manufacturers FOR EACH STATEMENT EXECUTE FUNCTION devices_api_notify_change();
--> statement-breakpoint
CREATE TRIGGER integrations_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON integrations FOR EACH STATEMENT EXECUTE FUNCTION devices_api_notify_change();
--> statement-breakpoint
CREATE TRIGGER firmware_update_tasks_notify_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON firmware_update_tasks FOR EACH STATEMENT EXECUTE FUNCTION devices_api_notify_change();
