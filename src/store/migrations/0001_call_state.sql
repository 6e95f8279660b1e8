CREATE TABLE `calls` (
	`source_id` text NOT NULL,
	`uniqueid` text NOT NULL,
	`state` text NOT NULL,
	`updated_at` text NOT NULL,
	PRIMARY KEY(`source_id`, `uniqueid`)
);
