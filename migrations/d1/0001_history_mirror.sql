CREATE TABLE `mirrored_conversations` (
	`tenant_id` text NOT NULL,
	`conversation_id` text NOT NULL,
	`type` text NOT NULL,
	`title` text,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_seq` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `conversation_id`)
);
--> statement-breakpoint
CREATE TABLE `mirrored_members` (
	`tenant_id` text NOT NULL,
	`conversation_id` text NOT NULL,
	`user_id` text NOT NULL,
	`role` text NOT NULL,
	`joined_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `conversation_id`, `user_id`)
);
--> statement-breakpoint
CREATE INDEX `mirrored_members_user` ON `mirrored_members` (`tenant_id`,`user_id`);--> statement-breakpoint
CREATE TABLE `mirrored_messages` (
	`doc_id` integer PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`conversation_id` text NOT NULL,
	`seq` integer NOT NULL,
	`id` text NOT NULL,
	`sender_id` text NOT NULL,
	`client_id` text NOT NULL,
	`text` text,
	`attachments` text DEFAULT '[]' NOT NULL,
	`reply_to` integer,
	`created_at` integer NOT NULL,
	`edited_at` integer,
	`deleted_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `mirrored_messages_seq` ON `mirrored_messages` (`tenant_id`,`conversation_id`,`seq`);--> statement-breakpoint
CREATE INDEX `mirrored_messages_created` ON `mirrored_messages` (`tenant_id`,`created_at`);