CREATE TABLE "snapshot_store_refs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"snapshot_id" uuid NOT NULL,
	"store_id" uuid NOT NULL,
	"state" text DEFAULT 'Allocated' NOT NULL,
	"install_path" text NOT NULL,
	"size" bigint,
	"sha256" text,
	"download_percent" integer DEFAULT 0 NOT NULL,
	"transfer_state" jsonb,
	"error_text" text,
	"job_id" text,
	"updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "snapshot_store_refs_snapshot_id_store_id_unique" UNIQUE("snapshot_id","store_id")
);
--> statement-breakpoint
CREATE TABLE "snapshots" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"volume_id" uuid NOT NULL,
	"zone_id" uuid NOT NULL,
	"format" text NOT NULL,
	"state" text DEFAULT 'Allocated' NOT NULL,
	"size" bigint,
	"physical_size" bigint,
	"primary_handle" text,
	"error_text" text,
	"owner_id" uuid NOT NULL,
	"job_id" text,
	"removed" timestamp with time zone,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "volume_store_refs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"volume_id" uuid NOT NULL,
	"store_id" uuid NOT NULL,
	"state" text DEFAULT 'Allocated' NOT NULL,
	"install_path" text NOT NULL,
	"size" bigint,
	"sha256" text,
	"download_percent" integer DEFAULT 0 NOT NULL,
	"transfer_state" jsonb,
	"error_text" text,
	"job_id" text,
	"updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "volume_store_refs_volume_id_store_id_unique" UNIQUE("volume_id","store_id")
);
--> statement-breakpoint
CREATE TABLE "volumes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"zone_id" uuid NOT NULL,
	"pool_id" uuid,
	"path" text,
	"format" text NOT NULL,
	"size" bigint,
	"state" text DEFAULT 'Allocated' NOT NULL,
	"template_id" uuid,
	"snapshot_id" uuid,
	"url" text,
	"checksum" text,
	"error_text" text,
	"owner_id" uuid NOT NULL,
	"job_id" text,
	"removed" timestamp with time zone,
	"created" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "snapshot_store_refs" ADD CONSTRAINT "snapshot_store_refs_snapshot_id_snapshots_id_fk" FOREIGN KEY ("snapshot_id") REFERENCES "public"."snapshots"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "snapshot_store_refs" ADD CONSTRAINT "snapshot_store_refs_store_id_image_stores_id_fk" FOREIGN KEY ("store_id") REFERENCES "public"."image_stores"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "snapshots" ADD CONSTRAINT "snapshots_volume_id_volumes_id_fk" FOREIGN KEY ("volume_id") REFERENCES "public"."volumes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "snapshots" ADD CONSTRAINT "snapshots_zone_id_zones_id_fk" FOREIGN KEY ("zone_id") REFERENCES "public"."zones"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "snapshots" ADD CONSTRAINT "snapshots_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "volume_store_refs" ADD CONSTRAINT "volume_store_refs_volume_id_volumes_id_fk" FOREIGN KEY ("volume_id") REFERENCES "public"."volumes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "volume_store_refs" ADD CONSTRAINT "volume_store_refs_store_id_image_stores_id_fk" FOREIGN KEY ("store_id") REFERENCES "public"."image_stores"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "volumes" ADD CONSTRAINT "volumes_zone_id_zones_id_fk" FOREIGN KEY ("zone_id") REFERENCES "public"."zones"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "volumes" ADD CONSTRAINT "volumes_pool_id_storage_pools_id_fk" FOREIGN KEY ("pool_id") REFERENCES "public"."storage_pools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "volumes" ADD CONSTRAINT "volumes_template_id_templates_id_fk" FOREIGN KEY ("template_id") REFERENCES "public"."templates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "volumes" ADD CONSTRAINT "volumes_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;