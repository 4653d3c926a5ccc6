/* cmd_audit.h - thiduactl audit list | audit verify | files verify */
#ifndef THIDUA_CMD_AUDIT_H
#define THIDUA_CMD_AUDIT_H

int cmd_audit(int argc, char **argv);
int cmd_files(int argc, char **argv);

#endif
