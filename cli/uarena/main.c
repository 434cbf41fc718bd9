/* SPDX-License-Identifier: MIT */
/* `uarena`: command-line front end over the public API (commands added per module). */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fprintf(stderr, "usage: uarena COMMAND [ARGS]\n");
		return argc < 2 ? 2 : 0;
	}
	fprintf(stderr, "uarena: unknown command '%s'\n", argv[1]);
	return 2;
}
