CREATE TABLE "cache_leases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"store_id" uuid NOT NULL,
	"holder" text NOT NULL,
	"key" text NOT NULL,
	"bytes" bigint NOT NULL,
	"state" text DEFAULT 'Active' NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"released" timestamp with time zone,
	CONSTRAINT "cache_leases_holder_key" UNIQUE("store_id","holder","key")
);
--> statement-breakpoint
CREATE TABLE "cache_objects" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"store_id" uuid NOT NULL,
	"key" text NOT NULL,
	"object_type" text NOT NULL,
	"object_id" uuid NOT NULL,
	"size" bigint DEFAULT 0 NOT NULL,
	"state" text DEFAULT 'Creating' NOT NULL,
	"last_used" timestamp with time zone DEFAULT now() NOT NULL,
	"created" timestamp with time zone DEFAULT now() NOT NULL,
	"updated" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cache_objects_store_key" UNIQUE("store_id","key")
);
--> statement-breakpoint
ALTER TABLE "image_stores" ADD COLUMN "pod_id" uuid;--> statement-breakpoint
ALTER TABLE "image_stores" ADD COLUMN "cluster_id" uuid;--> statement-breakpoint
ALTER TABLE "cache_leases" ADD CONSTRAINT "cache_leases_store_id_image_stores_id_fk" FOREIGN KEY ("store_id") REFERENCES "public"."image_stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cache_objects" ADD CONSTRAINT "cache_objects_store_id_image_stores_id_fk" FOREIGN KEY ("store_id") REFERENCES "public"."image_stores"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "cache_leases_state_expires_at_index" ON "cache_leases" USING btree ("state","expires_at");--> statement-breakpoint
CREATE INDEX "cache_objects_object_type_object_id_index" ON "cache_objects" USING btree ("object_type","object_id");--> statement-breakpoint
ALTER TABLE "image_stores" ADD CONSTRAINT "image_stores_pod_id_pods_id_fk" FOREIGN KEY ("pod_id") REFERENCES "public"."pods"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "image_stores" ADD CONSTRAINT "image_stores_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE no action ON UPDATE no action;