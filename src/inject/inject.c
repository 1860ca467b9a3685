/* inject — the `antidote inject` subcommand: lab-only emulator of on-path DNS injectors. */
#include <stdio.h>

#include "cmd.h"

int cmd_inject(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "antidote inject: not implemented yet\n");
	return 2;
}
