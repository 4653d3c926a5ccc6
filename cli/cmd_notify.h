/*
 * cmd_notify.h - thiduactl's notification commands (cmd_notify.c). Each takes the
 * command's own argc/argv (argv[0] is the command name) and returns the exit code.
 */
#ifndef THIDUA_CMD_NOTIFY_H
#define THIDUA_CMD_NOTIFY_H

int cmd_schedule(int argc, char **argv);	/* schedule --unit CODE */
int cmd_notifications(int argc, char **argv);
int cmd_notify(int argc, char **argv);	/* notify test --channel NAME [--to ADDRESS] */
int cmd_channels(int argc, char **argv);	/* channels list | channels enable NAME */

#endif
