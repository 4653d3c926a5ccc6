/*
 * cmd_summary.h - thiduactl summary: a report drafted from the daemon's data as a Word
 * document (the district summary, BC-TONGHOP).
 */
#ifndef THIDUA_CMD_SUMMARY_H
#define THIDUA_CMD_SUMMARY_H

int cmd_summary(int argc, char **argv);

#endif
