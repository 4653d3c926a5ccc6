/*
 * test_units.c - the unit hierarchy (daemon/units.c) built by hand: effective dates,
 * parents that close and hand their children to a successor, ancestry on a date,
 * look-up, suggestions, code and address checks, and copies of a set.
 *
 * The set below mirrors the 2025 reorganisation: the district D1 closes on 2025-06-30
 * with no successor; communes C1 and C2 merge into N1, C3 splits into N2 and N3, C4
 * became C5 on 2025-01-01 and C5 merges into N1 in July. Hamlets hang below.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"
#include "units.h"
#include "xalloc.h"
#include "t.h"

static int32_t day_of(const char *s)
{
	int32_t d = 0;

	if (date_parse(s, &d)) {
		printf("FAIL bad date in test: %s\n", s);
		t_failed++;
	}
	return d;
}

/* add - declare a unit; from/to NULL for open ends; succ a NULL-terminated list or NULL */
static struct unit *add(struct unitset *set, const char *code, const char *level, const char *parent,
			int attached, const char *from, const char *to, const char *const *succ, int line)
{
	struct unit *u = unit_new(), *ret;

	u->code = xstrdup(code);
	u->name = xasprintf("Đơn vị %s", code);
	u->level_code = xstrdup(level);
	u->parent_code = parent ? xstrdup(parent) : NULL;
	u->kind = xstrdup(attached ? "office" : level);
	u->attached = attached;
	if (from)
		u->active_from = day_of(from);
	if (to)
		u->active_to = day_of(to);
	for (size_t i = 0; succ && succ[i]; i++)
		u->successor_codes = strv_append(u->successor_codes, succ[i]);
	u->origin = xstrdup("hand.cfg");
	u->line = line;
	ret = u;
	unitset_add(set, &u);
	if (u != NULL) {
		printf("FAIL unitset_add does not clear the caller's pointer\n");
		t_failed++;
	}
	return ret;
}

static struct unitset *build(void)
{
	static const char *const to_n1[] = { "N1", NULL };
	static const char *const to_n2n3[] = { "N2", "N3", NULL };
	static const char *const to_c5[] = { "C5", NULL };
	struct unitset *set = unitset_new();
	struct unit *u;

	unitset_add_level(set, "city", "Thành phố", 1);
	unitset_add_level(set, "district", "Quận, huyện", 2);
	unitset_add_level(set, "commune", "Xã, thị trấn", 3);
	unitset_add_level(set, "hamlet", "Ấp, khu phố", 4);
	add(set, "HCM", "city", NULL, 0, NULL, NULL, NULL, 10);
	add(set, "D1", "district", "HCM", 0, "2023-11-09", "2025-06-30", NULL, 11);
	add(set, "D1-GDDT", "district", "D1", 1, "2023-11-09", "2025-06-30", NULL, 12);
	add(set, "C1", "commune", "D1", 0, "2023-11-09", "2025-06-30", to_n1, 13);
	add(set, "C2", "commune", "D1", 0, "2023-11-09", "2025-06-30", to_n1, 14);
	add(set, "C3", "commune", "D1", 0, "2023-11-09", "2025-06-30", to_n2n3, 15);
	add(set, "C4", "commune", "D1", 0, "2023-11-09", "2024-12-31", to_c5, 16);
	add(set, "C5", "commune", "D1", 0, "2025-01-01", "2025-06-30", to_n1, 17);
	add(set, "N1", "commune", "HCM", 0, "2025-07-01", NULL, NULL, 18);
	add(set, "N2", "commune", "HCM", 0, "2025-07-01", NULL, NULL, 19);
	add(set, "N3", "commune", "HCM", 0, "2025-07-01", NULL, NULL, 20);
	add(set, "H1", "hamlet", "C1", 0, NULL, NULL, NULL, 21);
	add(set, "H2", "hamlet", "C3", 0, NULL, NULL, NULL, 22);
	u = add(set, "H4", "hamlet", "C4", 0, "2023-11-09", NULL, NULL, 23);
	u->emails = strv_append(u->emails, "ap4@cuchi.example.org");
	u->chats = strv_append(u->chats, "zalo-ap4");
	u->imported = 1;
	return set;
}

