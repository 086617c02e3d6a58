/**
 * Schema migrations of a Durable Object's SQLite storage: each entry runs once, in order, and the
 * version is kept in a table of its own. Objects call this in their constructor, inside
 * blockConcurrencyWhile. Never edit an entry that has shipped; append one.
 */
export function applyMigrations(sql: SqlStorage, migrations: readonly string[]): void {
	sql.exec("CREATE TABLE IF NOT EXISTS _schema (version INTEGER NOT NULL)");
	const row = sql.exec<{ version: number }>("SELECT version FROM _schema").toArray()[0];
	let version = row?.version ?? 0;
	if (!row) sql.exec("INSERT INTO _schema (version) VALUES (0)");
	for (; version < migrations.length; version++) {
		sql.exec(migrations[version] as string);
		sql.exec("UPDATE _schema SET version = ?", version + 1);
	}
}
