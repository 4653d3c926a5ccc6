/*
 * pages.h - the page functions the route table names (web_routes.c); each lives in its
 * own file, page_NAME.c. Add a page: write page_NAME.c, declare it here, add one line to
 * the table.
 */
#ifndef THIDUA_WEB_PAGES_H
#define THIDUA_WEB_PAGES_H

#include "web.h"

/* page_static.c */
void page_static(struct web_req *r, struct web_resp *w);

/* page_login.c */
void page_home(struct web_req *r, struct web_resp *w);
void page_login_form(struct web_req *r, struct web_resp *w);
void page_login(struct web_req *r, struct web_resp *w);
void page_logout(struct web_req *r, struct web_resp *w);
void page_invite_form(struct web_req *r, struct web_resp *w);
void page_invite(struct web_req *r, struct web_resp *w);

/* page_todo.c */
void page_todo(struct web_req *r, struct web_resp *w);

/* page_submit.c */
void page_submit_form(struct web_req *r, struct web_resp *w);
void page_submit(struct web_req *r, struct web_resp *w);

/* page_receipt.c */
void page_receipt(struct web_req *r, struct web_resp *w);
void page_receipts(struct web_req *r, struct web_resp *w);
void page_download(struct web_req *r, struct web_resp *w);

/* page_office.c */
void page_office(struct web_req *r, struct web_resp *w);
void page_office_review(struct web_req *r, struct web_resp *w);
void page_office_csv(struct web_req *r, struct web_resp *w);

#endif
