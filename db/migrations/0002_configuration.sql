CREATE TABLE "configuration" (
	"name" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"updated" timestamp with time zone DEFAULT now() NOT NULL
);
