CREATE SEQUENCE "public"."synthetic_wallet_index" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "chain_blocks" (
	"number" bigint PRIMARY KEY NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "firmware_update_tasks" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"aftermarket_token_id" numeric(78, 0) NOT NULL,
	"serial" text NOT NULL,
	"manufacturer" text NOT NULL,
	"status" text NOT NULL,
	"from_version" text,
	"to_version" text,
	"cloud_update_id" text,
	"failure_reason" text,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "integrations" (
	"token_id" numeric(78, 0) PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "manufacturers" (
	"token_id" numeric(78, 0) PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"owner_address" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "relayer_accounts" (
	"address" text PRIMARY KEY NOT NULL,
	"next_nonce" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "synthetic_devices" (
	"id" text PRIMARY KEY NOT NULL,
	"user_device_id" text,
	"integration_token_id" numeric(78, 0) NOT NULL,
	"vehicle_token_id" numeric(78, 0) NOT NULL,
	"wallet_child_index" integer NOT NULL,
	"address" text NOT NULL,
	"token_id" numeric(78, 0),
	"mint_request_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "meta_transaction_requests" ADD COLUMN "from_address" text;--> statement-breakpoint
ALTER TABLE "meta_transaction_requests" ADD COLUMN "gas_limit" bigint;--> statement-breakpoint
ALTER TABLE "meta_transaction_requests" ADD COLUMN "max_fee_per_gas" numeric(78, 0);--> statement-breakpoint
ALTER TABLE "meta_transaction_requests" ADD COLUMN "max_priority_fee_per_gas" numeric(78, 0);--> statement-breakpoint
ALTER TABLE "meta_transaction_requests" ADD COLUMN "signed_tx" text;--> statement-breakpoint
ALTER TABLE "meta_transaction_requests" ADD COLUMN "block_hash" text;--> statement-breakpoint
ALTER TABLE "synthetic_devices" ADD CONSTRAINT "synthetic_devices_user_device_id_user_devices_id_fk" FOREIGN KEY ("user_device_id") REFERENCES "public"."user_devices"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "synthetic_devices" ADD CONSTRAINT "synthetic_devices_mint_request_id_meta_transaction_requests_id_fk" FOREIGN KEY ("mint_request_id") REFERENCES "public"."meta_transaction_requests"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "firmware_update_tasks_device_idx" ON "firmware_update_tasks" USING btree ("aftermarket_token_id","requested_at");--> statement-breakpoint
CREATE UNIQUE INDEX "manufacturers_name_idx" ON "manufacturers" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "synthetic_devices_address_idx" ON "synthetic_devices" USING btree ("address");--> statement-breakpoint
CREATE UNIQUE INDEX "synthetic_devices_token_idx" ON "synthetic_devices" USING btree ("token_id");--> statement-breakpoint
CREATE INDEX "synthetic_devices_vehicle_idx" ON "synthetic_devices" USING btree ("vehicle_token_id","integration_token_id");