/* check_queries - the hierarchy questions, on a resolved copy or the original */
static void check_queries(const char *tag, const struct unitset *set)
{
	struct unit *hcm = unitset_find(set, "HCM"), *d1 = unitset_find(set, "D1");
	struct unit *gddt = unitset_find(set, "D1-GDDT"), *c1 = unitset_find(set, "C1");
	struct unit *c3 = unitset_find(set, "C3"), *c4 = unitset_find(set, "C4");
	struct unit *c5 = unitset_find(set, "C5"), *n1 = unitset_find(set, "N1");
	struct unit *h1 = unitset_find(set, "H1"), *h2 = unitset_find(set, "H2");
	struct unit *h4 = unitset_find(set, "H4");
	int32_t open = day_of("2023-11-09"), before = open - 1;
	int32_t last = day_of("2025-06-30"), after = last + 1;
	int32_t c4_last = day_of("2024-12-31"), c5_first = c4_last + 1;
	char name[128];

#define N(s) (snprintf(name, sizeof(name), "%s: %s", tag, (s)), name)
	T_CHECK(N("every unit found"), hcm && d1 && gddt && c1 && c3 && c4 && c5 && n1 && h1 && h2 && h4);
	if (!(hcm && d1 && gddt && c1 && c3 && c4 && c5 && n1 && h1 && h2 && h4))
		return;

	/* links made by unitset_resolve */
	T_CHECK(N("levels resolved"), hcm->level == 0 && d1->level == 1 && gddt->level == 1
		&& c1->level == 2 && h1->level == 3);
	T_CHECK(N("parents resolved"), hcm->parent == NULL && d1->parent == hcm && gddt->parent == d1
		&& c1->parent == d1 && h1->parent == c1 && n1->parent == hcm);
	T_CHECK(N("one successor"), c1->nsuccessors == 1 && c1->successors[0] == n1);
	T_CHECK(N("two successors in order"), c3->nsuccessors == 2
		&& c3->successors[0] == unitset_find(set, "N2") && c3->successors[1] == unitset_find(set, "N3"));
	T_CHECK(N("no successors"), d1->nsuccessors == 0 && d1->successors == NULL);

	/* active_from and active_to are both inclusive */
	T_CHECK(N("C1 not active the day before active_from"), !unit_active_at(c1, before));
	T_CHECK(N("C1 active on active_from"), unit_active_at(c1, open));
	T_CHECK(N("C1 active on active_to"), unit_active_at(c1, last));
	T_CHECK(N("C1 not active the day after active_to"), !unit_active_at(c1, after));
	T_CHECK(N("N1 not active before it opens"), !unit_active_at(n1, last));
	T_CHECK(N("N1 active from 2025-07-01 on"), unit_active_at(n1, after) && unit_active_at(n1, INT32_MAX));
	T_CHECK(N("HCM active at every day"), unit_active_at(hcm, INT32_MIN) && unit_active_at(hcm, INT32_MAX)
		&& unit_active_at(hcm, 0) && unit_active_at(hcm, -1));

	/* the parent on a date: a closed parent with one successor hands its children over */
	T_CHECK(N("H1 under C1 while C1 is open"), unit_parent_at(h1, open) == c1);
	T_CHECK(N("H1 under C1 on C1's last day"), unit_parent_at(h1, last) == c1);
	T_CHECK(N("H1 under N1 the day after"), unit_parent_at(h1, after) == n1);
	T_CHECK(N("H1 under N1 years later"), unit_parent_at(h1, day_of("2030-12-31")) == n1);
	T_CHECK(N("H2 stays under C3 (two successors)"), unit_parent_at(h2, after) == c3);
	T_CHECK(N("C1 stays under D1 (closed, no successor)"), unit_parent_at(c1, after) == d1);
	T_CHECK(N("top unit has no parent"), unit_parent_at(hcm, open) == NULL && unit_parent_at(hcm, after) == NULL);
	T_CHECK(N("H4 under C4 on its last day"), unit_parent_at(h4, c4_last) == c4);
	T_CHECK(N("H4 under C5 after C4 closes"), unit_parent_at(h4, c5_first) == c5);
	T_CHECK(N("H4 under C5 on C5's last day"), unit_parent_at(h4, last) == c5);
	T_CHECK(N("H4 under N1 through two closures"), unit_parent_at(h4, after) == n1);
	T_CHECK(N("attached office under D1"), unit_parent_at(gddt, open) == d1);

	/* strict ancestry on a date */
	T_CHECK(N("H1 under C1, D1, HCM on 06-30"), unit_is_under_at(h1, c1, last) && unit_is_under_at(h1, d1, last)
		&& unit_is_under_at(h1, hcm, last));
	T_CHECK(N("H1 not under N1 on 06-30"), !unit_is_under_at(h1, n1, last));
	T_CHECK(N("H1 under N1 and HCM on 07-01"), unit_is_under_at(h1, n1, after) && unit_is_under_at(h1, hcm, after));
	T_CHECK(N("H1 no longer under D1 on 07-01"), !unit_is_under_at(h1, d1, after));
	T_CHECK(N("H1 no longer under C1 on 07-01"), !unit_is_under_at(h1, c1, after));
	T_CHECK(N("H2 still under D1 on 07-01 (split)"), unit_is_under_at(h2, d1, after));
	T_CHECK(N("a unit is not under itself"), !unit_is_under_at(h1, h1, last) && !unit_is_under_at(hcm, hcm, last));
	T_CHECK(N("a parent is not under its child"), !unit_is_under_at(d1, h1, last) && !unit_is_under_at(hcm, d1, last));
	T_CHECK(N("attached office under D1 and HCM"), unit_is_under_at(gddt, d1, open) && unit_is_under_at(gddt, hcm, open));
	T_CHECK(N("siblings are not under each other"), !unit_is_under_at(h1, gddt, open) && !unit_is_under_at(c1, gddt, open));
	T_CHECK(N("H4 under C5 and D1 in 2025-03"), unit_is_under_at(h4, c5, day_of("2025-03-01"))
		&& unit_is_under_at(h4, d1, day_of("2025-03-01")) && !unit_is_under_at(h4, c4, day_of("2025-03-01")));
	T_CHECK(N("unit_is_under_at NULL ancestor"), !unit_is_under_at(h1, NULL, last));
#undef N
}

