CREATE TABLE "idempotency_keys" (
	"account" text NOT NULL,
	"key" text NOT NULL,
	"command" text NOT NULL,
	"params_hash" text NOT NULL,
	"state" text DEFAULT 'Running' NOT NULL,
	"attempt" integer DEFAULT 1 NOT NULL,
	"reply" jsonb,
	"user_id" uuid NOT NULL,
	"claimed" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_account_key_pk" PRIMARY KEY("account","key")
);
--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;