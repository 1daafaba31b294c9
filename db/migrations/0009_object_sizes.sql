ALTER TABLE "templates" ADD COLUMN "virtual_size" bigint;--> statement-breakpoint
ALTER TABLE "volumes" ADD COLUMN "physical_size" bigint;