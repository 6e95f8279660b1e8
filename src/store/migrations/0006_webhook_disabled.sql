ALTER TABLE `webhooks` ADD `disabled` text;--> statement-breakpoint
-- A rule a 410 Gone disabled before this version: its delivery that got the 410 was updated at the same time as
-- the rule, and nothing changed the rule since. Any other disabled rule's reason is not known: left null.
UPDATE `webhooks` SET `disabled` = (
  SELECT json_object('at', `webhooks`.`updated_at`, 'reason', 'gone', 'delivery_id', `gone`.`id`, 'status_code', `gone`.`last_status_code`)
  FROM `deliveries` AS `gone`
  WHERE `gone`.`webhook_id` = `webhooks`.`id` AND `gone`.`last_error` = '410 Gone: webhook disabled' AND `gone`.`updated_at` = `webhooks`.`updated_at`
  ORDER BY `gone`.`id` DESC
  LIMIT 1
) WHERE `enabled` = 0;
