/*
 * docx.c - a Word document from a template directory of WordprocessingML parts (see
 * docx.h): read every part, fill the placeholders, zip with libzip.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

#include "docx.h"
#include "utf8.h"
#include "xalloc.h"

#define PART_MAX (64u << 20)	/* a template part larger than this is not a template */
#define PARTS_MAX 256

struct part {
	char *name;		/* path inside the package, '/'-separated */
	struct buf data;
};

struct parts {
	struct part v[PARTS_MAX];
	size_t n;
};

/* docx_esc - XML text: & < > " ' escaped, characters XML forbids left out */
void docx_esc(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&': BUF_PUT(b, "&amp;"); break;
		case '<': BUF_PUT(b, "&lt;"); break;
		case '>': BUF_PUT(b, "&gt;"); break;
		case '"': BUF_PUT(b, "&quot;"); break;
		case '\'': BUF_PUT(b, "&apos;"); break;
		default:
			if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
				buf_putc(b, (char)c);
		}
	}
}

/* read_part - one file of the template into ps */
static int read_part(struct parts *ps, const char *path, const char *name, char *err, size_t errsize)
{
	FILE *fp;
	struct stat st;
	struct part *p;
	size_t n;

	if (ps->n == PARTS_MAX) {
		snprintf(err, errsize, "the template has more than %d files", PARTS_MAX);
		return -1;
	}
	fp = fopen(path, "rb");
	if (!fp || fstat(fileno(fp), &st)) {
		snprintf(err, errsize, "cannot read the template part %s: %s", path, strerror(errno));
		if (fp)
			fclose(fp);
		return -1;
	}
	if (st.st_size > PART_MAX) {
		snprintf(err, errsize, "the template part %s is larger than 64 MiB", path);
		fclose(fp);
		return -1;
	}
	p = &ps->v[ps->n];
	*p = (struct part){ xstrdup(name), { 0 } };
	buf_grow(&p->data, (size_t)st.st_size);
	n = fread(p->data.p, 1, (size_t)st.st_size, fp);
	p->data.len = n;
	p->data.p[n] = 0;
	if (ferror(fp) || n != (size_t)st.st_size) {
		snprintf(err, errsize, "cannot read the template part %s", path);
		fclose(fp);
		free(p->name);
		free(p->data.p);
		return -1;
	}
	fclose(fp);
	ps->n++;
	return 0;
}

/* read_dir - every regular file under dir (prefix: its path in the package) */
static int read_dir(struct parts *ps, const char *dir, const char *prefix, int depth, char *err, size_t errsize)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (!dp) {
		snprintf(err, errsize, "cannot open the template directory %s: %s", dir, strerror(errno));
		return -1;
	}
	while (!rc && (de = readdir(dp))) {
		char *path, *name;
		struct stat st;

		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		name = xasprintf("%s%s", prefix, de->d_name);
		if (stat(path, &st)) {
			snprintf(err, errsize, "cannot read %s: %s", path, strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			char *sub = xasprintf("%s/", name);

			if (depth >= 8) {
				snprintf(err, errsize, "the template directory %s is nested too deep", path);
				rc = -1;
			} else {
				rc = read_dir(ps, path, sub, depth + 1, err, errsize);
			}
			free(sub);
		} else if (S_ISREG(st.st_mode) && de->d_name[strlen(de->d_name) - 1] != '~') {
			rc = read_part(ps, path, name, err, errsize);
		}
		free(path);
		free(name);
	}
	closedir(dp);
	return rc;
}

/* has_suffix - s ends with suf */
static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && !strcmp(s + n - m, suf);
}

/* para_start - the start of the w:p element open at pos, or NULL */
static const char *para_start(const char *text, const char *pos)
{
	for (const char *q = pos; q > text; q--)
		if (!strncmp(q - 1, "<w:p", 4) && (q[3] == '>' || q[3] == ' ')) {
			const char *close = strstr(q - 1, "</w:p>");

			/* an earlier paragraph that closes before pos does not hold it */
			if (!close || close > pos)
				return q - 1;
			return NULL;
		}
	return NULL;
}

