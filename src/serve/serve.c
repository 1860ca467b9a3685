/* serve — the `antidote serve` subcommand (placeholder until the server lands). */
#include <stdio.h>

#include "cmd.h"

int cmd_serve(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "antidote serve: not built yet\n");
	return 1;
}
