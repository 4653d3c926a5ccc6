/*
 * test_store.c - the values a transaction writes once at its commit (daemon/store.c):
 * receipt counters and meta values follow each request's savepoint and the transaction,
 * exactly as the rows do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "t.h"

/* committed - the counter as the database holds it, read by a second connection */
static long long committed(const char *path, const char *name)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	long long v = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT value FROM counters WHERE name = ?1", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return v;
}

int main(void)
{
	char dir[] = "/tmp/thidua-store-XXXXXX", path[256], err[256], buf[128];
	struct store *st;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/t.db", dir);
	st = store_open(path, err, sizeof(err));
	T_CHECK("store opens", st != NULL);
	if (!st)
		return 1;

	/* outside a transaction a counter is written at once */
	T_CHECK("first value is 1", store_counter_next(st, "BN-2024") == 1);
	T_CHECK("written at once outside a transaction", committed(path, "BN-2024") == 1);

	/* in one: counted in memory, written at the commit */
	T_CHECK("begin", store_begin(st) == 0);
	T_CHECK("2 in the transaction", store_counter_next(st, "BN-2024") == 2);
	T_CHECK("a second counter starts at 1", store_counter_next(st, "BN-2025") == 1);
	T_CHECK("savepoint", store_savepoint(st) == 0);
	T_CHECK("3 in the request", store_counter_next(st, "BN-2024") == 3);
	T_CHECK("meta kept for the commit", store_meta_later(st, "audit_head", "3:abc") == 0);
	T_CHECK("meta pending", store_meta_pending(st, "audit_head", buf, sizeof(buf)) == 0 && !strcmp(buf, "3:abc"));
	store_rollback_to(st);		/* the request failed: its number is handed out again */
	T_CHECK("meta gone with the request", store_meta_pending(st, "audit_head", buf, sizeof(buf)) == -1);
	T_CHECK("savepoint again", store_savepoint(st) == 0);
	T_CHECK("3 again after the rollback", store_counter_next(st, "BN-2024") == 3);
	T_CHECK("meta later", store_meta_later(st, "audit_head", "4:def") == 0);
	store_release(st);
	T_CHECK("meta read sees the kept value", store_meta_get(st, "audit_head", buf, sizeof(buf)) == 0 && !strcmp(buf, "4:def"));
	T_CHECK("not in the database before the commit", committed(path, "BN-2024") == 1);
	T_CHECK("commit", store_commit(st) == 0);
	T_CHECK("counter written by the commit", committed(path, "BN-2024") == 3);
	T_CHECK("second counter written by the commit", committed(path, "BN-2025") == 1);
	T_CHECK("meta written by the commit", store_meta_get(st, "audit_head", buf, sizeof(buf)) == 0 && !strcmp(buf, "4:def"));
	T_CHECK("nothing pending after the commit", store_meta_pending(st, "audit_head", buf, sizeof(buf)) == -1);

	/* a rolled back transaction hands nothing out for good */
	T_CHECK("begin 2", store_begin(st) == 0);
	T_CHECK("4 in a transaction rolled back", store_counter_next(st, "BN-2024") == 4);
	T_CHECK("meta in a transaction rolled back", store_meta_later(st, "audit_head", "9:zzz") == 0);
	store_rollback(st);
	T_CHECK("4 again after the rollback", store_counter_next(st, "BN-2024") == 4);
	T_CHECK("meta unchanged by the rollback", store_meta_get(st, "audit_head", buf, sizeof(buf)) == 0 && !strcmp(buf, "4:def"));

	/* more keys than are kept in memory: the rest are written at once, still in order */
	T_CHECK("begin 3", store_begin(st) == 0);
	for (int i = 0; i < 8; i++) {
		char name[16];

		snprintf(name, sizeof(name), "C%d", i);
		store_counter_next(st, name);
		T_CHECK("many counters count on", store_counter_next(st, name) == 2);
	}
	T_CHECK("commit 3", store_commit(st) == 0);
	T_CHECK("the last counter too", committed(path, "C7") == 2 && committed(path, "C0") == 2);

	store_close(&st);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		printf("note: %s failed\n", path);
	return 0;
}
