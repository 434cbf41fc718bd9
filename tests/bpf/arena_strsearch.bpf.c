/* SPDX-License-Identifier: MIT */
/*
 * arena_strsearch-like (spec §6): strings and glob patterns live in arena
 * globals (initialised .addr_space.1 data, i.e. the arena's initial image);
 * strlen and a glob matcher (* ? [set] [!set] [a-z]) run over arena memory.
 * Returns 0 when every case matches its expectation, else 100 + the index of
 * the first failing case; `n_checked` counts the cases run.
 */
#include <bpf_helpers.h>
#include <bpf_experimental.h>
#include <bpf_arena_common.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
} arena SEC(".maps");

int n_checked;

/* "pattern\0string\0expect" triples, expect '1' or '0'; an empty pattern ends the list. */
char __arena_global cases[] =
	"abc\0abc\0" "1"
	"abc\0abd\0" "0"
	"a*c\0abbbbc\0" "1"
	"a*c\0abbbbd\0" "0"
	"*\0\0" "1"
	"?\0\0" "0"
	"??\0ab\0" "1"
	"??\0abc\0" "0"
	"*.c\0main.c\0" "1"
	"*.c\0main.h\0" "0"
	"[abc]x\0bx\0" "1"
	"[abc]x\0dx\0" "0"
	"[!abc]x\0dx\0" "1"
	"[a-f]*\0enter\0" "1"
	"[a-f]*\0zebra\0" "0"
	"a*b*c\0axxbyyc\0" "1"
	"a*b*c\0axxbyy\0" "0"
	"*ab\0aab\0" "1"
	"\\*\0*\0" "1"
	"arena*\0arena_strsearch\0" "1"
	"\0";

/*
 * Loops are bpf_for iterators, whose counters the kernel verifier widens so
 * its walk converges (a can_loop loop with a precise counter exceeds the 1M
 * insn budget here); the functions are global, so with BTF func_info each is
 * verified once on its own with arena-typed arguments.
 */
__noinline int arena_strlen(const char __arena *s __arg_arena)
{
	int n;

	bpf_for(n, 0, 256) {
		if (!s[n])
			return n;
	}
	return 256;
}

/* Iterative glob with single-star backtracking (linear in practice). */
__noinline int glob_match(const char __arena *pat __arg_arena,
				 const char __arena *str __arg_arena)
{
	const char __arena *back_pat = NULL, *back_str = NULL;

	int step;

	bpf_for(step, 0, 4096) {
		char c = *str++;
		char d = *pat++;

		switch (d) {
		case '?':
			if (c == '\0')
				return 0;
			break;
		case '*':
			if (*pat == '\0')
				return 1;
			back_pat = pat;
			back_str = --str;
			break;
		case '[': {
			bool match = false, inverted = (*pat == '!');
			const char __arena *cls = pat + inverted;
			char a = *cls++;

			do {
				char b = a;

				if (a == '\0')
					goto literal;
				if (cls[0] == '-' && cls[1] != ']') {
					b = cls[1];
					if (b == '\0')
						goto literal;
					cls += 2;
				}
				match |= (a <= c && c <= b);
			} while ((a = *cls++) != ']' && can_loop);
			if (match == inverted)
				goto backtrack;
			pat = cls;
			break;
		}
		case '\\':
			d = *pat++;
			/* fallthrough */
		default:
literal:
			if (c == d) {
				if (d == '\0')
					return 1;
				break;
			}
backtrack:
			if (c == '\0' || !back_pat)
				return 0;
			pat = back_pat;
			str = ++back_str;
			break;
		}
	}
	return 0;
}

SEC("syscall")
int arena_strsearch(void *ctx)
{
	const char __arena *p = cases;
	int i;

	bpf_for(i, 0, 64) {
		const char __arena *pat = p, *str;
		int plen = arena_strlen(pat), slen;

		if (plen == 0)
			break;
		str = pat + plen + 1;
		slen = arena_strlen(str);
		if (glob_match(pat, str) != (str[slen + 1] == '1'))
			return 100 + i;
		n_checked++;
		p = str + slen + 2;
	}
	return 0;
}

char _license[] SEC("license") = "GPL";
