CREATE INDEX `deliveries_status` ON `deliveries` (`status`,`id`);--> statement-breakpoint
CREATE INDEX `events_source` ON `events` (`source_id`,`id`);