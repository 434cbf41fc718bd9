/* SPDX-License-Identifier: MIT */
/*
 * The interpreter loop, written once and included twice by interp.c: with
 * vmdispatch/vmcase/vmbreak expanding to a switch (INTERP_THREADED 0) and to
 * computed gotos through a per-function label table (INTERP_THREADED 1),
 * Lua's lvm.c/ljumptab.h pattern. INTERP_FN names the function.
 *
 * Every insn is charged against the budget before it runs. Slow or rare
 * paths (faults, calls, atomics) leave the loop through a named label or an
 * out-of-line function in interp.c; the loop itself only moves values.
 */

#if INTERP_THREADED
#define vmdispatch(o) goto *jump_table[(o)];
#define vmcase(name) L_##name:
#define vmbreak                                                               \
	do {                                                                  \
		if (unlikely(--budget == 0))                                  \
			goto out_budget;                                      \
		goto *jump_table[pc->op];                                     \
	} while (0)
#else
#define vmdispatch(o) switch (o)
#define vmcase(name) case OP_##name:
#define vmbreak                                                               \
	do {                                                                  \
		if (unlikely(--budget == 0))                                  \
			goto out_budget;                                      \
		goto next;                                                    \
	} while (0)
#endif

#define DST reg[pc->dst]
#define SRC reg[pc->src]
#define IMM pc->imm
#define NEXT() do { pc++; vmbreak; } while (0)
#define JUMP_IF(cond) do { pc = (cond) ? code + pc->off : pc + 1; vmbreak; } while (0)

