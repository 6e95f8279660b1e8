ALTER TABLE `webhooks` ADD `transport` text DEFAULT 'http' NOT NULL;--> statement-breakpoint
ALTER TABLE `webhooks` ADD `sqs` text;