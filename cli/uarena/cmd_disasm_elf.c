/* SPDX-License-Identifier: MIT */
/*
 * `uarena disasm OBJ.bpf.o`: one listing per program, as loaded — the
 * loader's relocated instructions (subprograms appended, map references
 * resolved) in the kernel verifier's text, kfunc calls named.
 */
#include <errno.h>
#include <stdio.h>

#include <uarena.h>

#include "cli.h"
#include "disasm.h"

int ua_cli_disasm_elf(const char *path, const uint8_t *buf, size_t len, bool no_opcode)
{
	struct ua_object *obj = NULL;
	char err[512] = "";
	int ret, status = UA_EXIT_OK;

	UA_OPTS(ua_object_open_opts, oo, .err_buf = err, .err_buf_sz = sizeof(err));
	ret = ua_object_open_mem(buf, len, &oo, &obj);
	if (ret) {
		fprintf(stderr, "uarena disasm: %s: %s\n", path, err[0] ? err : ua_strerror(ret));
		return UA_EXIT_FAIL;
	}
	for (struct ua_program *p = ua_object_next_program(obj, NULL); p;
	     p = ua_object_next_program(obj, p)) {
		size_t n = 0;
		const struct ua_insn *insns = ua_program_insns(p, &n);
		char derr[256] = "";
		UA_OPTS(ua_disasm_opts, dopts, .no_opcode = no_opcode, .err_buf = derr,
			.err_buf_sz = sizeof(derr));

		printf("%s%s (section %s, %zu insns):\n", p == ua_object_next_program(obj, NULL) ?
		       "" : "\n", ua_program_name(p), ua_program_section(p), n);
		if (insns && ua_disasm_prog(insns, n, stdout, &dopts)) {
			fprintf(stderr, "uarena disasm: %s: %s: %s\n", path, ua_program_name(p),
				derr);
			status = UA_EXIT_FAIL;
		}
	}
	ua_object_close(obj);
	return status;
}