#define ALU64_PAIR(name, expr_k, expr_x)                                      \
	vmcase(name##64_K) { DST = (expr_k); NEXT(); }                        \
	vmcase(name##64_X) { DST = (expr_x); NEXT(); }
#define ALU32_PAIR(name, expr_k, expr_x)                                      \
	vmcase(name##32_K) { DST = (uint32_t)(expr_k); NEXT(); }              \
	vmcase(name##32_X) { DST = (uint32_t)(expr_x); NEXT(); }
#define JMP_PAIR(name, W, T, op)                                              \
	vmcase(name##W##_K) JUMP_IF((T)DST op (T)IMM);                        \
	vmcase(name##W##_X) JUMP_IF((T)DST op (T)SRC);
#define JSET_PAIR(W, T)                                                       \
	vmcase(JSET##W##_K) JUMP_IF(((T)DST & (T)IMM) != 0);                  \
	vmcase(JSET##W##_X) JUMP_IF(((T)DST & (T)SRC) != 0);
#define JMP_ALL(W, U, S)                                                      \
	JMP_PAIR(JEQ, W, U, ==) JMP_PAIR(JNE, W, U, !=)                       \
	JMP_PAIR(JGT, W, U, >) JMP_PAIR(JGE, W, U, >=)                        \
	JMP_PAIR(JLT, W, U, <) JMP_PAIR(JLE, W, U, <=)                        \
	JMP_PAIR(JSGT, W, S, >) JMP_PAIR(JSGE, W, S, >=)                      \
	JMP_PAIR(JSLT, W, S, <) JMP_PAIR(JSLE, W, S, <=) JSET_PAIR(W, U)

/* Loads/stores: arena pointers go through the probe path, the rest is checked. */
#define LOAD(size, T, conv)                                                   \
	{                                                                     \
		uint64_t base_ = SRC;                                         \
		if (has_arena && (base_ >> 32) == 0) {                        \
			if (unlikely(!arena_base))                            \
				goto out_no_arena;                            \
			DST = (uint64_t)(conv)(T)ua_probe_load(               \
				ua_arena_prog_addr(arena_base, base_, (int16_t)pc->off), size); \
		} else {                                                      \
			uint64_t a_ = base_ + (int64_t)pc->off;               \
			T v_;                                                 \
			if (unlikely(!mem_ok(env, a_, size, false)))         \
				goto out_fault;                               \
			memcpy(&v_, (const void *)(uintptr_t)a_, size);       \
			DST = (uint64_t)(conv)v_;                             \
		}                                                             \
		NEXT();                                                       \
	}
#define STORE(size, T, value)                                                 \
	{                                                                     \
		uint64_t base_ = DST;                                         \
		T v_ = (T)(value);                                            \
		if (has_arena && (base_ >> 32) == 0) {                        \
			if (unlikely(!arena_base))                            \
				goto out_no_arena;                            \
			ua_probe_store(ua_arena_prog_addr(arena_base, base_,  \
					(int16_t)pc->off), (uint64_t)v_, size); \
		} else {                                                      \
			uint64_t a_ = base_ + (int64_t)pc->off;               \
			if (unlikely(!mem_ok(env, a_, size, true)))          \
				goto out_fault;                               \
			memcpy((void *)(uintptr_t)a_, &v_, size);             \
		}                                                             \
		NEXT();                                                       \
	}

static int INTERP_FN(const struct ua_prog *p, struct ua_exec *ex,
		     const struct interp_insn *start, uint64_t *reg, struct mem_env *env,
		     uint64_t *r0)
{
#if INTERP_THREADED
	static const void *const jump_table[OP_COUNT] = {
#define INTERP_LABEL(name) [OP_##name] = &&L_##name,
		INTERP_OPS(INTERP_LABEL)
#undef INTERP_LABEL
	};
#endif
	const struct interp_insn *const code = p->insns;
	const struct interp_insn *pc = start;
	const bool has_arena = p->has_arena;
	uint8_t *const arena_base = ex->arena_base;
	uint64_t budget = ex->insn_budget ? ex->insn_budget : UA_DEFAULT_INSN_BUDGET;
	uint64_t loops_left = UA_MAY_GOTO_BUDGET;
	struct call_frame frames[UA_MAX_CALL_DEPTH];
	unsigned depth = 0;
	int ret;

#if !INTERP_THREADED
next:
#endif
	vmdispatch(pc->op) {
	ALU64_PAIR(ADD, DST + IMM, DST + SRC)
	ALU64_PAIR(SUB, DST - IMM, DST - SRC)
	ALU64_PAIR(MUL, DST * IMM, DST * SRC)
	ALU64_PAIR(DIV, DST / (uint64_t)IMM, SRC ? DST / SRC : 0)
	ALU64_PAIR(SDIV, sdiv64(DST, IMM), sdiv64(DST, SRC))
	ALU64_PAIR(MOD, DST % (uint64_t)IMM, SRC ? DST % SRC : DST)
	ALU64_PAIR(SMOD, smod64(DST, IMM), smod64(DST, SRC))
	ALU64_PAIR(OR, DST | IMM, DST | SRC)
	ALU64_PAIR(AND, DST & IMM, DST & SRC)
	ALU64_PAIR(LSH, DST << IMM, DST << (SRC & 63))
	ALU64_PAIR(RSH, DST >> IMM, DST >> (SRC & 63))
	ALU64_PAIR(ARSH, (uint64_t)((int64_t)DST >> IMM), (uint64_t)((int64_t)DST >> (SRC & 63)))
	ALU64_PAIR(XOR, DST ^ IMM, DST ^ SRC)
	ALU64_PAIR(MOV, (uint64_t)IMM, SRC)
	vmcase(MOVSX8_64) { DST = (uint64_t)(int64_t)(int8_t)SRC; NEXT(); }
	vmcase(MOVSX16_64) { DST = (uint64_t)(int64_t)(int16_t)SRC; NEXT(); }
	vmcase(MOVSX32_64) { DST = (uint64_t)(int64_t)(int32_t)SRC; NEXT(); }
	vmcase(NEG64) { DST = -DST; NEXT(); }

	ALU32_PAIR(ADD, (uint32_t)DST + (uint32_t)IMM, (uint32_t)DST + (uint32_t)SRC)
	ALU32_PAIR(SUB, (uint32_t)DST - (uint32_t)IMM, (uint32_t)DST - (uint32_t)SRC)
	ALU32_PAIR(MUL, (uint32_t)DST * (uint32_t)IMM, (uint32_t)DST * (uint32_t)SRC)
	ALU32_PAIR(DIV, (uint32_t)DST / (uint32_t)IMM,
		   (uint32_t)SRC ? (uint32_t)DST / (uint32_t)SRC : 0)
	ALU32_PAIR(SDIV, sdiv32(DST, IMM), sdiv32(DST, SRC))
	ALU32_PAIR(MOD, (uint32_t)DST % (uint32_t)IMM,
		   (uint32_t)SRC ? (uint32_t)DST % (uint32_t)SRC : (uint32_t)DST)
	ALU32_PAIR(SMOD, smod32(DST, IMM), smod32(DST, SRC))
	ALU32_PAIR(OR, DST | IMM, DST | SRC)
	ALU32_PAIR(AND, DST & IMM, DST & SRC)
	ALU32_PAIR(LSH, (uint32_t)DST << IMM, (uint32_t)DST << (SRC & 31))
	ALU32_PAIR(RSH, (uint32_t)DST >> IMM, (uint32_t)DST >> (SRC & 31))
	ALU32_PAIR(ARSH, (int32_t)DST >> IMM, (int32_t)DST >> (SRC & 31))
	ALU32_PAIR(XOR, DST ^ IMM, DST ^ SRC)
	ALU32_PAIR(MOV, IMM, SRC)
	vmcase(MOVSX8_32) { DST = (uint32_t)(int32_t)(int8_t)SRC; NEXT(); }
	vmcase(MOVSX16_32) { DST = (uint32_t)(int32_t)(int16_t)SRC; NEXT(); }
	vmcase(NEG32) { DST = (uint32_t)-(uint32_t)DST; NEXT(); }

	vmcase(LE16) { DST = (uint16_t)DST; NEXT(); }
	vmcase(LE32) { DST = (uint32_t)DST; NEXT(); }
	vmcase(LE64) { NEXT(); }
	vmcase(BE16)
	vmcase(BSWAP16) { DST = __builtin_bswap16((uint16_t)DST); NEXT(); }
	vmcase(BE32)
	vmcase(BSWAP32) { DST = __builtin_bswap32((uint32_t)DST); NEXT(); }
	vmcase(BE64)
	vmcase(BSWAP64) { DST = __builtin_bswap64(DST); NEXT(); }

	vmcase(CAST_KERN) { DST = (uint32_t)SRC; NEXT(); }
	vmcase(CAST_USER) {
		if (unlikely(!ex->arena))
			goto out_no_arena;
		DST = ua_arena_cast_user(ex->arena, SRC);
		NEXT();
	}
	vmcase(LD_IMM64) { DST = pc->u64; pc += 2; vmbreak; }

	vmcase(LDX_B) LOAD(1, uint8_t, uint64_t)
	vmcase(LDX_H) LOAD(2, uint16_t, uint64_t)
	vmcase(LDX_W) LOAD(4, uint32_t, uint64_t)
	vmcase(LDX_DW) LOAD(8, uint64_t, uint64_t)
	vmcase(LDXS_B) LOAD(1, int8_t, int64_t)
	vmcase(LDXS_H) LOAD(2, int16_t, int64_t)
	vmcase(LDXS_W) LOAD(4, int32_t, int64_t)
	vmcase(ST_B) STORE(1, uint8_t, IMM)
	vmcase(ST_H) STORE(2, uint16_t, IMM)
	vmcase(ST_W) STORE(4, uint32_t, IMM)
	vmcase(ST_DW) STORE(8, uint64_t, IMM)
	vmcase(STX_B) STORE(1, uint8_t, SRC)
	vmcase(STX_H) STORE(2, uint16_t, SRC)
	vmcase(STX_W) STORE(4, uint32_t, SRC)
	vmcase(STX_DW) STORE(8, uint64_t, SRC)
	vmcase(ATOMIC) {
		ret = run_atomic(ex, env, has_arena, pc, reg, (size_t)(pc - code));
		if (unlikely(ret))
			return ret;
		NEXT();
	}

	vmcase(JA) { pc = code + pc->off; vmbreak; }
	JMP_ALL(64, uint64_t, int64_t)
	JMP_ALL(32, uint32_t, int32_t)
	vmcase(MAY_GOTO) {
		if (loops_left == 0) {
			pc = code + pc->off;
			vmbreak;
		}
		loops_left--;
		NEXT();
	}

	vmcase(CALL_HELPER) {
		reg[0] = pc->fn(ex, reg[1], reg[2], reg[3], reg[4], reg[5]);
		if (unlikely(ex->exit_now))
			goto out_done;
		NEXT();
	}
	vmcase(CALLX) {
		ret = run_callx(p, ex, pc, reg, (size_t)(pc - code));
		if (unlikely(ret))
			return ret;
		if (unlikely(ex->exit_now))
			goto out_done;
		NEXT();
	}
	vmcase(CALL_LOCAL) {
		struct call_frame *f;

		if (unlikely(depth + 1 >= UA_MAX_CALL_DEPTH))
			goto out_depth;
		f = &frames[depth++];
		f->ret = pc + 1;
		memcpy(f->saved, &reg[6], sizeof(f->saved));
		f->loops_left = loops_left;
		loops_left = UA_MAY_GOTO_BUDGET;
		reg[10] -= UA_STACK_SIZE;
		/* The new frame becomes accessible; zeroed the first time this run
		 * reaches it, so a program only ever sees its own stale data. */
		env->stack_lo -= UA_STACK_SIZE;
		env->stack_len += UA_STACK_SIZE;
		ex->stack_lo = env->stack_lo; /* helpers' view of the active frames */
		if (env->stack_lo < env->zeroed_lo) {
			memset((void *)env->stack_lo, 0, UA_STACK_SIZE);
			env->zeroed_lo = env->stack_lo;
		}
		pc = code + pc->off;
		vmbreak;
	}
	vmcase(EXIT) {
		struct call_frame *f;

		if (depth == 0)
			goto out_done;
		f = &frames[--depth];
		memcpy(&reg[6], f->saved, sizeof(f->saved));
		reg[10] += UA_STACK_SIZE; /* r10 is read-only: the callee left it as set */
		env->stack_lo += UA_STACK_SIZE;
		env->stack_len -= UA_STACK_SIZE;
		ex->stack_lo = env->stack_lo;
		loops_left = f->loops_left;
		pc = f->ret;
		vmbreak;
	}
	vmcase(INVALID) {
		/* Unreachable: validation keeps jumps off ld_imm64's second slot. */
		UA_NEVER(1);
		return run_error(ex, -EFAULT, (size_t)(pc - code), "invalid internal op");
	}
	}
#if !INTERP_THREADED
	UA_NEVER(1);
	return run_error(ex, -EFAULT, (size_t)(pc - code), "invalid internal op %u", pc->op);
#endif

out_done:
	if (unlikely(ex->interp_abort))
		return ex->interp_abort; /* a callback failed inside a helper */
	*r0 = reg[0];
	return 0;
out_budget:
	return run_error(ex, -ETIME, (size_t)(pc - code),
			 "instruction budget of %llu exhausted",
			 (unsigned long long)(ex->insn_budget ? ex->insn_budget
							      : UA_DEFAULT_INSN_BUDGET));
out_depth:
	return run_error(ex, -E2BIG, (size_t)(pc - code),
			 "the call stack of %u frames is too deep", depth + 2);
out_no_arena:
	return run_error(ex, -EINVAL, (size_t)(pc - code),
			 "arena access but no arena is attached to the run");
out_fault:
	return mem_fault(ex, env, pc, reg, (size_t)(pc - code));
}

#undef vmdispatch
#undef vmcase
#undef vmbreak
#undef DST
#undef SRC
#undef IMM
#undef NEXT
#undef JUMP_IF
#undef ALU64_PAIR
#undef ALU32_PAIR
#undef JMP_PAIR
#undef JSET_PAIR
#undef JMP_ALL
#undef LOAD
#undef STORE
