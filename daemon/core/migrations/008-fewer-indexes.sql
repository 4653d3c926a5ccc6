/* 8: indexes that cost intake more than they served. Each of these put every
 * submission at one of as many places as there are units, so a commit of a hundred
 * submissions wrote some sixty pages more (bench/intake). No query read the audit
 * ones (audit list scans newest first: it wants the latest rows), and no query looks
 * submissions up by obligation (nor are obligations ever deleted, for which the
 * foreign key would need it). */
DROP INDEX audit_unit;
DROP INDEX audit_principal;
DROP INDEX audit_object;
DROP INDEX submissions_obligation;
