/*
 * cmd_principals.h - thiduactl principals invite|passwd|lock|unlock|list (cmd_principals.c)
 */
#ifndef THIDUA_CMD_PRINCIPALS_H
#define THIDUA_CMD_PRINCIPALS_H

int cmd_principals(int argc, char **argv);

#endif
