CREATE TABLE "aftermarket_devices" (
	"token_id" numeric(78, 0) PRIMARY KEY NOT NULL,
	"serial" text,
	"address" text NOT NULL,
	"manufacturer_token_id" numeric(78, 0),
	"manufacturer_name" text,
	"owner_address" text,
	"beneficiary_address" text,
	"user_id" text,
	"vehicle_token_id" numeric(78, 0),
	"claim_request_id" text,
	"pair_request_id" text,
	"unpair_request_id" text,
	"firmware_version" text,
	"last_seen_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "chain_cursor" (
	"id" text PRIMARY KEY NOT NULL,
	"block_number" bigint NOT NULL,
	"block_hash" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "documents" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"user_device_id" text,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"ext" text NOT NULL,
	"content_type" text NOT NULL,
	"size" bigint NOT NULL,
	"sha256" text NOT NULL,
	"blob_key" text NOT NULL,
	"state" text DEFAULT 'ready' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dtc_descriptions" (
	"code" text NOT NULL,
	"make" text DEFAULT '' NOT NULL,
	"description" text NOT NULL,
	"imported_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dtc_descriptions_code_make_pk" PRIMARY KEY("code","make")
);
--> statement-breakpoint
CREATE TABLE "dtc_enrichments" (
	"code" text NOT NULL,
	"make" text DEFAULT '' NOT NULL,
	"text" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dtc_enrichments_code_make_pk" PRIMARY KEY("code","make")
);
--> statement-breakpoint
CREATE TABLE "error_code_queries" (
	"id" text PRIMARY KEY NOT NULL,
	"user_device_id" text NOT NULL,
	"codes" jsonb NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"cleared_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "meta_transaction_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text,
	"kind" text NOT NULL,
	"status" text DEFAULT 'Unsubmitted' NOT NULL,
	"to_address" text NOT NULL,
	"data" text NOT NULL,
	"nonce" bigint,
	"hash" text,
	"block_number" bigint,
	"failure_reason" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"subject" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "nft_privileges" (
	"token_id" numeric(78, 0) NOT NULL,
	"privilege" integer NOT NULL,
	"user_address" text NOT NULL,
	"expiry" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "nft_privileges_token_id_privilege_user_address_pk" PRIMARY KEY("token_id","privilege","user_address")
);
--> statement-breakpoint
CREATE TABLE "user_devices" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"definition_id" text NOT NULL,
	"definition" jsonb NOT NULL,
	"vin" text,
	"vin_confirmed" boolean DEFAULT false NOT NULL,
	"name" text,
	"custom_image_url" text,
	"country_code" text NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"token_id" numeric(78, 0),
	"owner_address" text,
	"mint_request_id" text,
	"burn_request_id" text,
	"opted_in_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "aftermarket_devices" ADD CONSTRAINT "aftermarket_devices_claim_request_id_meta_transaction_requests_id_fk" FOREIGN KEY ("claim_request_id") REFERENCES "public"."meta_transaction_requests"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aftermarket_devices" ADD CONSTRAINT "aftermarket_devices_pair_request_id_meta_transaction_requests_id_fk" FOREIGN KEY ("pair_request_id") REFERENCES "public"."meta_transaction_requests"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aftermarket_devices" ADD CONSTRAINT "aftermarket_devices_unpair_request_id_meta_transaction_requests_id_fk" FOREIGN KEY ("unpair_request_id") REFERENCES "public"."meta_transaction_requests"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "documents" ADD CONSTRAINT "documents_user_device_id_user_devices_id_fk" FOREIGN KEY ("user_device_id") REFERENCES "public"."user_devices"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "error_code_queries" ADD CONSTRAINT "error_code_queries_user_device_id_user_devices_id_fk" FOREIGN KEY ("user_device_id") REFERENCES "public"."user_devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_devices" ADD CONSTRAINT "user_devices_mint_request_id_meta_transaction_requests_id_fk" FOREIGN KEY ("mint_request_id") REFERENCES "public"."meta_transaction_requests"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_devices" ADD CONSTRAINT "user_devices_burn_request_id_meta_transaction_requests_id_fk" FOREIGN KEY ("burn_request_id") REFERENCES "public"."meta_transaction_requests"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "aftermarket_devices_serial_idx" ON "aftermarket_devices" USING btree ("serial");--> statement-breakpoint
CREATE UNIQUE INDEX "aftermarket_devices_address_idx" ON "aftermarket_devices" USING btree ("address");--> statement-breakpoint
CREATE INDEX "aftermarket_devices_owner_idx" ON "aftermarket_devices" USING btree ("owner_address");--> statement-breakpoint
CREATE INDEX "aftermarket_devices_vehicle_idx" ON "aftermarket_devices" USING btree ("vehicle_token_id");--> statement-breakpoint
CREATE INDEX "documents_user_idx" ON "documents" USING btree ("user_id","id");--> statement-breakpoint
CREATE INDEX "documents_device_idx" ON "documents" USING btree ("user_device_id");--> statement-breakpoint
CREATE UNIQUE INDEX "documents_blob_key_idx" ON "documents" USING btree ("blob_key");--> statement-breakpoint
CREATE INDEX "error_code_queries_device_idx" ON "error_code_queries" USING btree ("user_device_id","id");--> statement-breakpoint
CREATE INDEX "meta_tx_status_idx" ON "meta_transaction_requests" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "meta_tx_hash_idx" ON "meta_transaction_requests" USING btree ("hash");--> statement-breakpoint
CREATE INDEX "nft_privileges_user_idx" ON "nft_privileges" USING btree ("user_address","expiry");--> statement-breakpoint
CREATE INDEX "user_devices_user_idx" ON "user_devices" USING btree ("user_id","id");--> statement-breakpoint
CREATE INDEX "user_devices_owner_idx" ON "user_devices" USING btree ("owner_address","id");--> statement-breakpoint
CREATE UNIQUE INDEX "user_devices_token_idx" ON "user_devices" USING btree ("token_id");--> statement-breakpoint
CREATE INDEX "user_devices_vin_idx" ON "user_devices" USING btree ("vin");