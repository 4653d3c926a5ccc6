/* cmd_keys.h - thiduactl keys generate NAME [--dir DIR] */
#ifndef THIDUA_CMD_KEYS_H
#define THIDUA_CMD_KEYS_H

int cmd_keys(int argc, char **argv);

#endif
