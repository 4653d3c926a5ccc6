/*
 * cmd_download.h - thiduactl's file downloads (cmd_download.c): one file of a receipt or
 * of a proposal's dossier written to a path, checked against its SHA-256.
 */
#ifndef THIDUA_CMD_DOWNLOAD_H
#define THIDUA_CMD_DOWNLOAD_H

int cmd_report(int argc, char **argv);		/* report file RECEIPT INDEX|NAME|SHA256 -o PATH [--force] */
int cmd_proposal(int argc, char **argv);	/* proposal file ID INDEX|NAME|SHA256 -o PATH [--force] */

#endif
