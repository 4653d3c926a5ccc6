/*
 * docx.h - a Word document (WordprocessingML, ECMA-376) from a template: a directory
 * holding the package's parts as files ([Content_Types].xml, _rels/.rels, word/...), the
 * office's to replace. Placeholders {{name}} in the .xml and .rels parts are filled with
 * text (XML-escaped here) or, for a block field, with WordprocessingML that takes the
 * place of the whole paragraph (w:p) holding the placeholder. The parts are zipped with
 * libzip into the output file, which replaces any file of that name only when complete.
 */
#ifndef THIDUA_DOCX_H
#define THIDUA_DOCX_H

#include <stddef.h>

#include "buf.h"

struct docx_field {
	const char *name;	/* the placeholder {{name}} */
	const char *value;	/* UTF-8 text; for a block, WordprocessingML */
	int block;		/* 1: value replaces the paragraph holding the placeholder */
};

/* docx_esc - append text with the five XML specials escaped; characters XML 1.0 does not
 * allow (controls other than tab, newline, carriage return) are left out */
void docx_esc(struct buf *b, const char *s);

/* docx_write - fill every part of template_dir and zip them into out. 0, or -1 with the
 * reason in err (which file, which placeholder) and out left as it was */
int docx_write(const char *template_dir, const char *out, const struct docx_field *fields, size_t nfields,
	       char *err, size_t errsize);

#endif