/* test_set - build, resolve, query */
static void test_set(void)
{
	struct unitset *set = build();
	char **errs = NULL;
	int n;

	T_CHECK("unitset_find before resolve finds nothing", unitset_find(set, "HCM") == NULL);
	n = unitset_resolve(set, &errs);
	T_CHECK("resolve: no problems", n == 0 && errs == NULL);
	for (size_t i = 0; errs && errs[i]; i++)
		printf("    got: %s\n", errs[i]);
	strv_free(&errs);
	T_CHECK("14 units 4 levels", set->nunits == 14 && set->nlevels == 4);
	T_CHECK("level index", unitset_level_index(set, "city") == 0 && unitset_level_index(set, "hamlet") == 3);
	T_CHECK("level index unknown", unitset_level_index(set, "ward") == -1 && unitset_level_index(set, NULL) == -1);
	T_CHECK("find unknown", unitset_find(set, "C9") == NULL && unitset_find(set, "") == NULL);
	T_CHECK("find is case-sensitive", unitset_find(set, "hcm") == NULL);
	T_CHECK("find NULL", unitset_find(set, NULL) == NULL);
	T_CHECK("find keeps declaration order", set->units[0] == unitset_find(set, "HCM")
		&& set->units[13] == unitset_find(set, "H4"));
	check_queries("resolved", set);

	/* resolving again gives the same links */
	n = unitset_resolve(set, &errs);
	T_CHECK("resolve twice: no problems", n == 0 && errs == NULL);
	strv_free(&errs);
	check_queries("resolved twice", set);

	/* suggestions for typos, nothing for nonsense */
	T_STREQ("suggest D1-GDTT", unitset_suggest(set, "D1-GDTT"), "D1-GDDT");
	T_STREQ("suggest lower case", unitset_suggest(set, "d1-gddt"), "D1-GDDT");
	T_STREQ("suggest extra letter", unitset_suggest(set, "HCMM"), "HCM");
	T_CHECK("suggest nonsense", unitset_suggest(set, "QUAN-BINH-THANH-XYZ") == NULL);
	T_CHECK("suggest long nonsense", unitset_suggest(set, "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqq") == NULL);
	{
		struct unitset *empty = unitset_new();

		T_CHECK("suggest in an empty set", unitset_suggest(empty, "C1") == NULL);
		T_CHECK("find in an empty set", unitset_find(empty, "C1") == NULL);
		/* an empty level list is the config loader's to report, with its file and line */
		T_CHECK("empty set resolves without problems", unitset_resolve(empty, &errs) == 0 && strv_len(errs) == 0);
		strv_free(&errs);
		unitset_destroy(&empty);
		T_CHECK("unitset_destroy clears the pointer", empty == NULL);
		unitset_destroy(&empty);
	}

	/* copies: everything declared is kept, links are rebuilt */
	{
		struct unitset *c = unitset_dup(set);
		int same = 1;

		T_CHECK("dup: same counts", c->nunits == set->nunits && c->nlevels == set->nlevels);
		for (size_t i = 0; i < set->nlevels && i < c->nlevels; i++)
			if (strcmp(c->levels[i].code, set->levels[i].code) || strcmp(c->levels[i].name, set->levels[i].name)
			    || c->levels[i].line != set->levels[i].line || c->levels[i].code == set->levels[i].code)
				same = 0;
		T_CHECK("dup: levels copied", same);
		for (size_t i = 0; i < set->nunits && i < c->nunits; i++) {
			const struct unit *a = set->units[i], *b = c->units[i];

			if (a == b || strcmp(a->code, b->code) || strcmp(a->name, b->name) || strcmp(a->kind, b->kind)
			    || strcmp(a->level_code, b->level_code) || !a->parent_code != !b->parent_code
			    || (a->parent_code && strcmp(a->parent_code, b->parent_code))
			    || a->attached != b->attached || a->active_from != b->active_from
			    || a->active_to != b->active_to || strcmp(a->origin, b->origin) || a->line != b->line
			    || a->imported != b->imported || strv_len(a->emails) != strv_len(b->emails)
			    || strv_len(a->chats) != strv_len(b->chats)
			    || strv_len(a->successor_codes) != strv_len(b->successor_codes))
				same = 0;
			for (size_t k = 0; same && a->successor_codes && a->successor_codes[k]; k++)
				if (strcmp(a->successor_codes[k], b->successor_codes[k]))
					same = 0;
		}
		T_CHECK("dup: units copied field by field", same);
		{
			const struct unit *h4 = c->units[13];

			T_CHECK("dup: emails, chats, imported", h4->emails && strcmp(h4->emails[0], "ap4@cuchi.example.org") == 0
				&& h4->chats && strcmp(h4->chats[0], "zalo-ap4") == 0 && h4->imported == 1
				&& h4->emails != set->units[13]->emails);
		}
		T_CHECK("dup: unresolved", c->units[3]->parent == NULL && c->units[3]->level == -1);
		T_CHECK("dup: resolves cleanly", unitset_resolve(c, &errs) == 0 && errs == NULL);
		strv_free(&errs);
		T_CHECK("dup: links stay inside the copy", unitset_find(c, "H1")->parent == unitset_find(c, "C1")
			&& unitset_find(c, "H1")->parent != unitset_find(set, "C1"));
		unitset_destroy(&set);		/* the copy must not depend on the original */
		check_queries("dup", c);

		/* unit_dup alone */
		{
			struct unit *u = unit_dup(unitset_find(c, "C3"));

			T_CHECK("unit_dup: declared fields", strcmp(u->code, "C3") == 0 && strv_len(u->successor_codes) == 2
				&& u->active_to == day_of("2025-06-30") && u->line == 15);
			T_CHECK("unit_dup: links not copied", u->parent == NULL && u->successors == NULL
				&& u->nsuccessors == 0 && u->level == -1);
			unit_destroy(&u);
			T_CHECK("unit_destroy clears the pointer", u == NULL);
			unit_destroy(&u);
		}
		unitset_destroy(&c);
	}
}

