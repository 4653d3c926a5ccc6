/*
 * cmd_proposals.h - thiduactl's approval workflow commands (cmd_proposals.c). Each takes
 * the command's own argc/argv (argv[0] is the command name) and returns the exit code.
 */
#ifndef THIDUA_CMD_PROPOSALS_H
#define THIDUA_CMD_PROPOSALS_H

int cmd_propose(int argc, char **argv);		/* propose --programme --year --unit ... [FILE...] */
int cmd_proposals(int argc, char **argv);	/* proposals list|show|submit|import ... */
int cmd_decide(int argc, char **argv);		/* decide approve|return|reject|score ID|--batch N */
int cmd_withdraw(int argc, char **argv);	/* withdraw ID [--reason] */
int cmd_titles(int argc, char **argv);		/* titles list [filters] [--csv] */

#endif
