CREATE TABLE "image_stores" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"provider" text NOT NULL,
	"role" text DEFAULT 'Image' NOT NULL,
	"scope" text NOT NULL,
	"zone_id" uuid,
	"url" text NOT NULL,
	"protocol" text NOT NULL,
	"settings" jsonb NOT NULL,
	"secrets_ciphertext" text,
	"readonly" boolean DEFAULT false NOT NULL,
	"total_bytes" bigint,
	"used_bytes" bigint,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "image_stores_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "image_stores" ADD CONSTRAINT "image_stores_zone_id_zones_id_fk" FOREIGN KEY ("zone_id") REFERENCES "public"."zones"("id") ON DELETE no action ON UPDATE no action;