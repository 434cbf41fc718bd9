/* SPDX-License-Identifier: MIT */
/* Helpers shared by the `uarena` commands (see cli.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

bool ua_cli_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	/* strtoul alone would take "-1" (as ULONG_MAX), " 5" and "+5". */
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

int ua_cli_read_file(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t cap = 0, got;
	uint8_t *data = NULL;
	int err = 0;

	*buf = NULL;
	*len = 0;
	if (!f)
		return -errno;
	do {
		if (cap - *len < 4096) {
			uint8_t *nd = realloc(data, cap ? cap * 2 : 65536);

			if (!nd) {
				err = -ENOMEM;
				break;
			}
			data = nd;
			cap = cap ? cap * 2 : 65536;
		}
		got = fread(data + *len, 1, cap - *len - 1, f);
		*len += got;
	} while (got);
	if (!err && ferror(f))
		err = -EIO;
	if (f != stdin)
		fclose(f);
	if (err) {
		free(data);
		*len = 0;
		return err;
	}
	data[*len] = '\0';
	*buf = data;
	return 0;
}
