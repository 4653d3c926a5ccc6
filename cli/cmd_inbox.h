/*
 * cmd_inbox.h - thiduactl inbox list | show (cmd_inbox.c)
 */
#ifndef THIDUA_CMD_INBOX_H
#define THIDUA_CMD_INBOX_H

int cmd_inbox(int argc, char **argv);

#endif
