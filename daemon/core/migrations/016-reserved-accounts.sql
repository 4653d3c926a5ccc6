/* 16: reserved for the accounts, which another change adds under this number; empty
 * here so that the held mail below keeps its number 17 */