/* has - some error contains both fragments */
static int has(char **errs, const char *a, const char *b)
{
	for (size_t i = 0; errs && errs[i]; i++)
		if (strstr(errs[i], a) && (!b || strstr(errs[i], b)))
			return 1;
	return 0;
}

/* test_problems - unitset_resolve reports what is wrong, with origin and line */
static void test_problems(void)
{
	static const char *const ghost[] = { "GHOST", NULL };
	static const char *const self[] = { "S1", NULL };
	struct unitset *set = unitset_new();
	char **errs = NULL;
	struct unit *u;
	int n;

	unitset_add_level(set, "district", "Huyện", 1);
	unitset_add_level(set, "commune", "Xã", 2);
	add(set, "D1", "district", NULL, 0, NULL, NULL, NULL, 10);
	add(set, "C1", "commune", "D2", 0, NULL, NULL, NULL, 11);		/* no such parent */
	add(set, "C1", "commune", "D1", 0, NULL, NULL, NULL, 12);		/* duplicate */
	add(set, "W1", "ward", "D1", 0, NULL, NULL, NULL, 13);			/* no such level */
	add(set, "X1", "district", "D1", 0, NULL, NULL, NULL, 14);		/* not below */
	add(set, "X2", "commune", "D1", 1, NULL, NULL, NULL, 15);		/* attached, other level */
	add(set, "X3", "commune", "D1", 0, "2025-07-01", "2025-06-30", NULL, 16);
	add(set, "X4", "commune", "D1", 0, NULL, NULL, ghost, 17);		/* no active_to, no GHOST */
	add(set, "S1", "commune", "D1", 0, NULL, "2025-06-30", self, 18);
	add(set, "bad code", "commune", "D1", 0, NULL, NULL, NULL, 19);
	u = add(set, "X5", "commune", "D1", 0, NULL, NULL, NULL, 20);
	u->emails = strv_append(u->emails, "not-an-address");
	free(u->name);
	u->name = xstrdup("");
	free(u->kind);
	u->kind = NULL;
	u = add(set, "X6", "district", NULL, 1, NULL, NULL, NULL, 21);	/* attached, no parent */

	n = unitset_resolve(set, &errs);
	T_CHECK("problems: 14 counted and listed", n == 14 && strv_len(errs) == 14);
	if (n != 14)
		for (size_t i = 0; errs && errs[i]; i++)
			printf("    got: %s\n", errs[i]);
	T_CHECK("problems: missing parent with suggestion", has(errs, "hand.cfg:11: unit C1: parent 'D2' does not exist", "did you mean D1?"));
	T_CHECK("problems: duplicate on the second", has(errs, "hand.cfg:12: unit code 'C1' is used twice", "first at hand.cfg:11"));
	T_CHECK("problems: level", has(errs, "hand.cfg:13: unit W1: level 'ward' is not declared", NULL));
	T_CHECK("problems: not below", has(errs, "hand.cfg:14: unit X1: level 'district' is not below", NULL));
	T_CHECK("problems: attached level", has(errs, "hand.cfg:15: unit X2 is attached to D1", "must be 'district'"));
	T_CHECK("problems: dates", has(errs, "hand.cfg:16: unit X3: active_to 2025-06-30 is before active_from 2025-07-01", NULL));
	T_CHECK("problems: successors without active_to", has(errs, "hand.cfg:17: unit X4 has successors but no active_to", NULL));
	T_CHECK("problems: successor missing", has(errs, "hand.cfg:17: unit X4: successor 'GHOST' does not exist", NULL));
	T_CHECK("problems: own successor", has(errs, "hand.cfg:18: unit S1 cannot be its own successor", NULL));
	T_CHECK("problems: bad code", has(errs, "hand.cfg:19: unit code 'bad code' is not valid", NULL));
	T_CHECK("problems: email", has(errs, "hand.cfg:20: unit X5: 'not-an-address' is not an email address", NULL));
	T_CHECK("problems: no name", has(errs, "hand.cfg:20: unit X5 has no name", NULL));
	T_CHECK("problems: no kind", has(errs, "hand.cfg:20: unit X5 has no kind", NULL));
	T_CHECK("problems: attached orphan", has(errs, "hand.cfg:21: unit X6 is attached but has no parent", NULL));
	T_CHECK("problems: a missing successor is not linked", unitset_find(set, "X4")->nsuccessors == 0);
	T_CHECK("problems: nor is the unit itself", unitset_find(set, "S1")->nsuccessors == 0);
	strv_free(&errs);
	unitset_destroy(&set);

	/* a unit with no origin is reported as "-" */
	set = unitset_new();
	unitset_add_level(set, "district", "Huyện", 1);
	u = unit_new();
	u->code = xstrdup("D1");
	u->name = xstrdup("Huyện");
	u->kind = xstrdup("government");
	u->level_code = xstrdup("province");
	u->line = 7;
	unitset_add(set, &u);
	T_CHECK("no origin: one problem", unitset_resolve(set, &errs) == 1);
	T_CHECK("no origin: reported as -:7", errs && strncmp(errs[0], "-:7: ", 5) == 0);
	strv_free(&errs);
	unitset_destroy(&set);
}

