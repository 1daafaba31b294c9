CREATE TABLE "template_pool_refs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"template_id" uuid NOT NULL,
	"pool_id" uuid NOT NULL,
	"state" text DEFAULT 'Allocated' NOT NULL,
	"install_path" text NOT NULL,
	"format" text NOT NULL,
	"size" bigint,
	"error_text" text,
	"job_id" text,
	"updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "template_pool_refs_template_id_pool_id_unique" UNIQUE("template_id","pool_id")
);
--> statement-breakpoint
CREATE TABLE "template_store_refs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"template_id" uuid NOT NULL,
	"store_id" uuid NOT NULL,
	"zone_id" uuid,
	"state" text DEFAULT 'Allocated' NOT NULL,
	"install_path" text NOT NULL,
	"size" bigint,
	"download_percent" integer DEFAULT 0 NOT NULL,
	"error_text" text,
	"job_id" text,
	"updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "template_store_refs_template_id_store_id_unique" UNIQUE("template_id","store_id")
);
--> statement-breakpoint
CREATE TABLE "templates" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"display_text" text NOT NULL,
	"format" text NOT NULL,
	"hypervisor" text NOT NULL,
	"url" text NOT NULL,
	"checksum" text,
	"sha256" text,
	"size" bigint,
	"is_public" boolean DEFAULT false NOT NULL,
	"cross_zones" boolean NOT NULL,
	"owner_id" uuid NOT NULL,
	"state" text DEFAULT 'Active' NOT NULL,
	"removed" timestamp with time zone,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "template_pool_refs" ADD CONSTRAINT "template_pool_refs_template_id_templates_id_fk" FOREIGN KEY ("template_id") REFERENCES "public"."templates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "template_pool_refs" ADD CONSTRAINT "template_pool_refs_pool_id_storage_pools_id_fk" FOREIGN KEY ("pool_id") REFERENCES "public"."storage_pools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "template_store_refs" ADD CONSTRAINT "template_store_refs_template_id_templates_id_fk" FOREIGN KEY ("template_id") REFERENCES "public"."templates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "template_store_refs" ADD CONSTRAINT "template_store_refs_store_id_image_stores_id_fk" FOREIGN KEY ("store_id") REFERENCES "public"."image_stores"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "template_store_refs" ADD CONSTRAINT "template_store_refs_zone_id_zones_id_fk" FOREIGN KEY ("zone_id") REFERENCES "public"."zones"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "templates" ADD CONSTRAINT "templates_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;