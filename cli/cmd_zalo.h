/*
 * cmd_zalo.h - thiduactl zalo authorize: a Zalo Official Account's first authorisation,
 * with PKCE (cmd_zalo.c)
 */
#ifndef THIDUA_CMD_ZALO_H
#define THIDUA_CMD_ZALO_H

int cmd_zalo(int argc, char **argv);

#endif
