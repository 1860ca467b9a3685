/* cmd — entry points of the subcommands (argv[0] is the subcommand name).
 * Each returns the process exit status: 0 ok, 1 runtime failure, 2 usage. */
#ifndef ANTIDOTE_CMD_H
#define ANTIDOTE_CMD_H

int cmd_serve(int argc, char **argv);
int cmd_inject(int argc, char **argv);
int cmd_lab(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_resolve(int argc, char **argv);

#endif
