/* cmd_audit.h - thiduactl audit list | audit verify */
#ifndef THIDUA_CMD_AUDIT_H
#define THIDUA_CMD_AUDIT_H

int cmd_audit(int argc, char **argv);

#endif
