CREATE TABLE "host_session_slots" (
	"host" text NOT NULL,
	"slot" integer NOT NULL,
	"holder" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "host_session_slots_host_slot_pk" PRIMARY KEY("host","slot")
);
