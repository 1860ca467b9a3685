/* main — the antidote binary: dispatches to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} cmds[] = {
	{"serve", cmd_serve, "authoritative DNS server for zone files"},
	{"inject", cmd_inject, "lab-only emulator of on-path DNS injectors"},
	{"lab", cmd_lab, "replay real incidents end to end (e.g. jan21)"},
	{"probe", cmd_probe, "measure DNS injection"},
	{"watch", cmd_watch, "watch a resolver and raise injection incidents"},
	{"resolve", cmd_resolve, "caching DNS resolver that injection cannot poison"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: antidote COMMAND [OPTIONS]   (antidote COMMAND --help for details)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].summary);
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "antidote: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
