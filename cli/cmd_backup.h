/* cmd_backup.h - thiduactl backup FILE | backup --dir DIR [--keep N] */
#ifndef THIDUA_CMD_BACKUP_H
#define THIDUA_CMD_BACKUP_H

int cmd_backup(int argc, char **argv);

#endif
