-- Full-text index over the mirrored messages (FTS5, external content: the text lives only in
-- mirrored_messages, the index refers to rows by doc_id). Kept in step by triggers, so every
-- writer of mirrored_messages, including a replayed drain, updates it without knowing it exists.
CREATE VIRTUAL TABLE `mirrored_messages_fts` USING fts5(
	`text`,
	content = 'mirrored_messages',
	content_rowid = 'doc_id',
	tokenize = 'unicode61 remove_diacritics 2'
);
--> statement-breakpoint
CREATE TRIGGER `mirrored_messages_fts_insert` AFTER INSERT ON `mirrored_messages`
WHEN new.`text` IS NOT NULL
BEGIN
	INSERT INTO `mirrored_messages_fts` (rowid, `text`) VALUES (new.`doc_id`, new.`text`);
END;
--> statement-breakpoint
CREATE TRIGGER `mirrored_messages_fts_delete` AFTER DELETE ON `mirrored_messages`
WHEN old.`text` IS NOT NULL
BEGIN
	INSERT INTO `mirrored_messages_fts` (`mirrored_messages_fts`, rowid, `text`) VALUES ('delete', old.`doc_id`, old.`text`);
END;
--> statement-breakpoint
CREATE TRIGGER `mirrored_messages_fts_update` AFTER UPDATE OF `text` ON `mirrored_messages`
BEGIN
	INSERT INTO `mirrored_messages_fts` (`mirrored_messages_fts`, rowid, `text`)
		SELECT 'delete', old.`doc_id`, old.`text` WHERE old.`text` IS NOT NULL;
	INSERT INTO `mirrored_messages_fts` (rowid, `text`) SELECT new.`doc_id`, new.`text` WHERE new.`text` IS NOT NULL;
END;
