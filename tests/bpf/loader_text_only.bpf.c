// SPDX-License-Identifier: MIT
/* No SEC(): plain functions in .text, run with r1 = data, r2 = length. */
static __attribute__((noinline)) int weight(unsigned char c)
{
	return c * 2;
}

int checksum(unsigned char *data, unsigned long len)
{
	int s = 0;

	for (unsigned long i = 0; i < len && i < 64; i++)
		s += weight(data[i]);
	return s;
}