/* fill - the part's text with every placeholder filled, into out */
static int fill(const struct part *p, const struct docx_field *fields, size_t nfields, struct buf *out,
		char *err, size_t errsize)
{
	const char *s = p->data.p, *end = s + p->data.len;

	while (s < end) {
		const char *open = strstr(s, "{{"), *comment = strstr(s, "<!--"), *close;
		const struct docx_field *f = NULL;
		size_t n;

		if (comment && (!open || comment < open)) {	/* comments are copied as they are */
			const char *ce = strstr(comment, "-->");

			ce = ce ? ce + 3 : end;
			buf_put(out, s, (size_t)(ce - s));
			s = ce;
			continue;
		}
		if (!open) {
			buf_put(out, s, (size_t)(end - s));
			break;
		}
		close = strstr(open + 2, "}}");
		if (!close) {
			snprintf(err, errsize, "template part %s: \"{{\" without \"}}\"", p->name);
			return -1;
		}
		n = (size_t)(close - open - 2);
		for (size_t i = 0; i < nfields; i++)
			if (strlen(fields[i].name) == n && !strncmp(fields[i].name, open + 2, n))
				f = &fields[i];
		if (!f) {
			struct buf known = { 0 };

			for (size_t i = 0; i < nfields; i++)
				buf_printf(&known, "%s{{%s}}", i ? " " : "", fields[i].name);
			snprintf(err, errsize, "template part %s: unknown placeholder {{%.*s}}; the known ones are %s", p->name,
				 (int)(n > 60 ? 60 : n), open + 2, known.p ? known.p : "none");
			free(known.p);
			return -1;
		}
		if (!f->block) {
			buf_put(out, s, (size_t)(open - s));
			docx_esc(out, f->value);
			s = close + 2;
			continue;
		}
		/* a block: the paragraph around it goes, the value takes its place */
		{
			const char *ps = para_start(p->data.p, open), *pe = strstr(close, "</w:p>");

			if (!ps || !pe || ps < s) {
				snprintf(err, errsize, "template part %s: {{%s}} must stand in a paragraph (w:p) of its own",
					 p->name, f->name);
				return -1;
			}
			buf_put(out, s, (size_t)(ps - s));
			buf_put(out, f->value, strlen(f->value));
			s = pe + strlen("</w:p>");
		}
	}
	return 0;
}

/* zip_parts - the filled parts into a new zip at out */
static int zip_parts(const char *out, struct buf *filled, const struct parts *ps, char *err, size_t errsize)
{
	int zerr = 0;
	zip_t *za = zip_open(out, ZIP_CREATE | ZIP_TRUNCATE, &zerr);

	if (!za) {
		zip_error_t ze;

		zip_error_init_with_code(&ze, zerr);
		snprintf(err, errsize, "cannot write %s: %s", out, zip_error_strerror(&ze));
		zip_error_fini(&ze);
		return -1;
	}
	/* [Content_Types].xml first: some readers look for it there */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < ps->n; i++) {
			int first = !strcmp(ps->v[i].name, "[Content_Types].xml");
			zip_source_t *src;

			if (first != (pass == 0))
				continue;
			src = zip_source_buffer(za, filled[i].p, filled[i].len, 0);
			if (!src || zip_file_add(za, ps->v[i].name, src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE) < 0) {
				snprintf(err, errsize, "cannot add %s to %s: %s", ps->v[i].name, out, zip_strerror(za));
				zip_source_free(src);
				zip_discard(za);
				return -1;
			}
		}
	if (zip_close(za) < 0) {
		snprintf(err, errsize, "cannot write %s: %s", out, zip_strerror(za));
		zip_discard(za);
		return -1;
	}
	return 0;
}

/* docx_write - template parts, filled, zipped */
int docx_write(const char *template_dir, const char *out, const struct docx_field *fields, size_t nfields,
	       char *err, size_t errsize)
{
	struct parts *ps = xcalloc(1, sizeof(*ps));
	struct buf *filled = NULL;
	int rc = -1, main_part = 0;

	if (read_dir(ps, template_dir, "", 0, err, errsize))
		goto out;
	filled = xcalloc(ps->n + 1, sizeof(*filled));
	for (size_t i = 0; i < ps->n; i++) {
		const struct part *p = &ps->v[i];

		main_part |= !strcmp(p->name, "word/document.xml");
		if (!has_suffix(p->name, ".xml") && !has_suffix(p->name, ".rels")) {
			buf_put(&filled[i], p->data.p, p->data.len);	/* an image, a font: as it is */
			continue;
		}
		if (!utf8_valid(p->data.p, p->data.len)) {
			snprintf(err, errsize, "template part %s/%s is not UTF-8 text (save it as UTF-8)", template_dir, p->name);
			goto out;
		}
		if (fill(p, fields, nfields, &filled[i], err, errsize))
			goto out;
		if (!filled[i].p)
			BUF_PUT(&filled[i], "");
	}
	if (!main_part || !ps->n) {
		snprintf(err, errsize, "%s is not a document template: it has no word/document.xml", template_dir);
		goto out;
	}
	rc = zip_parts(out, filled, ps, err, errsize);
out:
	for (size_t i = 0; i < ps->n; i++) {
		free(ps->v[i].name);
		free(ps->v[i].data.p);
		if (filled)
			free(filled[i].p);
	}
	free(filled);
	free(ps);
	return rc;
}
