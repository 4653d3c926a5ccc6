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
void page_proposal_download(struct web_req *r, struct web_resp *w);

/* page_office.c */
void page_office(struct web_req *r, struct web_resp *w);
void page_office_review(struct web_req *r, struct web_resp *w);
void page_office_csv(struct web_req *r, struct web_resp *w);

/* page_decide.c */
void page_decide(struct web_req *r, struct web_resp *w);
void page_decide_post(struct web_req *r, struct web_resp *w);

/* page_proposal.c */
void page_proposals(struct web_req *r, struct web_resp *w);
void page_proposal_create(struct web_req *r, struct web_resp *w);
void page_proposal(struct web_req *r, struct web_resp *w);
void page_proposal_submit(struct web_req *r, struct web_resp *w);

/* proposal_view.c: what the proposal pages share */
const char *proposal_state_vi(const char *state);
const char *proposal_action_vi(const char *action);
/* proposal_details - a proposal's path, dossier files, scores and history (proposal.show's) */
void proposal_details(struct buf *b, json_t *p);

/* page_calendar.c */
void page_calendar(struct web_req *r, struct web_resp *w);
void page_reminders(struct web_req *r, struct web_resp *w);

/* page_admin.c */
void page_admin(struct web_req *r, struct web_resp *w);
void page_admin_enable(struct web_req *r, struct web_resp *w);
void page_admin_retry(struct web_req *r, struct web_resp *w);

#endif
