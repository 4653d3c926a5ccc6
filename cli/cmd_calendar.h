/*
 * cmd_calendar.h - thiduactl's calendar commands (cmd_calendar.c). Each takes the
 * command's own argc/argv (argv[0] is the command name) and returns the exit code.
 */
#ifndef THIDUA_CMD_CALENDAR_H
#define THIDUA_CMD_CALENDAR_H

int cmd_calendar(int argc, char **argv);	/* calendar show YYYY-MM */
int cmd_deadlines(int argc, char **argv);	/* deadlines [--report TYPE] [--period P] */

#endif