/* test_many_units - the hash index with thousands of codes */
static void test_many_units(void)
{
	struct unitset *set = unitset_new();
	char **errs = NULL;
	char code[32];
	int ok = 1;

	unitset_add_level(set, "commune", "Xã", 1);
	unitset_add_level(set, "hamlet", "Ấp", 2);
	for (int i = 0; i < 3000; i++) {
		snprintf(code, sizeof(code), "AP-%04d", i);
		add(set, code, i < 100 ? "commune" : "hamlet", NULL, 0, NULL, NULL, NULL, i + 1);
		if (i >= 100) {
			struct unit *u = set->units[set->nunits - 1];

			snprintf(code, sizeof(code), "AP-%04d", i % 100);
			u->parent_code = xstrdup(code);
		}
	}
	T_CHECK("3000 units resolve", unitset_resolve(set, &errs) == 0 && errs == NULL);
	strv_free(&errs);
	T_CHECK("index is a power of two, at least twice the units", set->nslots >= 6000
		&& (set->nslots & (set->nslots - 1)) == 0);
	for (int i = 0; i < 3000; i++) {
		struct unit *u;

		snprintf(code, sizeof(code), "AP-%04d", i);
		u = unitset_find(set, code);
		if (!u || strcmp(u->code, code) || u->line != i + 1 || (i >= 100 && u->parent != set->units[i % 100]))
			ok = 0;
	}
	T_CHECK("3000 units found", ok);
	T_CHECK("3000 units: unknown code", unitset_find(set, "AP-3000") == NULL);
	T_STREQ("3000 units: suggest", unitset_suggest(set, "AP-29999"), "AP-2999");
	add(set, "AP-0042", "hamlet", "AP-0001", 0, NULL, NULL, NULL, 9999);
	T_CHECK("3001 units: duplicate found", unitset_resolve(set, &errs) == 1
		&& has(errs, "hand.cfg:9999: unit code 'AP-0042' is used twice", "hand.cfg:43"));
	T_CHECK("3001 units: find gives the first", unitset_find(set, "AP-0042") == set->units[42]);
	strv_free(&errs);
	unitset_destroy(&set);
}

