/*
 * migrations.h - the schema migrations, daemon/core/migrations/NNN-name.sql, turned into C
 * by the Makefile (build/.../daemon/core/migrations.c): store_migrations[i] brings the
 * schema from version i to i+1. Never edit a file that has shipped; add the next number.
 */
#ifndef THIDUA_MIGRATIONS_H
#define THIDUA_MIGRATIONS_H

extern const char *const store_migrations[];
extern const int store_nmigrations;

#endif
