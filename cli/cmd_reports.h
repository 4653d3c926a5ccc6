/*
 * cmd_reports.h - thiduactl's report intake commands (cmd_reports.c). Each takes the
 * command's own argc/argv (argv[0] is the command name) and returns the exit code.
 */
#ifndef THIDUA_CMD_REPORTS_H
#define THIDUA_CMD_REPORTS_H

int cmd_reports(int argc, char **argv);		/* reports */
int cmd_submit(int argc, char **argv);		/* submit --unit --report --period FILE... */
int cmd_receipt(int argc, char **argv);		/* receipt NUMBER */
int cmd_obligations(int argc, char **argv);	/* obligations [filters] [--csv] */
int cmd_review(int argc, char **argv);		/* review accept|return|waive ... */
int cmd_completeness(int argc, char **argv);	/* completeness --report --period [--csv] */

#endif