/* test_codes - unit codes and email addresses */
static void test_codes(void)
{
	static const char *const good_codes[] = { "HCM", "XA-TANTHONGHOI", "a.b_c-1", "7", "CUCHI-GDDT", "x.", NULL };
	static const char *const bad_codes[] = { "", "-A", ".A", "_A", "A B", "Xã", "A/B", "A@B", " A", "A\t", "A,B", NULL };
	static const char *const good_mail[] = {
		"ubnd@cuchi.example.org", "a.b+c@d.vn", "x_y-z@mail.gov.vn", "A@B.CO", NULL
	};
	static const char *const bad_mail[] = {
		"", "a", "@b.vn", "a@", "a@b", "a@.vn", "a@b.vn.", "a@@b.vn", "a@b@c.vn", "a b@c.vn",
		"<a@b.vn>", "a@b.vn;c@d.vn", "a@b.vn,c@d.vn", "a\t@b.vn", "\"a\"@b.vn", "a@b.vn ", "Ủy ban <a@b.vn>", NULL
	};
	char buf[80];

	for (size_t i = 0; good_codes[i]; i++) {
		snprintf(buf, sizeof(buf), "code valid: %s", good_codes[i]);
		T_CHECK(buf, unit_code_valid(good_codes[i]));
	}
	for (size_t i = 0; bad_codes[i]; i++) {
		snprintf(buf, sizeof(buf), "code invalid: \"%s\"", bad_codes[i]);
		T_CHECK(buf, !unit_code_valid(bad_codes[i]));
	}
	memset(buf, 'A', 64);
	buf[64] = 0;
	T_CHECK("code of 64 bytes valid", unit_code_valid(buf));
	buf[64] = 'A';
	buf[65] = 0;
	T_CHECK("code of 65 bytes invalid", !unit_code_valid(buf));
	for (size_t i = 0; good_mail[i]; i++) {
		snprintf(buf, sizeof(buf), "email valid: %s", good_mail[i]);
		T_CHECK(buf, email_valid(good_mail[i]));
	}
	for (size_t i = 0; bad_mail[i]; i++) {
		snprintf(buf, sizeof(buf), "email invalid: \"%s\"", bad_mail[i]);
		T_CHECK(buf, !email_valid(bad_mail[i]));
	}
}

int main(void)
{
	test_set();
	test_problems();
	test_many_units();
	test_codes();
	return t_failed ? 1 : 0;
}
