DROP INDEX `deliveries_due`;--> statement-breakpoint
CREATE INDEX `deliveries_lease` ON `deliveries` (`status`,`lease_until`,`webhook_id`);--> statement-breakpoint
CREATE INDEX `deliveries_due` ON `deliveries` (`status`,`next_attempt_at`,`webhook_id`);